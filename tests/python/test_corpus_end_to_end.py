"""Dirty data never stops the presses, end to end, on DuckDB and on PostgreSQL.

Every fault of the corpus (tests/fixtures/bad_inputs.csv, tests/python/corpus.py) is injected
into the demo raw tables at once, then the whole write-audit-publish path a user runs goes
through: `dbt build` (models, data tests, unit tests), every Great Expectations suite, and
publish. Asserted on each engine: build, GE and publish pass; each bad row is quarantined with
its expected reason and each odd but valid row is staged; the books balance with the quarantined
rows in them; and both engines quarantine exactly the same rows for the same reasons.
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

from conftest import BUILD_SELECT, PG_TEST_DATABASE, ROOT, pg_env, reset_database, run_dbt
from corpus import corpus, load_corpus, load_corpus_postgres, source_of

ENGINES = ["duckdb", "postgres"]


@dataclass
class CorpusBuild:
    """A build of the demo with the corpus injected, and how each step of it ended."""

    engine: str
    build: subprocess.CompletedProcess[str]
    ge_exit: int
    publish_exit: int
    publish_output: str
    fetch: Callable[..., list[tuple]]
    staging: str  # the schema the staging models were built in


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
    """GE on the build, then the publish step; their exit codes and what they printed."""
    from kpi_tooling import validate

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
    from kpi_tooling import publish

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

    def fetch(query: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(query.replace("%s", "?"), params or []).fetchall()

    return CorpusBuild("duckdb", build, ge_exit, publish_exit, printed, fetch, "staging")


@pytest.fixture(scope="module")
def postgres_corpus(
    postgres, profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> CorpusBuild:
    """The same on Postgres, in its own database (the session's Postgres build is left alone)."""
    from kpi_tooling import publish_postgres

    settings = dataclasses.replace(postgres, database=f"{PG_TEST_DATABASE}_corpus")
    reset_database(settings)
    target = tmp_path_factory.mktemp("corpus_postgres") / "target"
    common = {
        "db_path": target.parent / "unused.duckdb",
        "target_path": target,
        "profiles_dir": profiles_dir,
        "extra_env": pg_env(settings),
    }
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

    return CorpusBuild("postgres", build, ge_exit, publish_exit, printed, fetch, "build_staging")


@pytest.fixture(params=ENGINES)
def corpus_build(request: pytest.FixtureRequest) -> CorpusBuild:
    return request.getfixturevalue(f"{request.param}_corpus")


def test_build_with_every_fault_passes_ge_and_publishes(corpus_build: CorpusBuild) -> None:
    lines = corpus_build.build.stdout.splitlines()
    failures = [
        "\n".join(lines[number : number + 3])
        for number, line in enumerate(lines)
        if "Failure in" in line or "Error in" in line
    ]
    assert corpus_build.build.returncode == 0, "\n".join(failures) or corpus_build.build.stdout

    assert corpus_build.ge_exit == 0, corpus_build.publish_output[-4000:]
    assert corpus_build.publish_exit == 0, corpus_build.publish_output[-4000:]


def _quarantined(build: CorpusBuild) -> dict[tuple[str, str], list[str]]:
    """Reason codes of the quarantined rows, per (source table, key or payload)."""
    return build.fetch(
        f"select source_table, record_key, payload, quarantine_reason "
        f"from {build.staging}.stg_quarantine__rows"
    )


def _expected_reasons(row: dict) -> list[str]:
    expected = row["expected_reason"]
    if not expected:  # odd but valid: staged, not quarantined
        return []
    if expected == "duplicate_row":  # the first copy is staged, the others quarantined
        return ["duplicate_row"]
    if expected == "conflicting_duplicate_key":  # every copy: nobody can tell which is right
        return ["conflicting_duplicate_key"] * 2
    return [expected]


def test_each_corpus_row_lands_where_expected(corpus_build: CorpusBuild) -> None:
    rows = _quarantined(corpus_build)
    wrong = {}
    for row in corpus():
        source_table = f"{source_of(row['table_name'])}.{row['table_name']}"
        match = row["match"]
        found = sorted(
            reason
            for table, key, payload, reason in rows
            if table == source_table and (key == match or f"={match}" in payload)
        )
        if found != sorted(_expected_reasons(row)):
            wrong[row["fault_id"]] = {"expected": row["expected_reason"], "found": found}
    assert wrong == {}


def test_quarantine_holds_exactly_the_corpus_faults(corpus_build: CorpusBuild) -> None:
    counts = Counter(dict(corpus_build.fetch(
        f"select quarantine_reason, count(*) from {corpus_build.staging}.stg_quarantine__rows "
        "group by 1"
    )))  # fmt: skip
    expected = Counter(r["expected_reason"] for r in corpus() if r["expected_reason"])
    expected["duplicate_row"] -= 1  # one of the two copies is staged
    assert counts == +expected


def test_both_engines_quarantine_the_same_rows_for_the_same_reasons(
    duckdb_corpus: CorpusBuild, postgres_corpus: CorpusBuild
) -> None:
    def keyed(build: CorpusBuild) -> Counter:
        return Counter((t, k, r) for t, k, _, r in _quarantined(build))

    assert keyed(duckdb_corpus) == keyed(postgres_corpus)
