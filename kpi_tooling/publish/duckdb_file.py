"""Write-audit-publish: copy an audited build onto the file BI reads, atomically.

dbt-duckdb writes tables in place and DuckDB allows one writer per file, so BI never reads the
build file. A build is published only when its audit passed: the dbt ``run_results.json`` of
the invocation that wrote ``manifest.json`` ran every model, data test and unit test with no
error or failure (warn is fine), and the GE results file, written after that run and after
the build file last changed, is successful. A killed run fails this: dbt writes the manifest
when it starts and the run results only when it ends. Publishing copies the
build to a temporary file in the serving directory, fsyncs it, checks it opens, and
``os.replace``-s it onto the serving path (an atomic rename), then writes ``published.json``
beside it. Readers that opened the previous file keep reading it until they reconnect; new
connections get the new file. BI should connect read-only
(``duckdb.connect(path, read_only=True)``): a read-write connection would hold the file and
leave a ``.wal`` that does not belong to the next published file. One catch: DuckDB caches the
database of a path per process, so ``duckdb.connect(path)`` in a process that still holds a
connection to the serve file returns the previous file again; a long-lived process (a BI
server) should open each new connection with ``connect_served`` (a fresh in-memory database
attaching the file read-only), which always reads the file as it is now. A publish killed
before its rename leaves its temporary copy (``.<serve name>.<random>.tmp``) behind; the next
publish removes it.

Exit codes: 0 published, 1 the audit refused the build (served file untouched), 2 an input is
missing or unreadable.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from kpi_tooling.config import MARTS_SCHEMA
from kpi_tooling.errors import SetupError, ToolingError
from kpi_tooling.publish.audit import (
    Audit,
    QuarantinedTable,
    audit_artifacts,
    quarantine_query,
    quarantine_relation,
    quarantine_report,
    quarantine_summary,
)

EXIT_OK, EXIT_REFUSED, EXIT_SETUP = 0, 1, 2
MART_SCHEMA = MARTS_SCHEMA
PUBLISHED_MANIFEST = "published.json"
TEMP_SUFFIX = ".tmp"
_LIST_MARTS_SQL = (
    "select table_name from information_schema.tables "
    "where table_schema = ? and table_type = 'BASE TABLE' order by table_name"
)


def audit_build(
    build_db: Path, manifest_path: Path, run_results_path: Path, ge_results_path: Path
) -> Audit:
    """The shared dbt and GE audit plus the build file's own checks.

    Raise SetupError only when an input cannot be read at all.
    """
    if not build_db.is_file():
        raise SetupError(f"build database not found: {build_db}")
    audit = audit_artifacts(manifest_path, run_results_path, ge_results_path)
    wal = build_db.with_name(build_db.name + ".wal")
    if wal.exists():
        audit.reasons.append(f"build: {wal} exists: a writer still holds the build or was killed")
    if build_db.stat().st_mtime > ge_results_path.stat().st_mtime:
        audit.reasons.append("build: the database changed after the GE audit: validate again")
    return audit


def read_quarantine(build_db: Path, manifest_path: Path) -> list[QuarantinedTable]:
    """stg_quarantine__tables of the build (empty when the build has none: the audit says
    why such a build is refused)."""
    relation = quarantine_relation(manifest_path)
    if relation is None:
        return []
    _, schema, table = relation
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        return [
            QuarantinedTable(*row)
            for row in con.execute(quarantine_query(schema, table)).fetchall()
        ]
    except duckdb.CatalogException:
        return []
    finally:
        con.close()


def connect_served(serve_db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the serve file as it is now, even in a process that still
    holds a connection to a previous one (``duckdb.connect`` would return that cached one).
    The file is attached under its own name, which the serving views name as their catalog."""
    con = duckdb.connect()
    catalog = serve_db.stem.replace('"', '""')
    path = str(serve_db).replace("'", "''")
    con.execute(f"attach '{path}' as \"{catalog}\" (read_only)")
    con.execute(f'use "{catalog}"')
    return con


@dataclass(frozen=True)
class Contents:
    """What the copy about to be served holds (read before the rename)."""

    mart_row_counts: dict[str, int]
    as_of: str | None
    sha256: str
    size_bytes: int


def inspect_copy(db_path: Path) -> Contents:
    """Open the copy read-only: proves it is a database, counts rows per mart, reads as_of.

    Always the temporary file, never the serve path: DuckDB caches open databases per process
    by path, so opening the serve path here could return a previous file's instance.
    """
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        names = [name for (name,) in con.execute(_LIST_MARTS_SQL, [MART_SCHEMA]).fetchall()]
        counts = {
            name: con.execute(f'select count(*) from "{MART_SCHEMA}"."{name}"').fetchone()[0]
            for name in names
        }
        as_of = None
        if "fct_kpi_values" in counts:
            sql = f"select max(as_of_at) from {MART_SCHEMA}.fct_kpi_values"
            value = con.execute(sql).fetchone()[0]
            as_of = None if value is None else str(value)
    finally:
        con.close()
    return Contents(counts, as_of, _sha256(db_path), db_path.stat().st_size)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _publish_lock(serve_dir: Path) -> Iterator[None]:
    """One publisher at a time per serving directory."""
    with (serve_dir / ".publish.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _temp_file(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path``, named ``.<name>.<random>.tmp``."""
    return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)


