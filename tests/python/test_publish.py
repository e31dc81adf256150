"""Write-audit-publish: only an audited build reaches the served file, atomically.

A good build is published with identical marts and a manifest; a bad batch (a broken GE rule,
a failed dbt test) is refused naming why and leaves the served file alone; a build killed with
SIGKILL cannot be published and a rerun publishes the same marts as a clean build; a reader
holding the old file keeps reading it while new connections get the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, BUILD_SELECT, DEMO_VARS, ROOT, Warehouse, run_dbt
from kpi_tooling.ge.validate import run_suites
from kpi_tooling.publish.duckdb_file import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SETUP,
    PUBLISHED_MANIFEST,
    audit_build,
    connect_served,
    main,
    publish,
)

SUITES = ROOT / "expectations"
DB_NAME = "output_kpis.duckdb"  # DuckDB names the catalog after the file: copies keep it
COMPARED_MARTS = ("fct_kpi_values", "fct_kpi_scorecard")


@dataclass(frozen=True)
class Build:
    """A build file with the dbt and GE artifacts of its audit."""

    db: Path
    manifest: Path
    run_results: Path
    ge_results: Path

    def cli_args(self, serve_db: Path) -> list[str]:
        return [
            "--build-db",
            str(self.db),
            "--serve-db",
            str(serve_db),
            "--manifest",
            str(self.manifest),
            "--run-results",
            str(self.run_results),
            "--ge-results",
            str(self.ge_results),
        ]


def copy_build(source: Build, directory: Path) -> Build:
    """A private copy of a build and its dbt artifacts (GE results copied, not rerun)."""
    (directory / "target").mkdir(parents=True)
    copied = []
    for path, dest in (
        (source.db, directory / DB_NAME),
        (source.manifest, directory / "target" / "manifest.json"),
        (source.run_results, directory / "target" / "run_results.json"),
        (source.ge_results, directory / "target" / "ge_results.json"),
    ):
        shutil.copy(path, dest)
        copied.append(dest)
    return Build(*copied)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mart_checksum(db: Path, mart: str = "fct_kpi_values") -> tuple[int, int]:
    """(rows, order-independent hash of every row) of a mart."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(f"select count(*), sum(hash(t)) from marts.{mart} as t").fetchone()
    finally:
        con.close()
    return int(row[0]), int(row[1])


def mart_differences(left: Path, right: Path, marts: tuple[str, ...]) -> dict[str, tuple]:
    """Rows of each mart in one file and not the other, both ways (multiset difference).

    Doubles are compared to 9 decimals: DuckDB's parallel aggregation may sum in another order
    from one build to the next (the RTY product, correlations differ in the last bit). The
    rebuilt_at stamp (the run that computed a row) is left out.
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l_db (read_only)")
        con.execute(f"attach '{right}' as r_db (read_only)")
        diffs = {}
        for mart in marts:
            columns = con.execute(f"describe l_db.marts.{mart}").fetchall()
            select = ", ".join(
                f"round({name}, 9)" if kind in ("DOUBLE", "FLOAT") else name
                for name, kind, *_ in columns
                if name != "rebuilt_at"  # when the row was computed, not what it says
            )
            one, two = (
                f"select {select} from {a}.marts.{mart} except all "
                f"select {select} from {b}.marts.{mart}"
                for a, b in (("l_db", "r_db"), ("r_db", "l_db"))
            )
            counts = tuple(
                con.execute(f"select count(*) from ({q})").fetchone()[0] for q in (one, two)
            )
            if counts != (0, 0):
                diffs[mart] = counts
        return diffs
    finally:
        con.close()


def load_raw_layer(source: Path, dest: Path) -> None:
    """A fresh build file holding only the raw and reference seeds, copied from ``source``.

    Same tables as `dbt seed` loads, in about a second instead of ten.
    """
    con = duckdb.connect(str(dest))
    try:
        con.execute(f"attach '{source}' as src (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'src' and schema_name in ('raw', 'reference')"
        ).fetchall()
        for schema in {schema for schema, _ in tables}:
            con.execute(f"create schema {schema}")
        for schema, table in tables:
            con.execute(f"create table {schema}.{table} as select * from src.{schema}.{table}")
    finally:
        con.close()


def marts_of(db: Path) -> tuple[str, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    finally:
        con.close()
    return tuple(name for (name,) in rows)


@pytest.fixture(scope="module")
def good_build(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """A copy of the demo build with its dbt artifacts and a fresh, passing GE run."""
    run_results = warehouse.manifest_path.parent / "run_results.json"
    if not run_results.is_file():
        pytest.skip(f"no dbt run_results.json beside {warehouse.manifest_path}")
    directory = tmp_path_factory.mktemp("good_build")
    (directory / "target").mkdir()
    db = directory / DB_NAME
    shutil.copy(warehouse.db_path, db)
    manifest = shutil.copy(warehouse.manifest_path, directory / "target" / "manifest.json")
    rr = shutil.copy(run_results, directory / "target" / "run_results.json")
    ge = directory / "target" / "ge_results.json"
    report = run_suites(db, manifest, SUITES, ge)
    assert report.success, "\n".join(report.failure_messages())
    return Build(db, Path(manifest), Path(rr), ge)


@pytest.fixture
def served(good_build: Build, tmp_path: Path) -> Path:
    """A serving directory holding the published good build."""
    serve_db = tmp_path / "serve" / DB_NAME
    assert main(good_build.cli_args(serve_db)) == EXIT_OK
    return serve_db


def test_good_build_is_published_with_identical_marts_and_a_manifest(
    good_build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_db = tmp_path / "serve" / DB_NAME
    assert main(good_build.cli_args(serve_db)) == EXIT_OK
    assert "PUBLISHED" in capsys.readouterr().out
    record = json.loads((serve_db.parent / PUBLISHED_MANIFEST).read_text())
    assert record["sha256"] == sha256(good_build.db) == sha256(serve_db)  # byte for byte
    assert mart_differences(good_build.db, serve_db, COMPARED_MARTS) == {}
    marts = marts_of(good_build.db)
    assert record["as_of"].startswith("2026-01-01 00:00:00")
    assert record["source_build"] == str(good_build.db.resolve())
    assert set(record["mart_row_counts"]) == set(marts)
    assert record["mart_row_counts"]["fct_kpi_values"] == mart_checksum(serve_db)[0]
    assert record["dbt"]["statuses"].keys() <= {"success", "pass", "warn"}
    assert record["ge"]["failed_rules"] == 0 and record["ge"]["rules"] > 0
    assert not list(serve_db.parent.glob(".*.tmp")), "no temporary file is left behind"


def test_broken_ge_rule_is_refused_naming_the_rule(
    good_build: Build, served: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad batch: a repaired unit counted as first pass. GE breaks, the served file stays."""
    before = (served.stat().st_ino, mart_checksum(served))
    bad = copy_build(good_build, tmp_path / "bad")
    con = duckdb.connect(str(bad.db))
    try:
        con.execute(
            "update intermediate.int_manufacturing__first_pass_inspections "
            "set is_first_pass = true where rework_count > 0"
        )
        # and a visibly different number in the mart, so "unchanged" means something
        con.execute("update marts.fct_kpi_values set value = value + 1")
    finally:
        con.close()
    report = run_suites(bad.db, bad.manifest, SUITES, bad.ge_results)
    assert not report.success
    assert main(bad.cli_args(served)) == EXIT_REFUSED
    out = capsys.readouterr().out
    assert "REFUSED" in out and "unchanged" in out
    assert "GE: FAIL first_pass_yield / int_manufacturing__first_pass_inspections" in out
    assert (served.stat().st_ino, mart_checksum(served)) == before


