"""Scalable raw-data generator: the demo data replicated in blocks to 1M, 10M, 100M+ rows.

Usage::

    python -m kpi_tooling.bench.generate_data --rows 10M --seed 42 --out bench/raw_10m.duckdb
    python -m kpi_tooling.bench.generate_data --rows 1M --out bench/raw_1m/ --format parquet

How it works (block replication). ``kpi_tooling.demo.data`` produces a few base *variants*
(``generate(seed + v * VARIANT_SEED_STRIDE, scale)``, v = 0 .. --variants-1; each ~293k rows at
scale 1, 2024-01-01 .. 2025-12-31, as_of 2026-01-01, with its planted signals and edge cases).
Each variant goes through a temporary CSV into DuckDB with the seeds' exact column types
(``seeds/raw/_raw__seeds.yml``), so the raw tables look exactly as ``dbt seed`` loads them.
Reference and calendar tables (``FIXED_TABLES``: sites, lines, routes, shifts, business hours,
teams, agents, SLA policies, reps) are written once, from variant 0. Every other table is written
as blocks b = 0 .. N-1: block b is a copy of variant ``b % V`` in which every entity key and
every reference to a replicated entity (``REPLICATED_KEYS``) gets the suffix ``.b<b>`` (block 0
keeps the demo's ids, so one block at scale 1 and seed 42 is the demo data). References to the
fixed tables (line, site, team, agent, rep) are kept, so every block is a consistent copy and
nothing is quarantined. N is the number of blocks that brings the total closest to ``--rows``;
below one block the variants are generated at a smaller ``--scale``.

The replication runs in DuckDB (``insert ... select ... from range(b0, b1) join variant``) in
chunks of about ``CHUNK_ROWS`` rows, so Python never holds replicated rows: memory is bounded by
the variants (a few hundred MB) and DuckDB's ``--memory-limit`` (spilling to ``--temp-dir``).
Output is deterministic for (--rows, --seed, --variants, --scale): identical table contents
(row order inside a table may differ between runs; compare with ``table_checksums``).

Outputs:

* ``--out path.duckdb`` (default format): the 23 tables in schema ``raw`` of that DuckDB file
  (written to ``<out>.partial`` and renamed at the end; an existing file needs ``--force``).
  dbt reads it by attaching the file read-only under an alias in the profile's duckdb output::

      attach:
        - {path: /abs/path/raw_10m.duckdb, alias: bench_raw, read_only: true}

  and pointing the sources at the alias with ``--vars`` (``dbt_vars_for("bench_raw")``):
  ``{"mes_database": "bench_raw", "oms_database": "bench_raw", "sd_database": "bench_raw",
  "crm_database": "bench_raw", "outcomes_database": "bench_raw"}`` (plus ``as_of``:
  ``2026-01-01 00:00:00``). Do not run ``dbt seed --select path:seeds/raw`` then; the
  reference seeds (``path:seeds/reference``) are still needed.
* ``--out dir/`` or ``--format parquet``: one ``<table>.parquet`` per table in that directory
  (streamed by DuckDB ``COPY``; the progress bar advances per table).

A JSON manifest (seed, rows per table, blocks, variants, seconds) is written next to the
output as ``<out>.manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from tqdm import tqdm

from kpi_tooling.config import DEMO_AS_OF, RAW_SCHEMA
from kpi_tooling.core import raw_tables
from kpi_tooling.demo.data import COLUMNS, generate, write_tables

SOURCES = tuple(raw_tables.declaration().sources)
VARIANT_SEED_STRIDE = 1_000_003
DEFAULT_VARIANTS = 4
CHUNK_ROWS = 2_000_000
# Rows of one variant at scale 1.0 (fixed tables excluded / included): only used to choose the
# variant scale and count before generating; the block count comes from the real sizes.
REPLICATED_ROWS_AT_SCALE_1 = 284_000
FIXED_ROWS_ESTIMATE = 8_900
MIN_SCALE = 0.01

# DuckDB types of the raw tables as `dbt seed` loads them (declared in
# kpi_tooling/core/raw_tables.yml, checked by tests/python/test_generate_data.py); column order
# is COLUMNS.
RAW_TYPES: dict[str, dict[str, str]] = raw_tables.seed_types()

# Reference and calendar tables: written once (from variant 0); replicated rows refer to them by
# their unchanged keys (site_id, line_id, route_id, team_id, agent_id, rep_id, schedule_id).
FIXED_TABLES = (
    "mes_sites",
    "mes_lines",
    "mes_route_steps",
    "mes_shifts",
    "sd_business_hours",
    "sd_teams",
    "sd_agents",
    "sd_sla_policies",
    "crm_reps",
)

# Replicated tables -> the columns that get the block tag: their own entity key and every
# reference to another replicated entity (work order, unit serial, event, customer, order,
# order line, ticket).
REPLICATED_KEYS: dict[str, tuple[str, ...]] = {
    "mes_work_orders": ("work_order_id",),
    "mes_unit_events": ("event_id", "serial_number", "work_order_id"),
    "mes_defects": ("defect_id", "event_id"),
    "oms_customers": ("customer_id",),
    "oms_orders": ("order_id", "customer_id"),
    "oms_order_lines": ("order_line_id", "order_id"),
    "oms_shipments": ("shipment_id", "order_line_id"),
    "sd_tickets": ("ticket_id", "customer_id"),
    "sd_ticket_status_changes": ("change_id", "ticket_id"),
    "crm_opportunities": ("opportunity_id", "customer_id"),
    "fin_invoices": ("invoice_id", "customer_id"),
    "cx_survey_responses": ("response_id", "ticket_id", "customer_id"),
    "qa_return_claims": ("claim_id", "serial_number", "customer_id"),
    "cs_churn_events": ("customer_id",),
}

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*([kmbg]?)\s*$", re.IGNORECASE)
_MULTIPLIER = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9}


def parse_rows(text: str) -> int:
    """``'1M'`` -> 1_000_000; accepts k / M / B (or G) suffixes, decimals and ``_``."""
    match = _SIZE.match(str(text).replace("_", "").replace(",", ""))
    if not match:
        raise ValueError(f"not a row count: {text!r} (e.g. 250k, 1M, 10M, 100M, 500000)")
    rows = round(float(match.group(1)) * _MULTIPLIER[match.group(2).lower()])
    if rows <= 0:
        raise ValueError(f"row count must be positive: {text!r}")
    return rows


def dbt_vars_for(database_alias: str) -> dict[str, str]:
    """The dbt vars that point every source at a DuckDB file attached under this alias."""
    return {f"{source}_database": database_alias for source in SOURCES}


def output_format(out: str, fmt: str | None = None) -> str:
    """--format, else parquet for a directory (existing, or written with a trailing slash)."""
    if fmt:
        return fmt
    return "parquet" if out.endswith(("/", os.sep)) or Path(out).is_dir() else "duckdb"


def manifest_path_for(out: Path) -> Path:
    return Path(str(out).rstrip("/\\") + ".manifest.json")


def table_checksums(con: duckdb.DuckDBPyConnection, schema: str = RAW_SCHEMA) -> dict[str, Any]:
    """Order-independent content checksum per table: (row count, bit_xor of row hashes)."""
    return {
        name: tuple(
            con.execute(f"select count(*), bit_xor(hash(t)) from {schema}.{name} as t").fetchone()
            or ()
        )
        for name in COLUMNS
    }


@dataclass(frozen=True)
class Plan:
    rows_requested: int
    seed: int
    scale: float
    variants: int

    def variant_seed(self, variant: int) -> int:
        return self.seed + variant * VARIANT_SEED_STRIDE


def make_plan(rows: int, seed: int, variants: int, scale: float | None) -> Plan:
    """Variant scale (below one block: smaller) and how many variants are worth generating."""
    if scale is None:
        full_block = FIXED_ROWS_ESTIMATE + REPLICATED_ROWS_AT_SCALE_1
        if rows >= full_block:
            scale = 1.0
        else:
            wanted = max(rows - FIXED_ROWS_ESTIMATE, 0) / REPLICATED_ROWS_AT_SCALE_1
            scale = max(MIN_SCALE, round(wanted, 3))
    estimated_blocks = max(
        1, round((rows - FIXED_ROWS_ESTIMATE) / (REPLICATED_ROWS_AT_SCALE_1 * scale))
    )
    return Plan(rows, seed, scale, max(1, min(variants, estimated_blocks)))


def choose_blocks(rows: int, fixed_rows: int, block_rows: Sequence[int]) -> int:
    """Number of blocks N >= 1 whose total (fixed + blocks cycling the variants) is closest."""
    total, blocks = fixed_rows + block_rows[0], 1
    while True:
        grown = total + block_rows[blocks % len(block_rows)]
        if abs(grown - rows) >= abs(total - rows):
            return blocks
        total, blocks = grown, blocks + 1


def _variant_csvs(seed: int, scale: float, out_dir: str, with_fixed: bool) -> dict[str, int]:
    """Worker: one demo variant as CSVs (the seeds' format) in out_dir; row counts. Only
    variant 0 writes the fixed tables (the others' are never read)."""
    tables = generate(seed=seed, scale=scale, progress=False)
    if not with_fixed:
        tables = {name: rows for name, rows in tables.items() if name not in FIXED_TABLES}
    return write_tables(tables, Path(out_dir))


def _generate_variants(plan: Plan, work_dir: Path, jobs: int, progress: bool) -> list[Path]:
    dirs = [work_dir / f"variant_{v}" for v in range(plan.variants)]
    with (
        ProcessPoolExecutor(max_workers=max(1, min(jobs, plan.variants))) as pool,
        tqdm(
            total=plan.variants, desc="base variants", unit="variant", disable=not progress
        ) as bar,
    ):
        futures = [
            pool.submit(_variant_csvs, plan.variant_seed(v), plan.scale, str(d), v == 0)
            for v, d in enumerate(dirs)
        ]
        for future in futures:
            future.result()
            bar.update(1)
    return dirs


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _load_variants(con: duckdb.DuckDBPyConnection, dirs: list[Path]) -> None:
    """Variant tables var_<table>(_v, <raw columns>) typed exactly as the seeds."""
    for name, types in RAW_TYPES.items():
        struct = "{" + ", ".join(f"{_sql_string(c)}: {_sql_string(t)}" for c, t in types.items())
        struct += "}"
        con.execute(
            f"create temp table var_{name} as select 0::integer as _v, * from {RAW_SCHEMA}.{name} "
            "limit 0"
        )
        for variant, directory in enumerate(dirs):
            if name in FIXED_TABLES and variant > 0:
                continue
            path = _sql_string(str(directory / f"{name}.csv"))
            con.execute(
                f"insert into var_{name} select {variant}, * from read_csv({path}, header = true, "
                f"delim = ',', quote = '\"', escape = '\"', nullstr = '', auto_detect = false, "
                f"columns = {struct})"
            )


def _create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for name, types in RAW_TYPES.items():
        columns = ", ".join(f"{c} {t}" for c, t in types.items())
        con.execute(f"create or replace table {RAW_SCHEMA}.{name} ({columns})")


def _block_select(name: str, b0: int, b1: int, variants: int) -> str:
    """The rows of blocks b0 .. b1-1 of a replicated table, keys tagged."""
    tagged = set(REPLICATED_KEYS[name])
    exprs = ", ".join(
        f"v.{c} || blocks.tag as {c}" if c in tagged else f"v.{c}" for c in COLUMNS[name]
    )
    return (
        f"select {exprs} from ("
        f"select b, case when b = 0 then '' else '.b' || cast(b as varchar) end as tag "
        f"from range({b0}, {b1}) as r(b)) as blocks "
        f"inner join var_{name} as v on v._v = blocks.b % {variants}"
    )


def _fixed_select(name: str) -> str:
    return f"select {', '.join(COLUMNS[name])} from var_{name} where _v = 0"


def _write_duckdb(
    con: duckdb.DuckDBPyConnection,
    blocks: int,
    variants: int,
    expected: dict[str, int],
    bar: tqdm,
) -> None:
    for name in COLUMNS:
        if name in FIXED_TABLES:
            con.execute(f"insert into {RAW_SCHEMA}.{name} {_fixed_select(name)}")
            bar.update(expected[name])
            continue
        per_block = max(1, expected[name] // blocks)
        step = max(1, CHUNK_ROWS // per_block)
        for b0 in range(0, blocks, step):
            b1 = min(blocks, b0 + step)
            written = con.execute(
                f"insert into {RAW_SCHEMA}.{name} {_block_select(name, b0, b1, variants)}"
            ).fetchone()
            bar.update(int(written[0]) if written else 0)
    con.execute("checkpoint")


def _write_parquet(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    blocks: int,
    variants: int,
    expected: dict[str, int],
    bar: tqdm,
) -> None:
    for name in COLUMNS:
        query = (
            _fixed_select(name)
            if name in FIXED_TABLES
            else _block_select(name, 0, blocks, variants)
        )
        target = _sql_string(str(out_dir / f"{name}.parquet"))
        bar.set_postfix_str(name)
        con.execute(f"copy ({query}) to {target} (format parquet, compression zstd)")
        bar.update(expected[name])


def _expected_rows(
    con: duckdb.DuckDBPyConnection, blocks: int, variants: int
) -> tuple[dict[str, int], list[int], int]:
    """Rows per output table for N blocks, per-variant replicated block sizes, fixed rows."""
    per_variant: dict[str, list[int]] = {}
    for name in COLUMNS:
        counts = dict(con.execute(f"select _v, count(*) from var_{name} group by _v").fetchall())
        per_variant[name] = [int(counts.get(v, 0)) for v in range(variants)]
    fixed = sum(per_variant[name][0] for name in FIXED_TABLES)
    block_rows = [sum(per_variant[n][v] for n in REPLICATED_KEYS) for v in range(variants)]
    expected = {
        name: (
            per_variant[name][0]
            if name in FIXED_TABLES
            else sum(per_variant[name][b % variants] for b in range(blocks))
        )
        for name in COLUMNS
    }
    return expected, block_rows, fixed


def run(
    rows: int,
    seed: int,
    out: Path,
    *,
    fmt: str = "duckdb",
    force: bool = False,
    variants: int = DEFAULT_VARIANTS,
    scale: float | None = None,
    memory_limit: str = "2GB",
    temp_dir: Path | None = None,
    threads: int | None = None,
    jobs: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Generate the raw tables; returns the manifest (also written next to ``out``)."""
    started = time.perf_counter()  # for the manifest only, never for the data
    if fmt == "duckdb" and out.exists() and not force:
        raise FileExistsError(f"{out} exists (use --force to overwrite)")
    if fmt == "parquet" and not force and any((out / f"{n}.parquet").exists() for n in COLUMNS):
        raise FileExistsError(f"{out} already holds raw parquet files (use --force)")
    plan = make_plan(rows, seed, variants, scale)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="generate_data_", dir=temp_dir or out.parent) as work:
        work_dir = Path(work)
        dirs = _generate_variants(plan, work_dir, jobs or os.cpu_count() or 1, progress)
        if fmt == "duckdb":
            target = out.with_name(out.name + ".partial")
            for stale in (target, Path(str(target) + ".wal")):
                stale.unlink(missing_ok=True)
            con = duckdb.connect(str(target))
        else:
            out.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect()
        try:
            con.execute(f"set memory_limit = {_sql_string(memory_limit)}")
            con.execute(f"set temp_directory = {_sql_string(str(work_dir / 'duckdb_tmp'))}")
            con.execute("set preserve_insertion_order = false")
            if threads:
                con.execute(f"set threads = {int(threads)}")
            _create_raw_tables(con)
            _load_variants(con, dirs)
            for directory in dirs:
                shutil.rmtree(directory)
            _, block_rows, fixed = _expected_rows(con, 1, plan.variants)
            blocks = choose_blocks(rows, fixed, block_rows)
            expected, _, _ = _expected_rows(con, blocks, plan.variants)
            total = sum(expected.values())
            with tqdm(
                total=total,
                desc="raw rows",
                unit="row",
                unit_scale=True,
                disable=not progress,
            ) as bar:
                if fmt == "duckdb":
                    _write_duckdb(con, blocks, plan.variants, expected, bar)
                    counts = {
                        name: int(
                            (
                                con.execute(f"select count(*) from {RAW_SCHEMA}.{name}").fetchone()
                                or (0,)
                            )[0]
                        )
                        for name in COLUMNS
                    }
                else:
                    _write_parquet(con, out, blocks, plan.variants, expected, bar)
                    counts = expected
            if fmt == "duckdb":
                for name in COLUMNS:
                    con.execute(f"drop table if exists var_{name}")
        finally:
            con.close()
        if counts != expected:
            raise RuntimeError(f"row counts {counts} differ from the plan {expected}")
        if fmt == "duckdb":
            if out.exists():
                out.unlink()
            Path(str(out) + ".wal").unlink(missing_ok=True)
            target.rename(out)
    manifest = {
        "generator": "kpi_tooling.bench.generate_data",
        "format": fmt,
        "out": str(out),
        "schema": RAW_SCHEMA if fmt == "duckdb" else None,
        "seed": seed,
        "rows_requested": rows,
        "rows_total": sum(counts.values()),
        "rows": counts,
        "blocks": blocks,
        "variants": plan.variants,
        "variant_seeds": [plan.variant_seed(v) for v in range(plan.variants)],
        "variant_scale": plan.scale,
        "fixed_tables": list(FIXED_TABLES),
        "as_of": DEMO_AS_OF,
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest_path_for(out).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.bench.generate_data",
        description=(
            "Generate realistic raw data for every domain at any size (1M, 10M, 100M rows) by "
            "replicating demo-data variants in blocks with re-keyed ids. Writes schema 'raw' of "
            "a DuckDB file (dbt: attach it read-only under an alias and pass --vars "
            "'{mes_database: <alias>, oms_database: <alias>, sd_database: <alias>, "
            "crm_database: <alias>, outcomes_database: <alias>}') or one Parquet file per "
            "table. Deterministic for --rows/--seed; a manifest goes to <out>.manifest.json."
        ),
    )
    parser.add_argument(
        "--rows",
        default="1M",
        help="total rows wanted, e.g. 250k, 1M, 10M, 100M or 500000 (default: 1M); the result "
        "is within one block (~293k rows) of it",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--out",
        required=True,
        help="a .duckdb file (tables in schema raw) or a directory (Parquet, one file per table)",
    )
    parser.add_argument(
        "--format",
        choices=("duckdb", "parquet"),
        default=None,
        help="default: parquet when --out ends with '/' or is a directory, else duckdb",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    parser.add_argument(
        "--variants",
        type=int,
        default=DEFAULT_VARIANTS,
        help=f"distinct demo variants the blocks cycle through (default: {DEFAULT_VARIANTS})",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="demo scale of each variant/block (default: 1.0, smaller when --rows is below "
        "one block)",
    )
    parser.add_argument(
        "--memory-limit", default="2GB", help="DuckDB memory_limit of the generator (default: 2GB)"
    )
    parser.add_argument(
        "--temp-dir",
        type=Path,
        default=None,
        help="scratch space for variant CSVs and DuckDB spilling (default: next to --out)",
    )
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    parser.add_argument(
        "--jobs", type=int, default=None, help="processes generating variants (default: CPUs)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    args = parser.parse_args(argv)
    try:
        rows = parse_rows(args.rows)
    except ValueError as error:
        parser.error(str(error))
    if args.variants < 1:
        parser.error("--variants must be >= 1")
    if args.scale is not None and args.scale <= 0:
        parser.error("--scale must be positive")
    fmt = output_format(args.out, args.format)
    out = Path(args.out)
    try:
        manifest = run(
            rows,
            args.seed,
            out,
            fmt=fmt,
            force=args.force,
            variants=args.variants,
            scale=args.scale,
            memory_limit=args.memory_limit,
            temp_dir=args.temp_dir,
            threads=args.threads,
            jobs=args.jobs,
            progress=not args.quiet,
        )
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        for name, count in manifest["rows"].items():
            print(f"{name:28s} {count:>12,d}")
        print(
            f"{'total':28s} {manifest['rows_total']:>12,d}  ({manifest['blocks']} blocks of "
            f"{manifest['variants']} variants at scale {manifest['variant_scale']}, "
            f"{manifest['seconds']:.1f} s)"
        )
        print(f"wrote {manifest['out']} ({fmt}); manifest {manifest_path_for(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
