"""Write-audit-publish on PostgreSQL: build schemas are swapped into the published ones.

A good build is published (marts holds the build's rows, the publication is recorded); a bad
batch that breaks a GE rule, a failed dbt test and a build written straight into the published
schema are refused naming why, and marts keeps its rows; publishing is blue/green (the previous
marts becomes the next build schema) and waits for a reader inside a transaction, which sees
the same rows until it ends. Postgres' own ALTER SCHEMA ... RENAME does not wait for such a
reader, which is why the publisher locks the published tables first (measured below).

Every test leaves marts holding the fixture's build (see `pg_published` in conftest.py).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from conftest import ROOT, PgBuild, pg_publish_args
from kpi_tooling.core.pg import PgSettings
from kpi_tooling.ge.validate import run_suites
from kpi_tooling.publish.audit import quarantine_relation
from kpi_tooling.publish.postgres import EXIT_OK, EXIT_REFUSED, LOG_SCHEMA, LOG_TABLE, main

SUITES = ROOT / "expectations"
MART = "fct_kpi_values"


def checksum(cur: Any, schema: str, table: str = MART) -> tuple[int, str]:
    """(rows, order-independent md5 of every row) of a table."""
    cur.execute(
        sql.SQL(
            "select count(*), md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), ''))"
            " from {}.{} as t"
        ).format(sql.Identifier(schema), sql.Identifier(table))
    )
    rows, digest = cur.fetchone()
    return int(rows), digest


def query(settings: PgSettings, statement: str, *params: Any) -> list[tuple]:
    con = settings.connect()
    try:
        with con, con.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def published_checksum(settings: PgSettings, schema: str = "marts") -> tuple[int, str]:
    con = settings.connect()
    try:
        with con, con.cursor() as cur:
            return checksum(cur, schema)
    finally:
        con.close()


def stage_next_build(settings: PgSettings) -> None:
    """A next build in build_marts: the published marts with every value + 1."""
    con = settings.connect()
    try:
        with con, con.cursor() as cur:
            cur.execute("drop schema if exists build_marts cascade")
            cur.execute("create schema build_marts")
            cur.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            )
            for (table,) in cur.fetchall():
                cur.execute(
                    sql.SQL("create table build_marts.{0} as select * from marts.{0}").format(
                        sql.Identifier(table)
                    )
                )
            cur.execute(f"update build_marts.{MART} set value = value + 1")
    finally:
        con.close()


def copy_artifacts(build: PgBuild, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True)
    return {
        name: Path(shutil.copy(path, directory / path.name))
        for name, path in (
            ("manifest", build.manifest),
            ("run_results", build.run_results),
            ("ge_results", build.ge_results),
        )
    }


def publish(build: PgBuild, **artifacts: Path) -> int:
    """Swap marts alone: these tests stage fake next builds of the tables. (The serving views
    follow their tables through each swap, by OID; test_postgres_reader_role.py covers them.)"""
    args = pg_publish_args(build, **artifacts)
    return main([*args, "--schema", "marts"], settings=build.settings)


@pytest.fixture
def next_build(pg_published: PgBuild) -> Any:
    """build_marts staged as a next build; afterwards marts holds the fixture's build again."""
    original = published_checksum(pg_published.settings)
    stage_next_build(pg_published.settings)
    yield pg_published
    if published_checksum(pg_published.settings) != original:
        assert publish(pg_published) == EXIT_OK  # blue/green: swaps the original back
    assert published_checksum(pg_published.settings) == original
    query(pg_published.settings, "drop schema if exists build_marts cascade")


def test_good_build_is_published_and_recorded(pg_published: PgBuild) -> None:
    settings = pg_published.settings
    manifest = json.loads(pg_published.manifest.read_text())
    rows, _ = published_checksum(settings)
    assert rows > 10_000
    [(invocation, as_of, schemas, counts)] = query(
        settings,
        f"select invocation_id, as_of, schemas, table_row_counts from {LOG_SCHEMA}.{LOG_TABLE} "
        "order by publication_id limit 1",
    )
    assert invocation == manifest["metadata"]["invocation_id"]
    assert as_of == "2026-01-01 00:00:00" and schemas == ["marts", "serving"]
    assert counts[f"marts.{MART}"] == rows  # counted in build_marts before the swap
    [(comment,)] = query(settings, "select obj_description('marts'::regnamespace, 'pg_namespace')")
    assert invocation in comment and "as_of 2026-01-01 00:00:00" in comment