def test_failed_dbt_test_is_refused_naming_the_node(
    good_build: Build, served: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (served.stat().st_ino, mart_checksum(served))
    bad = copy_build(good_build, tmp_path / "bad")
    results = json.loads(bad.run_results.read_text())
    test = next(r for r in results["results"] if r["unique_id"].startswith("test."))
    test.update(status="fail", message="Got 3 results, configured to fail if != 0", failures=3)
    bad.run_results.write_text(json.dumps(results))
    bad.ge_results.touch()  # the GE run still comes after the (edited) dbt run
    assert main(bad.cli_args(served)) == EXIT_REFUSED
    out = capsys.readouterr().out
    assert f"dbt: {test['unique_id']} fail: Got 3 results" in out
    assert (served.stat().st_ino, mart_checksum(served)) == before


def _start_dbt_build(build_dir: Path, profiles_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "OUTPUT_KPIS_DUCKDB_PATH": str(build_dir / DB_NAME),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    cmd = [str(BIN / "dbt"), "build", *BUILD_SELECT]
    cmd += ["--project-dir", str(ROOT), "--target-path", str(build_dir / "target")]
    cmd += ["--vars", DEMO_VARS]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _kill_once_models_are_written(proc: subprocess.Popen[str], models: int = 3) -> str:
    """SIGKILL dbt after it has written a few tables, i.e. in the middle of the build."""
    seen, log = 0, []
    assert proc.stdout is not None
    for line in proc.stdout:
        log.append(line)
        seen += "OK created sql" in line
        if seen >= models:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "dbt finished before it could be killed"
    return "".join(log)


def test_killed_build_is_not_published_and_a_rerun_matches_a_clean_build(
    warehouse: Warehouse,
    good_build: Build,
    served: Path,
    profiles_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = (served.stat().st_ino, served.stat().st_mtime_ns, mart_checksum(served))
    build_dir = tmp_path / "build"
    build = copy_build(good_build, build_dir)  # last run's artifacts, a passing GE file
    _kill_once_models_are_written(_start_dbt_build(build_dir, profiles_dir))

    build.ge_results.touch()  # even a passing GE file newer than the killed run does not help
    assert main(build.cli_args(served)) == EXIT_REFUSED
    out = capsys.readouterr().out
    assert "the last dbt run did not finish" in out
    assert (served.stat().st_ino, served.stat().st_mtime_ns, mart_checksum(served)) == before

    # The rerun is what `make build` does: a fresh build file, seeds, build, GE, publish.
    for leftover in (build.db, build.db.with_name(DB_NAME + ".wal")):
        leftover.unlink(missing_ok=True)
    load_raw_layer(warehouse.db_path, build.db)
    common = {"db_path": build.db, "target_path": build_dir / "target"}
    run_dbt(["build", *BUILD_SELECT], **common, profiles_dir=profiles_dir)
    assert run_suites(build.db, build.manifest, SUITES, build.ge_results).success
    assert main(build.cli_args(served)) == EXIT_OK
    assert served.stat().st_ino != before[0]
    assert mart_differences(served, warehouse.db_path, COMPARED_MARTS) == {}


def _read_in_new_process(db: Path, sql: str) -> str:
    """A new BI connection: another process (DuckDB caches open databases per process)."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute(sys.argv[2]).fetchone()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(db), sql], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_open_reader_keeps_old_data_and_new_readers_get_the_new_file(
    good_build: Build, served: Path, tmp_path: Path
) -> None:
    new = copy_build(good_build, tmp_path / "next")
    con = duckdb.connect(str(new.db))
    try:
        con.execute("update marts.fct_kpi_scorecard set kpi_id = 'next_' || kpi_id")
    finally:
        con.close()
    new.ge_results.touch()
    old_rows, old_hash = mart_checksum(served)
    query = "select count(*) from marts.fct_kpi_scorecard where kpi_id like 'next_%'"

    reader = duckdb.connect(str(served), read_only=True)
    try:
        assert reader.execute(query).fetchone()[0] == 0
        started = time.perf_counter()
        publish(new.db, served, audit_build(new.db, new.manifest, new.run_results, new.ge_results))
        assert time.perf_counter() - started < 30
        # the open connection still reads the previous file, including tables not read yet
        assert reader.execute(query).fetchone()[0] == 0
        row = reader.execute("select count(*), sum(hash(t)) from marts.fct_kpi_values t")
        assert tuple(int(v) for v in row.fetchone()) == (old_rows, old_hash)
        assert int(_read_in_new_process(served, query)) > 0
    finally:
        reader.close()


def test_a_killed_publish_leaves_a_temp_file_the_next_publish_removes(
    good_build: Build, served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A publish killed between copy and rename leaves its full-size copy; the next publish
    (holding the publish lock, so no other publisher is writing one) deletes its own kind only."""
    stale = served.parent / f".{served.name}.k1ll3d.tmp"
    stale_record = served.parent / f".{PUBLISHED_MANIFEST}.k1ll3d.tmp"
    not_ours = served.parent / ".other.duckdb.k1ll3d.tmp"
    for path in (stale, stale_record, not_ours):
        path.write_bytes(b"half a copy")
    assert main(good_build.cli_args(served)) == EXIT_OK
    assert f"removed {stale.name}" in capsys.readouterr().out
    assert not stale.exists() and not stale_record.exists()
    assert not_ours.exists()
    record = json.loads((served.parent / PUBLISHED_MANIFEST).read_text())
    assert sorted(record["stale_temp_files_removed"]) == sorted([stale.name, stale_record.name])


def test_a_process_holding_the_serve_file_reads_a_new_publish_through_connect_served(
    good_build: Build, served: Path, tmp_path: Path
) -> None:
    """DuckDB caches a path's database per process: while this process holds a connection,
    duckdb.connect(serve path) returns the previous file again (documented in publish.py and
    docs/DECISIONS.md); connect_served reads the file as it is now."""
    new = copy_build(good_build, tmp_path / "next")
    with duckdb.connect(str(new.db)) as con:
        con.execute("update marts.fct_kpi_scorecard set kpi_id = 'next_' || kpi_id")
    new.ge_results.touch()
    query = "select count(*) from marts.fct_kpi_scorecard where kpi_id like 'next_%'"
    held = duckdb.connect(str(served), read_only=True)
    try:
        assert held.execute(query).fetchone()[0] == 0
        publish(new.db, served, audit_build(new.db, new.manifest, new.run_results, new.ge_results))
        second = duckdb.connect(str(served), read_only=True)
        assert second.execute(query).fetchone()[0] == 0  # the cached, previous file
        second.close()
        fresh = connect_served(served)
        try:
            assert fresh.execute(query).fetchone()[0] > 0
            # the serving views name the file's catalog: they resolve in the attached file
            assert fresh.execute("select count(*) from serving.kpi_scorecard").fetchone()[0] > 0
        finally:
            fresh.close()
    finally:
        held.close()


def test_serve_file_must_keep_the_build_file_name(
    good_build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB names a file's catalog after the file and dbt-duckdb's views name that catalog:
    under another name every serving view would fail, so publishing refuses it."""
    serve_db = tmp_path / "serve" / "kpis_for_bi.duckdb"
    assert main(good_build.cli_args(serve_db)) == EXIT_SETUP
    assert "must have the build file's name" in capsys.readouterr().err
    assert not serve_db.exists()
