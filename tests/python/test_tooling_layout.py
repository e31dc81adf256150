"""The tooling's layout: a package per concern, one error type, one place for each default.

- every module sits in a package by concern (``kpi_tooling/<concern>/``); only ``__init__``,
  ``errors`` and ``config`` are flat;
- exception classes are defined in ``kpi_tooling/errors.py`` only, all under ``ToolingError``;
- a default that dbt also has (a var of ``dbt_project.yml``, a model folder's ``+schema``, the
  demo's pinned ``as_of``) is read from ``kpi_tooling.config``, never written again as a literal;
- every ``python -m kpi_tooling.<module>`` / ``kpi_tooling/<path>.py`` the repository mentions
  exists.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import json
import re
from pathlib import Path

import pytest

from conftest import ROOT
from kpi_tooling import config, errors

TOOLING = ROOT / "kpi_tooling"
FLAT_ALLOWED = {"__init__.py", "errors.py", "config.py"}
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
# Names that hold a default dbt also declares: DEFAULT_*, *_SCHEMA(S), *_ROLE(S), *AS_OF.
DEFAULT_NAME = re.compile(r"^(DEFAULT_\w+|\w*_SCHEMAS?|\w*_ROLES?|\w*AS_OF)$")


def tooling_modules() -> list[Path]:
    return sorted(TOOLING.rglob("*.py"))


def exception_classes(source: str) -> list[str]:
    """Classes whose base is a built-in exception or a name ending in Error/Exception."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for base in node.bases:
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name in BUILTIN_EXCEPTIONS or name.endswith(("Error", "Exception")):
                found.append(node.name)
                break
    return found


def literal_strings(node: ast.expr) -> list[str]:
    """The string literals of a constant or of a tuple/list of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List):
        return [s for item in node.elts for s in literal_strings(item)]
    return []


def dbt_defaults() -> dict[str, str]:
    """Every string default dbt declares, by where: vars, model schemas, the demo's as_of."""
    found = {
        f"var {name}": value
        for name, value in config.project()["vars"].items()
        if isinstance(value, str) and "{{" not in value
    }
    for folder, settings in config.project()["models"][config.PROJECT_NAME].items():
        if isinstance(settings, dict) and "+schema" in settings:
            found[f"models/{folder} +schema"] = settings["+schema"]
    found["demo as_of (Makefile DEMO_VARS)"] = config.DEMO_AS_OF
    return found


def duplicated_defaults(source: str) -> list[str]:
    """Module-level default constants whose literal restates a default of dbt_project.yml."""
    values = dbt_defaults()
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        for name in names:
            if not DEFAULT_NAME.match(name):
                continue
            for literal in literal_strings(node.value):
                found += [
                    f"{name} = {literal!r} ({where})" for where, v in values.items() if v == literal
                ]
    return found


