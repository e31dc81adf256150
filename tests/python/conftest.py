"""Shared fixtures: a real dbt build of the demo data on DuckDB.

`make test` builds the warehouse first and exports OUTPUT_KPIS_TEST_WAREHOUSE and
OUTPUT_KPIS_TEST_MANIFEST so the suite reads that build; run alone, pytest builds its own copy
into a temporary directory (about a minute).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_AS_OF = "2026-01-01 00:00:00"
DEMO_VARS = '{"as_of": "' + DEMO_AS_OF + '"}'
# What `make build` builds after the seeds: selecting by type keeps the tests that read a seed
# (excluding resource_type:seed would drop them too).
BUILD_SELECT = ["--select", "resource_type:model", "resource_type:test", "resource_type:unit_test"]


@dataclass(frozen=True)
class Warehouse:
    db_path: Path
    manifest_path: Path


def write_profiles(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "profiles.example.yml", directory / "profiles.yml")
    return directory


def run_dbt(
    args: list[str],
    *,
    db_path: Path,
    target_path: Path,
    profiles_dir: Path,
    project_dir: Path = ROOT,
    dbt_vars: str = DEMO_VARS,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run the venv's dbt against a given DuckDB file; output captured for assertions."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "OUTPUT_KPIS_DUCKDB_PATH": str(db_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    cmd = [
        str(BIN / "dbt"),
        *args,
        "--project-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--vars",
        dbt_vars,
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-6000:]}")
    return result


@pytest.fixture(scope="session")
def profiles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profiles(tmp_path_factory.mktemp("profiles"))


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path) -> Warehouse:
    db = os.environ.get("OUTPUT_KPIS_TEST_WAREHOUSE")
    manifest = os.environ.get("OUTPUT_KPIS_TEST_MANIFEST")
    if db and manifest and Path(db).exists() and Path(manifest).exists():
        return Warehouse(Path(db), Path(manifest))
    build_dir = tmp_path_factory.mktemp("build")
    db_path = build_dir / "output_kpis.duckdb"
    target = build_dir / "target"
    common = {"db_path": db_path, "target_path": target, "profiles_dir": profiles_dir}
    run_dbt(["seed", "--full-refresh"], **common)
    run_dbt(["build", *BUILD_SELECT], **common)
    return Warehouse(db_path, target / "manifest.json")


@pytest.fixture
def warehouse_copy(warehouse: Warehouse, tmp_path: Path) -> Path:
    """A private copy of the built warehouse that a test may corrupt."""
    copy = tmp_path / "copy" / warehouse.db_path.name  # DuckDB names the catalog after the file
    copy.parent.mkdir()
    shutil.copy(warehouse.db_path, copy)
    return copy
