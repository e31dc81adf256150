"""Read the unit-of-output suites in ``expectations/*.json`` (plain JSON, no GE import).

A suite file is the executable definition of one unit model:
``{"name", "meta": {"model", "key_column", "kpis", "unit_of_output_from"}, "expectations":
[...]}`` where each expectation is ``{"type", "kwargs", "meta": {"rule", "kpi"}}``.

The unit's definition text is written once, not in the suite: ``unit_of_output_from`` names
the KPI (one of ``kpis``) whose ``unit_of_output`` states it - a row of the registry seed
(seeds/reference/kpi_registry.csv, a KPI whose logic is SQL) or a declared KPI (its unit's
``description``, read from the manifest). The runner fills the text in at run time
(``resolve_definition``). A suite written elsewhere (a test, a project's own folder) may
instead carry its text literally as ``unit_of_output``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from kpi_tooling.errors import SuiteFileError

REQUIRED_SUITE_META = ("model", "key_column", "kpis")
DEFINITION_META = ("unit_of_output_from", "unit_of_output")  # one of them
REQUIRED_EXPECTATION_META = ("rule", "kpi")
REGISTRY_PATH = Path("seeds", "reference", "kpi_registry.csv")
# The package this tooling ships with: its registry, when a suites folder has none beside it.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SuiteSpec:
    """One suite file, as written."""

    name: str
    model: str
    key_column: str
    kpis: list[str]
    unit_of_output: str
    expectations: list[dict[str, Any]]
    path: Path
    # the rows of the model the suite is about (a generated suite: its unit's), for the count
    row_filter: str | None = None
    # the KPI whose registry entry (or declaration) defines the unit; the text is filled in
    # from there by resolve_definition (None: the text came with the suite)
    unit_of_output_from: str | None = None


def _check_shape(raw: dict[str, Any], path: Path) -> None:
    meta = raw.get("meta", {})
    missing = [key for key in REQUIRED_SUITE_META if key not in meta]
    if "name" not in raw or missing:
        raise SuiteFileError(f"{path}: needs 'name' and meta keys {list(REQUIRED_SUITE_META)}")
    if sum(key in meta for key in DEFINITION_META) != 1:
        raise SuiteFileError(f"{path}: needs exactly one of meta keys {list(DEFINITION_META)}")
    source = meta.get("unit_of_output_from")
    if source is not None and source not in meta["kpis"]:
        raise SuiteFileError(
            f"{path}: meta unit_of_output_from {source!r} is not one of its kpis {meta['kpis']}"
        )
    for index, item in enumerate(raw.get("expectations", [])):
        item_meta = item.get("meta", {})
        if "type" not in item or any(key not in item_meta for key in REQUIRED_EXPECTATION_META):
            needs = list(REQUIRED_EXPECTATION_META)
            raise SuiteFileError(f"{path}: expectation #{index} needs 'type' and meta {needs}")


def load_suite(path: Path) -> SuiteSpec:
    """Read and check one suite file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteFileError(f"cannot read suite {path}: {exc}") from exc
    _check_shape(raw, path)
    meta = raw["meta"]
    return SuiteSpec(
        name=raw["name"],
        model=meta["model"],
        key_column=meta["key_column"],
        kpis=list(meta["kpis"]),
        unit_of_output=meta.get("unit_of_output", ""),
        expectations=list(raw.get("expectations", [])),
        path=path,
        unit_of_output_from=meta.get("unit_of_output_from"),
    )


def registry_definitions(registry: Path) -> dict[str, str]:
    """kpi_id -> unit_of_output of every row of the registry seed."""
    try:
        with registry.open(newline="", encoding="utf-8") as handle:
            return {row["kpi_id"]: row["unit_of_output"] for row in csv.DictReader(handle)}
    except (OSError, KeyError) as exc:
        raise SuiteFileError(f"cannot read the KPI registry {registry}: {exc}") from exc


def declared_definitions(declarations: list[dict[str, Any]]) -> dict[str, str]:
    """kpi_id -> its unit's description, for every declared KPI (macro declared_registry_rows
    gives the hub the same text as unit_of_output)."""
    return {
        kpi["kpi_id"]: decl.get("description") or decl["unit_id"]
        for decl in declarations
        for kpi in decl.get("kpis") or []
    }


def builtin_definitions(project_file: Path) -> dict[str, str]:
    """kpi_id -> its unit's description for the package's own declared KPIs (var
    output_kpis_builtin_units of its dbt_project.yml), the declarations its suite files may
    name; the manifest's normalised declarations, when there are any, give the same text."""
    try:
        config = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteFileError(f"cannot read {project_file}: {exc}") from exc
    units = (config.get("vars") or {}).get("output_kpis_builtin_units") or {}
    return declared_definitions(
        [
            {**unit, "unit_id": unit_id, "kpis": [{"kpi_id": k} for k in unit.get("kpis") or {}]}
            for unit_id, unit in units.items()
        ]
    )


def package_root(suites_dir: Path) -> Path:
    """The package a suites folder ships with (``<package>/expectations``: its registry seed
    and dbt_project.yml beside it), else the package this tooling belongs to."""
    root = suites_dir.resolve().parent
    return root if (root / REGISTRY_PATH).is_file() else PACKAGE_ROOT


def resolve_definition(spec: SuiteSpec, definitions: dict[str, str]) -> SuiteSpec:
    """The suite with its unit-of-output text read from where the unit is defined."""
    if spec.unit_of_output_from is None:
        return spec
    text = definitions.get(spec.unit_of_output_from)
    if text is None:
        raise SuiteFileError(
            f"{spec.path}: meta unit_of_output_from names {spec.unit_of_output_from!r}, a KPI "
            "neither the registry seed nor a declaration in the manifest defines"
        )
    return replace(spec, unit_of_output=text)


def suite_paths(suites_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Suite files to run: all ``*.json`` in the folder, or only the named ones."""
    if not suites_dir.is_dir():
        raise SuiteFileError(f"suites folder not found: {suites_dir}")
    if not names:
        return sorted(suites_dir.glob("*.json"))
    paths = [suites_dir / f"{name.removesuffix('.json')}.json" for name in names]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise SuiteFileError(f"suite file(s) not found: {', '.join(missing)}")
    return paths