def remove_stale_temp_files(serve_db: Path) -> list[Path]:
    """Delete the temporary files of earlier publishes killed before their rename (each is a
    full copy of a build). Called under the publish lock: no other publisher is writing one."""
    stale = [
        path
        for target in (serve_db, serve_db.parent / PUBLISHED_MANIFEST)
        for path in serve_db.parent.glob(f".{target.name}.*{TEMP_SUFFIX}")
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = _temp_file(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), 0o644)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_into_place(build_db: Path, serve_db: Path) -> Contents:
    """Copy, fsync, inspect and atomically rename; return what was published."""
    fd, tmp_name = _temp_file(serve_db)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(build_db, tmp)
        shutil.copymode(build_db, tmp)  # mkstemp makes it 0600; BI may run as another user
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        contents = inspect_copy(tmp)
        os.replace(tmp, serve_db)
        _fsync_dir(serve_db.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return contents


def publish(
    build_db: Path,
    serve_db: Path,
    audit: Audit,
    quarantine: list[QuarantinedTable] | None = None,
) -> dict[str, Any]:
    """Publish an audited build; return what was written to ``published.json``."""
    if not audit.passed:
        raise ValueError("refusing to publish a build whose audit failed")
    serve_db.parent.mkdir(parents=True, exist_ok=True)
    with _publish_lock(serve_db.parent):
        wal = serve_db.with_name(serve_db.name + ".wal")
        if wal.exists():
            # DuckDB would replay this log into the new file on the next read-write open.
            raise SetupError(f"{wal} exists: something opened the served file read-write")
        started = time.perf_counter()
        stale = remove_stale_temp_files(serve_db)
        contents = copy_into_place(build_db, serve_db)
        record = {
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "as_of": contents.as_of,
            "source_build": str(build_db.resolve()),
            "served_file": str(serve_db.resolve()),
            "size_bytes": contents.size_bytes,
            "sha256": contents.sha256,
            "mart_row_counts": contents.mart_row_counts,
            "dbt": audit.dbt_summary,
            "ge": audit.ge_summary,
            "quarantine": quarantine_summary(quarantine or []),
            "stale_temp_files_removed": [path.name for path in stale],
            "publish_seconds": round(time.perf_counter() - started, 3),
        }
        _atomic_write_text(serve_db.parent / PUBLISHED_MANIFEST, json.dumps(record, indent=2))
    return record


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.publish.duckdb_file",
        description="Publish an audited DuckDB build to the file BI reads (atomic rename).",
        epilog="Exit codes: 0 published, 1 audit refused (served file untouched), "
        "2 an input is missing.",
    )
    parser.add_argument("--build-db", type=Path, required=True, help="DuckDB file dbt built")
    parser.add_argument(
        "--serve-db", type=Path, required=True, help="DuckDB file BI reads (read-only)"
    )
    parser.add_argument(
        "--manifest", type=Path, default=Path("target/manifest.json"), help="dbt manifest"
    )
    parser.add_argument(
        "--run-results",
        type=Path,
        default=Path("target/run_results.json"),
        help="dbt run_results.json of the build",
    )
    parser.add_argument(
        "--ge-results",
        type=Path,
        default=Path("target/ge_results.json"),
        help="results file of python -m kpi_tooling.ge.validate on the build",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.build_db.resolve() == args.serve_db.resolve():
        print("ERROR: --build-db and --serve-db must be different files", file=sys.stderr)
        return EXIT_SETUP
    if args.build_db.name != args.serve_db.name:
        # dbt-duckdb names the catalog in every view (serving views read "<catalog>".marts.x)
        # and DuckDB names a file's catalog after its file name: another name breaks them.
        print(
            f"ERROR: --serve-db must have the build file's name ({args.build_db.name}), in "
            f"another directory: the serving views name their catalog after it",
            file=sys.stderr,
        )
        return EXIT_SETUP
    try:
        audit = audit_build(args.build_db, args.manifest, args.run_results, args.ge_results)
        quarantine = read_quarantine(args.build_db, args.manifest)
        lines, floods = quarantine_report(quarantine)
        audit.reasons += floods
        print("\n".join(lines))
        if not audit.passed:
            print(f"REFUSED: not publishing {args.build_db}; {args.serve_db} is unchanged.")
            for reason in audit.reasons:
                print(f"  {reason}")
            return EXIT_REFUSED
        record = publish(args.build_db, args.serve_db, audit, quarantine)
    except ToolingError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_SETUP
    marts, rows = len(record["mart_row_counts"]), sum(record["mart_row_counts"].values())
    for name in record["stale_temp_files_removed"]:
        print(f"removed {name}: the temporary file of an earlier publish that was killed")
    print(
        f"PUBLISHED: {args.serve_db} ({marts} marts, {rows:,} rows, as_of {record['as_of']}) "
        f"in {record['publish_seconds']} s; manifest {args.serve_db.parent / PUBLISHED_MANIFEST}"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
