"""dbt-project-evaluator-style hygiene, read from the parsed manifest: every model is described
and has a primary-key test, no mart or serving view reads staging, and a model whose SQL is only a
macro call says why in a comment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kpi_tooling.core.raw_tables import declaration

# One row per raw row, and a raw row has no key the package can trust (quarantine exists for
# raw rows whose key is missing or duplicated): no column set is unique by construction.
# Their identity test is singular instead: raw rows = counted + excluded + quarantined
# (tests/staging/assert_raw_rows_reconcile.sql, tests/marts/assert_raw_rows_accounted_for.sql).
# The base models (every raw row of a table, kpi_tooling/core/raw_tables.yml) are of that kind.
KEYLESS = frozenset(
    {"stg_quarantine__rows", "int_governance__unit_dispositions"}
    | {table.base_model for table in declaration().source_tables().values()}
)

# Multi-column uniqueness of the package (macros/generic_tests.sql).
COMBINATION_TEST = "unique_combination"
PUBLIC_PREFIXES = ("models/marts/", "models/serving/")

# What may sit beside the macro calls of a "macro-only" model: comments, config(), Jinja
# statements and import CTEs (`name as (select * from {{ ref(...) }})`).
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
SQL_COMMENT = re.compile(r"--[^\n]*")
CONFIG_CALL = re.compile(r"\{\{\s*config\(.*?\)\s*\}\}", re.S)
JINJA_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
IMPORT_CTE = re.compile(r"\w+\s+as\s+\(\s*select\s+\*\s+from\s+\{\{[^}]*\}\}[^()]*\)", re.S)
EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
MACRO_NAME = re.compile(r"^\s*(?:\w+\.)?(\w+)\(")


@pytest.fixture(scope="module")
def manifest(parsed_manifest: Path) -> dict:
    return json.loads(parsed_manifest.read_text())


@pytest.fixture(scope="module")
def models(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "output_kpis"
    ]


def primary_key_tests(manifest: dict) -> dict[str, set[str]]:
    """Model unique_id -> the key tests on it: 'unique:<column>', 'not_null:<column>' and
    'combination'."""
    keys: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        name = (node.get("test_metadata") or {}).get("name")
        column = node.get("column_name")
        found = keys.setdefault(node["attached_node"], set())
        if name == COMBINATION_TEST:
            found.add("combination")
        elif name in ("unique", "not_null") and column:
            found.add(f"{name}:{column}")
    return keys


def has_primary_key_test(tests: set[str]) -> bool:
    if "combination" in tests:
        return True
    unique = {test.split(":", 1)[1] for test in tests if test.startswith("unique:")}
    not_null = {test.split(":", 1)[1] for test in tests if test.startswith("not_null:")}
    return bool(unique & not_null)


def called_macros(raw_code: str) -> list[str] | None:
    """The macros a model's SQL consists of, when apart from comments, config(), Jinja
    statements and import CTEs it is nothing but macro calls; else None."""
    code = JINJA_COMMENT.sub("", raw_code)
    code = SQL_COMMENT.sub("", code)
    code = JINJA_STATEMENT.sub("", CONFIG_CALL.sub("", code))
    code = IMPORT_CTE.sub("", code)
    expressions = EXPRESSION.findall(code)
    if re.sub(r"\bwith\b|[\s,]", "", EXPRESSION.sub("", code)):
        return None
    names = [MACRO_NAME.match(expression) for expression in expressions]
    if not names or not all(names):
        return None
    return [name.group(1) for name in names if name]


def comments(raw_code: str) -> str:
    return "\n".join(JINJA_COMMENT.findall(raw_code) + SQL_COMMENT.findall(raw_code))


def test_every_model_is_described(models: list[dict]) -> None:
    undescribed = sorted(node["name"] for node in models if not node["description"].strip())
    assert not undescribed, f"models without a description: {undescribed}"


def test_every_model_has_a_primary_key_test(manifest: dict, models: list[dict]) -> None:
    keys = primary_key_tests(manifest)
    missing = sorted(
        node["name"]
        for node in models
        if not has_primary_key_test(keys.get(node["unique_id"], set()))
        and node["name"] not in KEYLESS
    )
    assert not missing, (
        f"models without a primary-key test (unique + not_null on one column, or "
        f"{COMBINATION_TEST}): {missing}"
    )


def test_no_public_model_reads_staging(manifest: dict, models: list[dict]) -> None:
    staging = {
        node["unique_id"]
        for node in models
        if node["original_file_path"].startswith("models/staging/")
    }
    offenders = sorted(
        f"{node['name']} -> {manifest['nodes'][parent]['name']}"
        for node in models
        if node["original_file_path"].startswith(PUBLIC_PREFIXES)
        for parent in node["depends_on"]["nodes"]
        if parent in staging
    )
    assert not offenders, f"marts or serving views reading staging: {offenders}"


def test_macro_only_models_say_why(models: list[dict]) -> None:
    """A model that is only macro calls hides its SQL: its comment names each macro (where the
    SQL is) and says why the SQL is shared rather than written in the model."""
    macro_only = {
        node["name"]: (macros, comments(node["raw_code"]))
        for node in models
        if (macros := called_macros(node["raw_code"]))
    }
    assert macro_only, "no model is only macro calls: the check has lost its subject"
    silent = sorted(
        f"{name} ({', '.join(m for m in macros if m not in text)})"
        for name, (macros, text) in macro_only.items()
        if any(m not in text for m in macros) or not re.search(r"\bshared\b|\bsame\b", text)
    )
    assert not silent, (
        "models that are only macro calls without a comment naming the macro and saying why "
        f"the SQL is shared (missing names in brackets): {silent}"
    )


@pytest.mark.parametrize(
    ("raw_code", "macros"),
    [
        ("{{ output_kpis.pivot_kpi_values(['a']) }}\n", ["pivot_kpi_values"]),
        ("{#- why -#}\n{{ config(materialized='view') }}\n{{ m(x, y) }}", ["m"]),
        (
            "with a as (\n    select * from {{ ref('x') }}\n),\n\n{{ r('a') }},\n\n{{ i('k') }}",
            ["r", "i"],
        ),
        ("with a as (select 1) select * from a", None),
        ("{{ m() }}\nunion all\n{{ n() }}", None),
        ("select {{ m() }} as x", None),
    ],
)
def test_macro_only_detection(raw_code: str, macros: list[str] | None) -> None:
    assert called_macros(raw_code) == macros


def test_primary_key_detection() -> None:
    assert has_primary_key_test({"combination"})
    assert has_primary_key_test({"unique:id", "not_null:id"})
    assert not has_primary_key_test({"unique:id", "not_null:other"})
    assert not has_primary_key_test(set())
