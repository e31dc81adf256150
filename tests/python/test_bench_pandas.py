"""The benchmark's pandas peer (kpi_tooling/bench/pandas_peer.py) computes, from the demo raw
tables alone, exactly the peer KPIs of marts.fct_kpi_values (compare(): nothing missing, extra
or different), and converts site-local times to UTC as DuckDB does, DST gaps and overlaps
included."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import DEMO_AS_OF
from kpi_tooling.bench.compare import PEER_KPIS, compare
from kpi_tooling.bench.pandas_peer import local_to_utc, main


@pytest.fixture(scope="module")
def peer_db(module_warehouse_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The peer's command line run on the raw schema of (a copy of) the test warehouse."""
    out_db = tmp_path_factory.mktemp("bench_pandas") / "peer.duckdb"
    args = ["--raw-db", str(module_warehouse_copy), "--out-db", str(out_db)]
    assert main([*args, "--as-of", DEMO_AS_OF, "--schema", "raw"]) == 0
    return out_db


def test_pandas_peer_equals_the_mart(peer_db: Path, module_warehouse_copy: Path) -> None:
    con = duckdb.connect(str(peer_db))
    try:
        con.execute(f"attach '{module_warehouse_copy}' as warehouse (read_only)")
        result = compare(con, "pandas_kpi_values", expected="warehouse.marts.fct_kpi_values")
        kpis = {
            row[0]
            for row in con.execute("select distinct kpi_id from pandas_kpi_values").fetchall()
        }
    finally:
        con.close()
    assert result.expected_rows > 0
    assert (result.missing, result.extra, result.different) == (0, 0, 0), result.examples
    assert result.actual_rows == result.expected_rows
    assert result.equal
    assert kpis == set(PEER_KPIS)


def test_local_to_utc_matches_duckdb_across_dst_changes() -> None:
    """Every 17 minutes across the 2025 DST changes of the demo's zones and of zones whose
    changes fall at midnight (Santiago) or move by 30 minutes (Lord Howe)."""
    zones = [
        "America/Chicago",
        "Europe/Berlin",
        "Asia/Shanghai",
        "America/Los_Angeles",
        "Europe/London",
        "America/Santiago",
        "Australia/Lord_Howe",
    ]
    moments = pd.date_range("2025-01-01", "2026-01-01", freq="17min")
    frame = pd.DataFrame(
        {
            "local": pd.Series(moments).repeat(len(zones)).reset_index(drop=True),
            "tz": zones * len(moments),
        }
    )
    frame["peer_utc"] = local_to_utc(frame["local"], frame["tz"])
    con = duckdb.connect()
    try:
        con.execute("set timezone = 'UTC'")
        con.register("frame", frame)
        differing = con.execute(
            "select count(*) from frame "
            "where timezone('UTC', timezone(tz, local)) is distinct from peer_utc"
        ).fetchone()[0]
    finally:
        con.close()
    assert differing == 0