def test_broken_ge_rule_is_refused_naming_the_rule(
    next_build: PgBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad batch (a repaired unit counted as first pass): GE on Postgres breaks, marts stays."""
    settings = next_build.settings
    before = published_checksum(settings)
    bad = copy_artifacts(next_build, tmp_path / "bad")
    table = "build_intermediate.int_manufacturing__first_pass_inspections"
    query(settings, f"update {table} set is_first_pass = true where rework_count > 0")
    try:
        report = run_suites(settings.sqlalchemy_url(), bad["manifest"], SUITES, bad["ge_results"])
    finally:  # a first-pass unit never has rework: this restores the build exactly
        query(settings, f"update {table} set is_first_pass = false where rework_count > 0")
    assert not report.success
    assert publish(next_build, **bad) == EXIT_REFUSED
    out = capsys.readouterr().out
    assert "REFUSED: not publishing build_marts; marts unchanged." in out
    assert "GE: FAIL first_pass_yield / int_manufacturing__first_pass_inspections" in out
    assert published_checksum(settings) == before


def test_failed_dbt_test_is_refused_naming_the_node(
    next_build: PgBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = published_checksum(next_build.settings)
    bad = copy_artifacts(next_build, tmp_path / "bad")
    results = json.loads(bad["run_results"].read_text())
    test = next(r for r in results["results"] if r["unique_id"].startswith("test."))
    test.update(status="fail", message="Got 3 results, configured to fail if != 0", failures=3)
    bad["run_results"].write_text(json.dumps(results))
    bad["ge_results"].touch()  # GE still comes after the (edited) dbt run
    assert publish(next_build, **bad) == EXIT_REFUSED
    assert f"dbt: {test['unique_id']} fail: Got 3 results" in capsys.readouterr().out
    assert published_checksum(next_build.settings) == before


def test_build_written_into_the_published_schema_is_refused(
    next_build: PgBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Built with output_kpis_build_schema_prefix '' on Postgres: dbt wrote marts in place."""
    before = published_checksum(next_build.settings)
    bad = copy_artifacts(next_build, tmp_path / "bad")
    bad["manifest"].write_text(bad["manifest"].read_text().replace('"build_marts"', '"marts"'))
    bad["ge_results"].touch()
    assert publish(next_build, **bad) == EXIT_REFUSED
    assert "built straight into published schema marts" in capsys.readouterr().out
    assert published_checksum(next_build.settings) == before


def test_swap_waits_for_an_open_reader_which_sees_consistent_rows(next_build: PgBuild) -> None:
    settings = next_build.settings
    old, new = published_checksum(settings), published_checksum(settings, "build_marts")
    assert old != new
    reader = settings.connect()  # READ COMMITTED, the default: each statement sees new commits
    outcome: dict[str, Any] = {}
    try:
        with reader.cursor() as cur:
            seen = [checksum(cur, "marts"), checksum(cur, "marts", "fct_outcome_values")]

            def run_publish() -> None:
                started = time.perf_counter()
                outcome["code"] = publish(next_build)
                outcome["seconds"] = time.perf_counter() - started

            publisher = threading.Thread(target=run_publish)
            publisher.start()
            time.sleep(1.5)
            assert publisher.is_alive(), "the swap must wait for the reader's transaction"
            # still inside its transaction: the same rows, whatever the publisher is doing
            assert checksum(cur, "marts") == seen[0] == old
            assert checksum(cur, "marts", "fct_outcome_values") == seen[1]
        released = time.perf_counter()
        reader.rollback()  # the reader's transaction ends: the swap goes through
        publisher.join(timeout=30)
        waited_after_release = time.perf_counter() - released
    finally:
        reader.close()
    assert outcome["code"] == EXIT_OK
    assert outcome["seconds"] >= 1.5 and waited_after_release < 10
    print(f"\nswap waited {outcome['seconds']:.2f} s, {waited_after_release:.2f} s after release")
    assert published_checksum(settings) == new  # new readers get the new build
    assert published_checksum(settings, "build_marts") == old  # blue/green: next build's target


def test_schema_rename_alone_does_not_wait_for_readers(postgres: PgSettings) -> None:
    """What Postgres does without the publisher's locks, measured: ALTER SCHEMA ... RENAME
    takes no lock on the tables inside, so it commits at once under a reader's open
    transaction, and the reader's next statement resolves the name in the renamed catalog."""
    query(
        postgres,
        "drop schema if exists probe cascade; drop schema if exists probe_renamed cascade; "
        "create schema probe; create table probe.t as select 1 as x",
    )
    reader, writer = postgres.connect(), postgres.connect()
    try:
        with reader.cursor() as read, writer.cursor() as write:
            read.execute("select count(*) from probe.t")
            write.execute("set lock_timeout = '5s'")
            started = time.perf_counter()
            write.execute("alter schema probe rename to probe_renamed")
            writer.commit()
            assert time.perf_counter() - started < 1.0  # no wait for the reader
            with pytest.raises(psycopg2.errors.UndefinedTable):
                read.execute("select count(*) from probe.t")  # same transaction, name gone
            reader.rollback()
            write.execute("lock table probe_renamed.t in access exclusive mode")  # free now
            writer.rollback()
    finally:
        reader.close()
        writer.close()
        query(postgres, "drop schema if exists probe_renamed cascade")


def test_quarantined_rows_are_reported_and_a_flood_is_refused(
    next_build: PgBuild, capsys: pytest.CaptureFixture[str]
) -> None:
    """The publisher reports stg_quarantine__tables of the build (the dbt model decides what a
    flood is, for every engine): half a table quarantined is refused naming the table, its share
    and the var; one quarantined row is reported and published."""
    settings = next_build.settings
    _, schema, table = quarantine_relation(next_build.manifest)
    shares = f'"{schema}"."{table}"'
    lines = "source_table = 'oms.oms_order_lines'"
    before = published_checksum(settings)
    try:
        query(
            settings,
            f"update {shares} set quarantined_rows = raw_rows / 2, quarantined_share = 0.5, "
            f"is_flood = true where {lines}",
        )
        assert publish(next_build) == EXIT_REFUSED
        out = capsys.readouterr().out
        assert (
            "quarantine flood: oms.oms_order_lines has 50.0% of its rows quarantined "
            "(13,398 of 26,796), above var output_kpis_max_quarantine_share = 0.05"
        ) in out
        assert published_checksum(settings) == before
        query(
            settings,
            f"update {shares} set quarantined_rows = 1, quarantined_share = 1.0 / raw_rows, "
            f"is_flood = false where {lines}",
        )
        assert publish(next_build) == EXIT_OK
        assert "quarantine: oms.oms_order_lines: 1 of 26,796 rows (0.004%)" in (
            capsys.readouterr().out
        )
    finally:
        query(
            settings,
            f"update {shares} set quarantined_rows = 0, quarantined_share = 0, is_flood = false",
        )
