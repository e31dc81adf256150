"""The read-only BI role on PostgreSQL (var serving_reader_role, default kpi_reader): after a
real build and publish on the local server, the role can SELECT every serving view and nothing
else: no raw, staging, quarantine, intermediate or mart table, no write, no DDL. Skips when
PostgreSQL is unreachable, fails under CI=true (conftest's `postgres` fixture). Runs before
test_publish_postgres.py (file order), whose tests swap fake builds of marts in and out."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator

import duckdb
import psycopg2
import pytest
from psycopg2 import errors, sql

from conftest import PgBuild, Warehouse

ROLE = "kpi_reader"
SERVING_VIEWS = (
    "kpi_values",
    "kpi_status",
    "output_outcome_pairs",
    "output_trap_periods",
    "kpi_scorecard",
    "kpi_day_components",
)


@pytest.fixture(scope="module")
def reader(pg_published: PgBuild) -> Iterator[psycopg2.extensions.connection]:
    """A connection as the reader role; its password (if any) only from the environment."""
    settings = dataclasses.replace(
        pg_published.settings,
        user=ROLE,
        password=os.environ.get("OUTPUT_KPIS_READER_PASSWORD", ""),
    )
    con = settings.connect()
    con.autocommit = True
    yield con
    con.close()


@pytest.fixture(scope="module")
def other_relations(pg_published: PgBuild) -> list[tuple[str, str]]:
    """Every table and view of the database outside the serving schema (owner's view)."""
    con = pg_published.settings.connect()
    try:
        with con.cursor() as cur:
            cur.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema not in ('serving', 'pg_catalog', 'information_schema') "
                "order by 1, 2"
            )
            return cur.fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("view", SERVING_VIEWS)
def test_reader_selects_every_serving_view(
    reader: psycopg2.extensions.connection, view: str
) -> None:
    with reader.cursor() as cur:
        cur.execute(sql.SQL("select count(*) from serving.{}").format(sql.Identifier(view)))
        assert cur.fetchone()[0] > 0


def test_reader_reads_no_other_relation(
    reader: psycopg2.extensions.connection, other_relations: list[tuple[str, str]]
) -> None:
    schemas = {schema for schema, _ in other_relations}
    # the layers BI must not see are all there to be refused (raw keeps its name: it is input)
    assert {"marts", "build_intermediate", "build_staging", "build_reference", "raw"} <= schemas
    refused = []
    for schema, table in other_relations:
        with reader.cursor() as cur:
            try:
                cur.execute(
                    sql.SQL("select 1 from {}.{} limit 1").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    )
                )
            except errors.InsufficientPrivilege:
                refused.append((schema, table))
    allowed = sorted(set(other_relations) - set(refused))
    print(f"\n{len(refused)} relations outside serving refused to {ROLE}")
    assert allowed == []
    assert ("build_staging", "stg_quarantine__rows") in refused


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.fct_kpi_values (kpi_id) values ('x')",
        "update marts.fct_kpi_values set value = 0",
        "delete from marts.fct_kpi_status",
        "create table serving.scratch (x int)",
        "create view serving.scratch as select 1 as x",
        "drop view serving.kpi_values",
        "create table public.scratch (x int)",
        "create schema scratch",
        "truncate marts.fct_kpi_values",
    ],
)
def test_reader_cannot_write_or_change_anything(
    reader: psycopg2.extensions.connection, statement: str
) -> None:
    with reader.cursor() as cur, pytest.raises(errors.InsufficientPrivilege):
        cur.execute(statement)


@pytest.mark.parametrize("view", SERVING_VIEWS)
def test_reader_has_no_write_privilege_on_a_serving_view(
    reader: psycopg2.extensions.connection, view: str
) -> None:
    """Writes through a view fail anyway (not auto-updatable); the privileges say no too."""
    with reader.cursor() as cur:
        for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "SELECT"):
            cur.execute("select has_table_privilege(%s, %s)", [f"serving.{view}", privilege])
            assert cur.fetchone()[0] is (privilege == "SELECT"), (view, privilege)


def test_only_select_on_serving_is_granted(pg_published: PgBuild) -> None:
    """The catalogue agrees: the role's only table privileges are SELECT on serving views."""
    con = pg_published.settings.connect()
    try:
        with con.cursor() as cur:
            cur.execute(
                "select table_schema, table_name, privilege_type "
                "from information_schema.role_table_grants where grantee = %s",
                [ROLE],
            )
            grants = cur.fetchall()
            cur.execute(
                "select rolsuper, rolcreatedb, rolcreaterole, rolinherit "
                "from pg_roles where rolname = %s",
                [ROLE],
            )
            attributes = cur.fetchone()
    finally:
        con.close()
    assert {(s, t) for s, t, _ in grants} == {("serving", v) for v in SERVING_VIEWS}
    assert {p for _, _, p in grants} == {"SELECT"}
    assert attributes == (False, False, False, False)


def test_dashboard_reads_the_published_views_as_the_reader(
    pg_published: PgBuild, warehouse: Warehouse
) -> None:
    """The dashboard's Postgres mode, connected as the reader role, gets the same scorecard as
    the DuckDB build (values to 1e-9)."""
    from kpi_tooling.serving import dashboard

    settings = dataclasses.replace(
        pg_published.settings,
        user=ROLE,
        password=os.environ.get("OUTPUT_KPIS_READER_PASSWORD", ""),
    )
    dsn = " ".join(f"{k}={v}" for k, v in settings.connect_kwargs().items() if v not in ("", None))
    args = dashboard.parse_args(["--postgres-dsn", dsn])
    sql_text = "select kpi_id, latest_value from serving.kpi_scorecard order by kpi_id"
    served = dashboard.query(args, sql_text)
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    try:
        expected = con.execute(sql_text).fetchall()
    finally:
        con.close()
    assert len(served) == len(expected) == 39  # 20 seed and built-in declared, 17 demo declared
    for (kpi_id, value), row in zip(expected, served.itertuples(index=False), strict=True):
        assert row.kpi_id == kpi_id
        assert (value is None and row.latest_value is None) or math.isclose(
            float(row.latest_value), value, rel_tol=0, abs_tol=1e-9
        ), kpi_id