def test_only_errors_config_and_packages_are_flat() -> None:
    flat = sorted(p.name for p in TOOLING.glob("*.py") if p.name not in FLAT_ALLOWED)
    assert not flat, f"modules flat in kpi_tooling/ (move them into a package by concern): {flat}"
    for package in (p for p in TOOLING.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert (package / "__init__.py").exists(), f"{package} is not a package"


def test_exception_classes_are_defined_in_errors_only() -> None:
    outside = {
        str(path.relative_to(ROOT)): classes
        for path in tooling_modules()
        if path.name != "errors.py" and (classes := exception_classes(path.read_text()))
    }
    assert not outside, f"exception classes outside kpi_tooling/errors.py: {outside}"


def test_every_tooling_error_is_a_tooling_error() -> None:
    defined = exception_classes((TOOLING / "errors.py").read_text())
    assert "ToolingError" in defined and len(defined) > 1
    for name in defined:
        assert issubclass(getattr(errors, name), errors.ToolingError), name


def test_the_checks_can_fail() -> None:
    assert exception_classes("class Oops(ValueError):\n    pass\n") == ["Oops"]
    assert exception_classes("class Gone(psycopg2.Error):\n    pass\n") == ["Gone"]
    assert exception_classes("class Plan:\n    pass\n") == []
    assert duplicated_defaults('DEFAULT_READER_ROLES = ("kpi_reader",)\n') == [
        "DEFAULT_READER_ROLES = 'kpi_reader' (var serving_reader_role)"
    ]
    assert duplicated_defaults('MART_SCHEMA = "marts"\n') == [
        "MART_SCHEMA = 'marts' (models/marts +schema)"
    ]
    assert duplicated_defaults('FINAL_AS_OF = "2026-01-01 00:00:00"\n')
    assert duplicated_defaults("RAW_SCHEMA = config.dbt_var('output_kpis_raw_schema')\n") == []
    assert mentions_a_module(["publish", "duckdb_file", "connect_served"])
    assert not mentions_a_module(["publish", "connect_served"])
    assert not mentions_a_module(["validate"])


def test_no_default_restates_dbt_project_yml() -> None:
    found = {
        str(path.relative_to(ROOT)): hits
        for path in tooling_modules()
        if path.name != "config.py" and (hits := duplicated_defaults(path.read_text()))
    }
    assert not found, f"defaults written again (read them from kpi_tooling.config): {found}"


def test_reader_role_and_schemas_come_from_dbt_project_yml() -> None:
    from kpi_tooling.publish import duckdb_file, postgres

    assert (config.dbt_var("serving_reader_role"),) == postgres.DEFAULT_READER_ROLES
    assert (
        config.project()["models"]["output_kpis"]["marts"]["+schema"],
        config.project()["models"]["output_kpis"]["serving"]["+schema"],
    ) == postgres.DEFAULT_SCHEMAS
    assert postgres.DEFAULT_SCHEMAS[0] == duckdb_file.MART_SCHEMA
    assert config.dbt_var("output_kpis_raw_schema") == config.RAW_SCHEMA


def test_makefile_pins_the_same_demo_as_of() -> None:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^DEMO_VARS \?= (.+)$", makefile, re.MULTILINE)
    assert match, "Makefile has no DEMO_VARS"
    assert json.loads(match.group(1)) == {"as_of": config.DEMO_AS_OF}


def test_unknown_var_is_a_setup_error() -> None:
    with pytest.raises(errors.SetupError, match="not declared"):
        config.dbt_var("no_such_var")


MENTION_FILES = [
    ROOT / "Makefile",
    ROOT / "README.md",
    *(ROOT / "docs").rglob("*.md"),
    *(ROOT / "docs").rglob("*.json"),
    *(ROOT / "tests" / "python").glob("*.py"),
    *(ROOT / "integration_tests").rglob("*.md"),
    *(ROOT / "models").rglob("*.yml"),
    *(ROOT / "models").rglob("*.sql"),
    *(ROOT / "macros").rglob("*"),
    *tooling_modules(),
]
DOTTED = re.compile(r"\bkpi_tooling((?:\.[a-z_]+)+)")
SLASHED = re.compile(r"\bkpi_tooling/([a-z_/]+\.(?:py|sql))")


def mentions_a_module(parts: list[str]) -> bool:
    """``kpi_tooling.<parts>`` is a package, a module, or a module's attribute (the packages'
    ``__init__`` define nothing, so ``kpi_tooling.publish.connect_served`` is stale)."""
    for n in range(len(parts), 0, -1):
        where = TOOLING / "/".join(parts[:n])
        if where.with_suffix(".py").exists():
            return importlib.util.find_spec("kpi_tooling." + ".".join(parts[:n])) is not None
        if (where / "__init__.py").exists():
            return n == len(parts)
    return False


def test_every_mentioned_module_exists() -> None:
    missing = set()
    for path in MENTION_FILES:
        if not path.is_file() or path == Path(__file__):
            continue
        text = path.read_text(errors="replace")
        for dotted in DOTTED.findall(text):
            if not mentions_a_module(dotted.strip(".").split(".")):
                missing.add(f"{path.relative_to(ROOT)}: kpi_tooling{dotted}")
        for slashed in SLASHED.findall(text):
            if not (TOOLING / slashed).exists():
                missing.add(f"{path.relative_to(ROOT)}: kpi_tooling/{slashed}")
    assert not missing, "stale tooling paths:\n" + "\n".join(sorted(missing))
