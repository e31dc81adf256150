"""Read the unit-of-output suites in ``expectations/*.json`` (plain JSON, no GE import).

A suite file is the executable definition of one unit model:
``{"name", "meta": {"model", "key_column", "kpis", "unit_of_output"}, "expectations": [...]}``
where each expectation is ``{"type", "kwargs", "meta": {"rule", "kpi"}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpi_tooling.errors import SuiteFileError

REQUIRED_SUITE_META = ("model", "key_column", "kpis", "unit_of_output")
REQUIRED_EXPECTATION_META = ("rule", "kpi")


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


def _check_shape(raw: dict[str, Any], path: Path) -> None:
    meta = raw.get("meta", {})
    missing = [key for key in REQUIRED_SUITE_META if key not in meta]
    if "name" not in raw or missing:
        raise SuiteFileError(f"{path}: needs 'name' and meta keys {list(REQUIRED_SUITE_META)}")
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
        unit_of_output=meta["unit_of_output"],
        expectations=list(raw.get("expectations", [])),
        path=path,
    )


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
