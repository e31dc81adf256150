"""Run the hand-written DuckDB limit (``limit.sql``) on a raw database.

The script reads the raw tables of ``raw_db`` (attached read-only as ``src``) and writes table
``limit_kpi_values`` into ``out_db``; ``compare.compare`` checks it against the mart.

    python -m kpi_tooling.bench.limit --raw-db build.duckdb --out-db limit.duckdb \\
        --as-of "2026-01-01 00:00:00"
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from kpi_tooling.config import RAW_SCHEMA

SCRIPT = Path(__file__).with_name("limit.sql")
RAW_CATALOG = "src"
RESULT_TABLE = "limit_kpi_values"


def limit_sql(as_of: str, raw: str = f"{RAW_CATALOG}.raw") -> str:
    """The script with its placeholders filled in. `as_of` is 'YYYY-MM-DD[ HH:MM:SS]' (UTC)."""
    value = as_of.strip().replace("T", " ").removesuffix("Z")
    if len(value) == 10:
        value += " 00:00:00"
    # Validated, so it can be pasted into the SQL text.
    datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    return SCRIPT.read_text().replace("{raw}", raw).replace("{as_of}", value)


def run_limit(
    raw_db: Path,
    out_db: Path,
    as_of: str,
    *,
    raw_schema: str = RAW_SCHEMA,
    settings: dict[str, str | int] | None = None,
) -> float:
    """Create (or overwrite) `out_db` with table limit_kpi_values computed from the raw tables
    of `raw_db`; returns the script's wall-clock seconds (ATTACH included)."""
    sql = limit_sql(as_of, f"{RAW_CATALOG}.{raw_schema}")
    out_db = Path(out_db)
    for path in (out_db, out_db.with_name(out_db.name + ".wal")):
        path.unlink(missing_ok=True)
    con = duckdb.connect(str(out_db))
    try:
        for name, value in (settings or {}).items():
            con.execute(f"set {name} = '{value}'")
        started = time.perf_counter()
        con.execute(f"attach '{Path(raw_db).resolve()}' as {RAW_CATALOG} (read_only)")
        con.execute(sql)
        seconds = time.perf_counter() - started
        con.execute(f"detach {RAW_CATALOG}")
    finally:
        con.close()
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-db", type=Path, required=True, help="DuckDB file with raw tables")
    parser.add_argument("--out-db", type=Path, required=True, help="DuckDB file to (re)create")
    parser.add_argument("--as-of", required=True, help="'YYYY-MM-DD HH:MM:SS' (UTC)")
    parser.add_argument("--raw-schema", default=RAW_SCHEMA)
    parser.add_argument("--threads", type=int, help="DuckDB setting threads")
    parser.add_argument("--memory-limit", help="DuckDB setting memory_limit, e.g. 4GB")
    args = parser.parse_args(argv)
    settings: dict[str, str | int] = {}
    if args.threads:
        settings["threads"] = args.threads
    if args.memory_limit:
        settings["memory_limit"] = args.memory_limit
    seconds = run_limit(
        args.raw_db, args.out_db, args.as_of, raw_schema=args.raw_schema, settings=settings
    )
    con = duckdb.connect(str(args.out_db), read_only=True)
    try:
        rows = con.execute(f"select count(*) from {RESULT_TABLE}").fetchone()[0]
    finally:
        con.close()
    print(f"{RESULT_TABLE}: {rows} rows in {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
