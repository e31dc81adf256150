"""The benchmark's hand-written DuckDB limit (kpi_tooling/bench/limit.sql) computes the same
public KPI values as the dbt build: compare() finds no row missing, extra or different."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import Warehouse
from kpi_tooling.bench.compare import PEER_KPIS, Comparison, compare
from kpi_tooling.bench.limit import RESULT_TABLE, run_limit
from kpi_tooling.core.grains import known_grains


def build_as_of(warehouse: Warehouse) -> str:
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    try:
        (as_of,) = con.execute("select distinct as_of_at from marts.fct_kpi_values").fetchone()
    finally:
        con.close()
    return as_of.strftime("%Y-%m-%d %H:%M:%S")


def compare_with_mart(out_db: Path, warehouse: Warehouse, actual: str = RESULT_TABLE) -> Comparison:
    con = duckdb.connect(str(out_db))
    try:
        con.execute(f"attach '{warehouse.db_path}' as build (read_only)")
        return compare(con, actual, "build.marts.fct_kpi_values")
    finally:
        con.close()


@pytest.fixture(scope="module")
def limit_db(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_db = tmp_path_factory.mktemp("limit") / "limit.duckdb"
    seconds = run_limit(warehouse.db_path, out_db, build_as_of(warehouse))
    assert seconds > 0
    return out_db


def test_limit_equals_the_mart(limit_db: Path, warehouse: Warehouse) -> None:
    result = compare_with_mart(limit_db, warehouse)
    assert result.equal, result
    assert result.expected_rows == result.actual_rows > 0


def test_limit_covers_every_peer_kpi_grain_and_dimension(limit_db: Path) -> None:
    con = duckdb.connect(str(limit_db), read_only=True)
    try:
        rows = con.execute(f"select distinct kpi_id from {RESULT_TABLE}").fetchall()
        kpis = {kpi_id for (kpi_id,) in rows}
        slices = con.execute(
            f"select count(distinct (kpi_id, grain, dimension_name)) from {RESULT_TABLE}"
        ).fetchone()[0]
    finally:
        con.close()
    assert kpis == set(PEER_KPIS)
    # every known grain x (overall, site, line | segment)
    assert slices == len(PEER_KPIS) * len(known_grains()) * 3


def test_a_wrong_value_is_detected(limit_db: Path, warehouse: Warehouse, tmp_path: Path) -> None:
    """The check is not vacuous: one numerator off by one unit is reported."""
    copy = tmp_path / "perturbed.duckdb"
    con = duckdb.connect(str(copy))
    try:
        con.execute(f"attach '{limit_db}' as limit_run (read_only)")
        con.execute(f"create table {RESULT_TABLE} as select * from limit_run.{RESULT_TABLE}")
        con.execute(
            f"update {RESULT_TABLE} set numerator = numerator + 1 where kpi_id = 'good_units' "
            "and grain = 'month' and dimension_name = 'overall' and period_start = "
            f"(select max(period_start) from {RESULT_TABLE} where grain = 'month')"
        )
    finally:
        con.close()
    result = compare_with_mart(copy, warehouse)
    assert not result.equal
    assert (result.missing, result.extra, result.different) == (0, 0, 1)


def test_another_as_of_is_detected(warehouse: Warehouse, tmp_path: Path) -> None:
    """The limit really reads as_of: a day earlier loses the last day and changes others."""
    as_of = duckdb.sql(f"select (timestamp '{build_as_of(warehouse)}' - interval 1 day)::varchar")
    out_db = tmp_path / "earlier.duckdb"
    run_limit(warehouse.db_path, out_db, as_of.fetchone()[0])
    result = compare_with_mart(out_db, warehouse)
    assert not result.equal
    assert result.missing > 0 and result.different > 0
