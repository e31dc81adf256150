"""Dirty data never stops the presses, end to end, on DuckDB and on PostgreSQL.

Every fault of the corpus (tests/fixtures/bad_inputs.csv, tests/python/corpus.py: each a copy of
a real demo row with some columns overridden) is injected into the demo raw tables at once, then
the whole write-audit-publish path a user runs goes through: `dbt build` (every model, data test
and unit test), every Great Expectations suite, and publish. On each engine: build, GE and
publish pass and the publisher reports the quarantined rows; each bad row is quarantined with its
expected reason and each odd but valid row is staged with its typed value; the books balance with
the quarantined rows in them; and both engines quarantine exactly the same rows for the same
reasons. A missing column stops the build naming table and column.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import BUILD_SELECT, PG_TEST_DATABASE, ROOT, pg_dbt_args, reset_database, run_dbt
from corpus import (
    corpus,
    expected_reasons,
    load_corpus,
    load_corpus_postgres,
    source_of,
)

ENGINES = ["duckdb", "postgres"]
UNIT_SOURCES = {  # fct_unit_accounting's source_table -> the raw table, and rows per raw row
    "mes_unit_events": ("mes.mes_unit_events", 1),
    "oms_order_lines": ("oms.oms_order_lines", 1),
    "sd_tickets (x 2 SLA metrics)": ("sd.sd_tickets", 2),
    "crm_opportunities": ("crm.crm_opportunities", 1),
}


@dataclass
class CorpusBuild:
    """A build of the demo with the corpus injected, and how each step of it ended."""

    engine: str
    build: subprocess.CompletedProcess[str]
    ge_exit: int
    publish_exit: int
    printed: str  # what GE and the publisher printed
    fetch: Callable[..., list[tuple]]  # (sql with %s parameters, parameters) -> rows
    schema: Callable[[str], str]  # a custom schema -> where this build wrote it
    published: Callable[[str], list[tuple]]  # sql over the published marts -> rows


def _seeded_copy(warehouse_db: Path, copy: Path) -> None:
    """A fresh DuckDB file holding only the seeded tables (raw and reference) of the built
    demo warehouse: what `dbt seed` leaves before `dbt build`."""
    with duckdb.connect(str(warehouse_db), read_only=True) as source:
        tables = source.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'reference')"
        ).fetchall()
    with duckdb.connect(str(copy)) as con:
        con.execute(f"attach '{warehouse_db}' as built (read_only)")
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f"create schema {schema}")
        for schema, table in tables:
            con.execute(f"create table {schema}.{table} as select * from built.{schema}.{table}")


def _validate_and_publish(
    target: Path, db_args: list[str], publish_step: Callable[[], int]
) -> tuple[int, int, str]:
    """Every GE suite on the build, then the publish step: exit codes and what they printed."""
    from kpi_tooling.ge import validate

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        ge_exit = validate.main(
            [
                *db_args, "--manifest", str(target / "manifest.json"),
                "--suites", str(ROOT / "expectations"), "--out", str(target / "ge_results.json"),
                "--no-data-docs",
            ]
        )  # fmt: skip
        publish_exit = publish_step() if ge_exit == 0 else -1
    return ge_exit, publish_exit, printed.getvalue()


def _artifacts(target: Path) -> list[str]:
    return [
        "--manifest", str(target / "manifest.json"),
        "--run-results", str(target / "run_results.json"),
        "--ge-results", str(target / "ge_results.json"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def duckdb_corpus(
    tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path, warehouse
) -> CorpusBuild:
    from kpi_tooling.publish import duckdb_file as publish

    directory = tmp_path_factory.mktemp("corpus_duckdb")
    db = directory / warehouse.db_path.name
    _seeded_copy(warehouse.db_path, db)
    load_corpus(db)
    target = directory / "target"
    build = run_dbt(
        ["build", *BUILD_SELECT],
        db_path=db, target_path=target, profiles_dir=profiles_dir, check=False,
    )  # fmt: skip
    serve = directory / "serve" / db.name
    serve.parent.mkdir()
    ge_exit, publish_exit, printed = _validate_and_publish(
        target,
        ["--db", str(db)],
        lambda: publish.main(
            ["--build-db", str(db), "--serve-db", str(serve), *_artifacts(target)]
        ),
    )

    def fetch(query: str, params: list[Any] | None = None, path: Path = db) -> list[tuple]:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(query.replace("%s", "?"), params or []).fetchall()

    return CorpusBuild(
        "duckdb", build, ge_exit, publish_exit, printed, fetch, lambda schema: schema,
        lambda query: fetch(query, path=serve),
    )  # fmt: skip


@pytest.fixture(scope="module")
def postgres_corpus(
    postgres, profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> CorpusBuild:
    """The same on Postgres, in its own database (the session's Postgres build is left alone):
    seeds, the corpus injected into raw, dbt build into build_*, GE, the schema swap."""
    from kpi_tooling.publish import postgres as publish_postgres

    settings = dataclasses.replace(postgres, database=f"{PG_TEST_DATABASE}_corpus")
    reset_database(settings)
    target = tmp_path_factory.mktemp("corpus_postgres") / "target"
    common = pg_dbt_args(settings, target, profiles_dir)
    run_dbt(["seed", "--full-refresh", "--target", "postgres"], **common)
    con = settings.connect()
    try:
        load_corpus_postgres(con)
    finally:
        con.close()
    build = run_dbt(["build", *BUILD_SELECT, "--target", "postgres"], check=False, **common)
    ge_exit, publish_exit, printed = _validate_and_publish(
        target,
        ["--url", settings.sqlalchemy_url()],
        lambda: publish_postgres.main(
            [*_artifacts(target), "--lock-timeout", "20"], settings=settings
        ),
    )

    def fetch(query: str, params: list[Any] | None = None) -> list[tuple]:
        connection = settings.connect()
        try:
            with connection, connection.cursor() as cur:
                cur.execute(query, params or [])
                return cur.fetchall()
        finally:
            connection.close()

    return CorpusBuild(
        "postgres", build, ge_exit, publish_exit, printed, fetch,
        lambda schema: f"build_{schema}", fetch,
    )  # fmt: skip


@pytest.fixture(params=ENGINES)
def corpus_build(request: pytest.FixtureRequest) -> CorpusBuild:
    return request.getfixturevalue(f"{request.param}_corpus")


def test_corpus_has_at_least_30_kinds_of_fault() -> None:
    faults = {(r["table_name"], r["expected_reason"]) for r in corpus() if r["expected_reason"]}
    assert len(faults) >= 30
    assert len({reason for _, reason in faults}) >= 15


def test_build_with_every_fault_passes_ge_and_is_published(corpus_build: CorpusBuild) -> None:
    lines = corpus_build.build.stdout.splitlines()
    failures = [
        "\n".join(lines[number : number + 3])
        for number, line in enumerate(lines)
        if "Failure in" in line or "Error in" in line
    ]
    assert corpus_build.build.returncode == 0, "\n".join(failures) or corpus_build.build.stdout
    assert corpus_build.ge_exit == 0, corpus_build.printed[-4000:]
    assert corpus_build.publish_exit == 0, corpus_build.printed[-4000:]
    # the published marts hold the KPIs, and the publisher said what it quarantined
    assert corpus_build.published("select count(*) from marts.fct_kpi_values")[0][0] > 0
    assert "quarantine: oms.oms_order_lines: " in corpus_build.printed


def _quarantined(build: CorpusBuild) -> list[tuple[str, str, str, str]]:
    return build.fetch(
        "select source_table, record_key, payload, quarantine_reason "
        f"from {build.schema('staging')}.stg_quarantine__rows"
    )


def test_each_corpus_row_lands_where_expected(corpus_build: CorpusBuild) -> None:
    rows = _quarantined(corpus_build)
    wrong = {}
    for row in corpus():
        source_table = f"{source_of(row['table_name'])}.{row['table_name']}"
        found = sorted(
            reason
            for table, key, payload, reason in rows
            if table == source_table and (key == row["match"] or f"={row['match']}" in payload)
        )
        if found != sorted(expected_reasons(row)):
            wrong[row["fault_id"]] = {"expected": row["expected_reason"], "found": found}
    assert wrong == {}


def test_quarantine_holds_exactly_the_corpus_faults(corpus_build: CorpusBuild) -> None:
    counts = Counter(
        dict(
            corpus_build.fetch(
                "select quarantine_reason, count(*) "
                f"from {corpus_build.schema('staging')}.stg_quarantine__rows group by 1"
            )
        )
    )
    rows = [row for row in corpus() if row["expected_reason"]]
    expected = Counter(row["expected_reason"] for row in rows)  # a corpus row is a raw row
    # of the copies of a row, the first is staged
    expected["duplicate_row"] -= len(
        {r["match"] for r in rows if r["expected_reason"] == "duplicate_row"}
    )
    assert counts == +expected


def test_both_engines_quarantine_the_same_rows_for_the_same_reasons(
    duckdb_corpus: CorpusBuild, postgres_corpus: CorpusBuild
) -> None:
    def keyed(build: CorpusBuild) -> Counter:
        return Counter((table, key, reason) for table, key, _, reason in _quarantined(build))

    assert keyed(duckdb_corpus) == keyed(postgres_corpus)


def test_books_balance_with_the_quarantined_rows_in_them(corpus_build: CorpusBuild) -> None:
    """Per unit source: counted + excluded + quarantined = raw rows, and the quarantined
    bucket is exactly the source's rows in the quarantine."""
    accounting = {
        (source, disposition): rows
        for source, disposition, rows in corpus_build.published(
            "select source_table, disposition, sum(row_count) from marts.fct_unit_accounting "
            "group by 1, 2"
        )
    }
    for source, (raw_table, copies) in UNIT_SOURCES.items():
        table = raw_table.split(".")[1]
        raw_rows = corpus_build.fetch(f"select count(*) from raw.{table}")[0][0]
        quarantined = corpus_build.fetch(
            f"select count(*) from {corpus_build.schema('staging')}.stg_quarantine__rows "
            "where source_table = %s",
            [raw_table],
        )[0][0]
        assert quarantined > 0, f"the corpus holds no fault of {raw_table}"
        assert accounting.get((source, "quarantined"), 0) == copies * quarantined, source
        books = sum(rows for (name, _), rows in accounting.items() if name == source)
        assert books == copies * raw_rows, source


STAGED = [r for r in corpus() if r["expect_staged"]]


@pytest.mark.parametrize("row", STAGED, ids=[r["fault_id"] for r in STAGED])
def test_valid_odd_rows_are_staged_with_their_typed_value(
    corpus_build: CorpusBuild, row: dict
) -> None:
    """An ISO-8601 offset is the instant it names, a blank optional reference is null, a
    site-local time with an offset is that instant read in the site's zone (compared as
    Python renders the fetched value, the same from either engine's driver)."""
    key = corpus_build.fetch(
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = %s order by ordinal_position limit 1",
        [row["table_name"]],
    )[0][0]
    for target, expected in row["expect_staged"].items():
        relation, column = target.split(".")
        # staging, or the intermediate model that reads a site-local time in the site's zone
        schema = corpus_build.schema("intermediate" if relation.startswith("int_") else "staging")
        staged = corpus_build.fetch(
            f"select {column} from {schema}.{relation} where {key} = %s",
            [row["match"]],
        )
        assert [None if v is None else str(v) for (v,) in staged] == [expected], target


@pytest.mark.parametrize(
    ("relation", "key_column", "key", "column", "expected"),
    [
        # Dimensions are the user's: any segment, priority or channel is data, kept as given.
        ("stg_oms__customers", "customer_id", "OK-C-SEG", "customer_segment", "Key Accounts"),
        # ... trimmed: 'smb ' would be a second, invisibly different slice beside 'smb'.
        ("stg_oms__customers", "customer_id", "OK-C-SMB", "customer_segment", "smb"),
        # No zone: the customer is in var output_kpis_default_time_zone (read downstream).
        ("stg_oms__customers", "customer_id", "OK-C-NOTZ", "customer_time_zone", None),
        ("stg_sd__tickets", "ticket_id", "OK-T-P1", "priority", "P1"),
        ("stg_sd__tickets", "ticket_id", "OK-T-P1", "channel", "whatsapp"),
        # Coded columns are compared lower-cased and trimmed, by the quarantine and the models.
        ("stg_sd__ticket_status_changes", "change_id", "OK-SC-CASE", "status", "solved"),
        ("stg_crm__opportunities", "opportunity_id", "OK-O-WON", "stage", "won"),
    ],
)
def test_user_values_are_staged(
    corpus_build: CorpusBuild, relation: str, key_column: str, key: str, column: str, expected
) -> None:
    staged = corpus_build.fetch(
        f"select {column} from {corpus_build.schema('staging')}.{relation} where {key_column} = %s",
        [key],
    )
    assert staged == [(expected,)]


def test_missing_column_fails_naming_table_and_column(
    warehouse, tmp_path: Path, profiles_dir: Path
) -> None:
    broken = tmp_path / warehouse.db_path.name
    _seeded_copy(warehouse.db_path, broken)
    with duckdb.connect(str(broken)) as con:
        # optional on its own, but not while order lines carry ordered_quantity
        con.execute("alter table raw.oms_shipments drop column shipped_quantity")
    result = run_dbt(
        ["run", "--select", "+stg_oms__shipments"],
        db_path=broken,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "(source oms.oms_shipments) has no column shipped_quantity but oms_order_lines has "
        "ordered_quantity: give both or neither"
    ) in result.stdout
