"""A DuckDB run whose large models, built side by side (one per dbt thread), would need more
than DuckDB's memory_limit stops before any model, saying what to set (on-run-start hook
check_memory_budget, calibrated by make bench: docs/PERFORMANCE.md, "Memory")."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import yaml

from conftest import ROOT, run_dbt

# The calibration, read from the macro that holds it (macros/warehouse.sql).
BYTES_PER_ROW = int(
    re.search(
        r"macro memory_bytes_per_raw_row\(\).*?return\((\d+)\)",
        (ROOT / "macros" / "warehouse.sql").read_text(),
        re.S,
    ).group(1)
)


def _profiles(directory: Path, threads: int, memory_limit: str) -> Path:
    profiles = yaml.safe_load((ROOT / "profiles.example.yml").read_text())
    target = profiles["output_kpis"]["outputs"]["duckdb"]
    target["threads"] = threads
    target["settings"]["memory_limit"] = memory_limit
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.yml").write_text(yaml.safe_dump(profiles))
    return directory


def _largest_raw_table(db: Path) -> tuple[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw'"
        ).fetchall()
        counts = {
            name: con.execute(f"select count(*) from raw.{name}").fetchone()[0]
            for (name,) in tables
        }
    name = max(counts, key=counts.__getitem__)
    return name, counts[name]


def _run(db: Path, tmp_path: Path, threads: int, memory_limit: str) -> str:
    """`dbt run` of the smallest model under a profile with these threads and memory_limit;
    its output (the check runs on start, before any model)."""
    result = run_dbt(
        ["run", "--select", "+stg_mes__sites"],
        db_path=db,
        target_path=tmp_path / "target",
        profiles_dir=_profiles(tmp_path / "profiles", threads, memory_limit),
        check=False,
    )
    stopped = "not enough memory" in result.stdout
    assert (result.returncode != 0) == stopped, result.stdout[-2000:]
    return result.stdout


def test_a_run_that_would_not_fit_stops_before_any_model(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    table, rows = _largest_raw_table(warehouse_copy)
    # room for one large model, not for two
    out = _run(warehouse_copy, tmp_path, 2, f"{int(rows * BYTES_PER_ROW / 1e6 * 1.5) + 1}MB")
    assert f"not enough memory for 2 dbt thread(s): raw table {table} has {rows:,} rows" in out
    assert "Set `threads: 1` in the profile" in out
    assert "1 of 1 OK created" not in out


def test_a_run_that_one_model_would_not_fit_says_what_memory_to_set(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    _, rows = _largest_raw_table(warehouse_copy)
    out = _run(warehouse_copy, tmp_path, 1, f"{int(rows * BYTES_PER_ROW / 1e6 / 2)}MB")
    assert "not enough memory for 1 dbt thread(s)" in out
    assert "its largest models need about 0.0 GiB" in out
    assert "Raise the profile's `settings: {memory_limit: ...}` to at least 1GiB" in out


def test_a_run_that_fits_is_not_stopped(warehouse_copy: Path, tmp_path: Path) -> None:
    _, rows = _largest_raw_table(warehouse_copy)
    # two large models side by side fit (the demo's 85k rows need ~34MB)
    out = _run(warehouse_copy, tmp_path, 2, f"{int(rows * BYTES_PER_ROW * 2 / 1e6) + 64}MB")
    assert "not enough memory" not in out
