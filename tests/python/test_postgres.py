"""The same models on PostgreSQL: the demo builds with every data and unit test passing, and the
public marts hold the same rows as the DuckDB build.

Every row of marts.fct_kpi_values and marts.fct_outcome_values is compared between the two
engines, both ways: key columns equal, numerator and denominator equal, value within 1e-9.
Columns that record when a row was built (rebuilt_at) are ignored. Skips when Postgres is not
reachable (fails under CI=true): see the `postgres` fixture in conftest.py.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from psycopg2 import sql

from conftest import PgBuild, Warehouse
from kpi_tooling.core.pg import PgSettings

PUBLIC_MARTS = ("fct_kpi_values", "fct_outcome_values")
BUILD_TIME_COLUMNS = frozenset({"rebuilt_at"})  # differ between any two builds
EXACT_NUMBERS = ("numerator", "denominator")
VALUE_TOLERANCE = 1e-9

Row = dict[str, Any]


def duckdb_rows(db: Path, mart: str) -> list[Row]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(f"select * from marts.{mart}")
        names = [column[0] for column in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def postgres_rows(settings: PgSettings, schema: str, mart: str) -> list[Row]:
    con = settings.connect()
    try:
        with con.cursor() as cur:
            cur.execute(sql.SQL("select * from {}.{}").format(*map(sql.Identifier, (schema, mart))))
            names = [column[0] for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _same_number(left: Any, right: Any, tolerance: float) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return math.isclose(left, right, rel_tol=0.0, abs_tol=tolerance)


def row_differences(left: list[Row], right: list[Row]) -> tuple[int, int, list[str]]:
    """(rows of left with no equal row in right, the same the other way, a few examples).

    Rows pair up on every column but the numbers; a pair is equal when numerator and
    denominator are equal and value is within VALUE_TOLERANCE. Multisets: a duplicate counts.
    """
    numbers = (*EXACT_NUMBERS, "value")
    key_columns = [c for c in left[0] if c not in numbers and c not in BUILD_TIME_COLUMNS]

    def key(row: Row) -> tuple:
        return tuple(row[c] for c in key_columns)

    pending: dict[tuple, list[Row]] = {}
    for row in right:
        pending.setdefault(key(row), []).append(row)
    only_left, examples = 0, []
    for row in left:
        candidates = pending.get(key(row), [])
        match = next(
            (
                other
                for other in candidates
                if all(_same_number(row[c], other[c], 0.0) for c in EXACT_NUMBERS)
                and _same_number(row["value"], other["value"], VALUE_TOLERANCE)
            ),
            None,
        )
        if match is None:
            only_left += 1
            if len(examples) < 5:
                closest = candidates[0] if candidates else None
                examples.append(f"{row} vs {closest}")
        else:
            candidates.remove(match)
    only_right = sum(len(rows) for rows in pending.values())
    return only_left, only_right, examples


def test_demo_builds_on_postgres_with_every_data_and_unit_test_passing(
    pg_build: PgBuild, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(f"\nPostgres demo build, seconds: {pg_build.seconds}")
    manifest = json.loads(pg_build.manifest.read_text())
    results = json.loads(pg_build.run_results.read_text())["results"]
    statuses = Counter(result["status"] for result in results)
    assert set(statuses) <= {"success", "pass"}, statuses
    ran = {result["unique_id"] for result in results}
    assert set(manifest["unit_tests"]) <= ran and len(manifest["unit_tests"]) > 0
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    schemas = {n["schema"] for n in models}
    assert {"build_staging", "build_intermediate", "build_marts"} <= schemas
    assert all(schema.startswith("build_") for schema in schemas), schemas
    seeds = {n["schema"] for n in manifest["nodes"].values() if n["resource_type"] == "seed"}
    assert seeds == {"raw", "build_reference"}  # raw is input: sources read it as named


@pytest.mark.parametrize("mart", PUBLIC_MARTS)
def test_postgres_marts_equal_the_duckdb_build_row_for_row(
    mart: str, pg_published: PgBuild, warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    """pg_published first: when Postgres is unreachable, skip before building DuckDB."""
    on_duckdb = duckdb_rows(warehouse.db_path, mart)
    on_postgres = postgres_rows(pg_published.settings, "marts", mart)
    assert on_duckdb and on_postgres
    assert set(on_duckdb[0]) - BUILD_TIME_COLUMNS == set(on_postgres[0]) - BUILD_TIME_COLUMNS
    only_duckdb, only_postgres, examples = row_differences(on_duckdb, on_postgres)
    with capsys.disabled():
        print(
            f"\n{mart}: {len(on_duckdb)} rows on DuckDB, {len(on_postgres)} on Postgres; "
            f"{only_duckdb} only on DuckDB, {only_postgres} only on Postgres"
        )
    assert (only_duckdb, only_postgres) == (0, 0), "\n".join(examples)
    assert len(on_duckdb) == len(on_postgres)


def test_row_comparison_sees_a_changed_value_and_a_missing_row() -> None:
    """The comparison can fail: a value off by more than the tolerance, a row missing."""
    row = {"kpi_id": "k", "grain": "day", "numerator": 3.0, "denominator": 4.0, "value": 0.75}
    assert row_differences([row], [dict(row, value=0.75 + 5e-10)]) == (0, 0, [])
    assert row_differences([row], [dict(row, value=0.75 + 1e-8)])[:2] == (1, 1)
    assert row_differences([row], [dict(row, numerator=3.0000001)])[:2] == (1, 1)
    assert row_differences([row, dict(row, grain="week")], [row])[:2] == (1, 0)
    assert row_differences([row], [row, row])[:2] == (0, 1)
