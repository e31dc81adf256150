"""The fault corpus (tests/fixtures/bad_inputs.csv) and how it is injected into a warehouse.

Each row describes one fault as a copy of a real demo row (the first row of its raw table) with
some columns overridden, so everything but the fault is valid. `expected_reason` is the
quarantine reason code the row must get; empty means the row is odd but valid and is staged.
Injection turns every raw table the corpus touches into all-text columns (as landed files are)
and appends the corpus rows, on DuckDB (a file) or PostgreSQL (a connection).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "bad_inputs.csv"


def corpus() -> list[dict]:
    """The corpus rows; expect_staged (optional JSON {"<model>.<column>": value}, a staging
    model, or the intermediate model that converts a site-local time): the typed value a valid
    odd row must be staged with, found by the raw table's first column."""
    with CORPUS.open(newline="") as handle:
        return [
            {
                **row,
                "overrides": json.loads(row["overrides"]),
                "expect_staged": json.loads(row.get("expect_staged") or "{}"),
            }
            for row in csv.DictReader(handle)
        ]


def expected_reasons(row: dict) -> list[str]:
    """The reason codes the quarantine must hold for a corpus row's key."""
    expected = row["expected_reason"]
    if not expected:  # odd but valid: staged, not quarantined
        return []
    if expected == "duplicate_row":  # the first copy is staged, the others quarantined
        return ["duplicate_row"]
    if expected == "conflicting_duplicate_key":  # every copy: nobody can tell which is right
        return ["conflicting_duplicate_key"] * 2
    return [expected]


def source_of(table: str) -> str:
    prefix = table.split("_")[0]
    return {"mes": "mes", "oms": "oms", "sd": "sd", "crm": "crm"}.get(prefix, "outcomes")


def _rows_to_insert(columns: list[str], template: tuple, table: str) -> list[list[Any]]:
    rows = [r for r in corpus() if r["table_name"] == table]
    return [
        [(dict(zip(columns, template, strict=True)) | row["overrides"])[c] for c in columns]
        for row in rows
    ]


def load_corpus(db_path: Path) -> None:
    """Inject the corpus into the raw schema of a DuckDB file."""
    with duckdb.connect(str(db_path)) as con:
        for table in sorted({row["table_name"] for row in corpus()}):
            columns = [c[0] for c in con.execute(f"describe raw.{table}").fetchall()]
            casts = ", ".join(f"cast({c} as varchar) as {c}" for c in columns)
            con.execute(f"create or replace table raw.{table} as select {casts} from raw.{table}")
            template = con.execute(
                f"select * from raw.{table} order by {columns[0]} limit 1"
            ).fetchone()
            placeholders = ", ".join("?" for _ in columns)
            con.executemany(
                f"insert into raw.{table} values ({placeholders})",
                _rows_to_insert(columns, template, table),
            )


def load_corpus_postgres(con: Any) -> None:
    """Inject the corpus into the raw schema of a PostgreSQL database (psycopg2 connection).
    The template row is chosen in byte order, as on DuckDB, so both engines get the same rows."""
    with con, con.cursor() as cur:
        for table in sorted({row["table_name"] for row in corpus()}):
            cur.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = %s order by ordinal_position",
                [table],
            )
            columns = [c[0] for c in cur.fetchall()]
            alters = ", ".join(f"alter column {c} type text using {c}::text" for c in columns)
            cur.execute(f"alter table raw.{table} {alters}")
            cur.execute(f'select * from raw.{table} order by {columns[0]} collate "C" limit 1')
            template = cur.fetchone()
            placeholders = ", ".join("%s" for _ in columns)
            cur.executemany(
                f"insert into raw.{table} values ({placeholders})",
                _rows_to_insert(columns, template, table),
            )
