"""Load raw tables held in a DuckDB file into Spark's raw database (``RAW_SCHEMA``, the
project's raw schema), where the package's sources read them on the ``spark`` target (the
benchmark's generated data, the Spark check's demo window).

Each table goes through a parquet file (DuckDB ``COPY``), then ``create table raw.<name> using
parquet as select`` casts every column to the Spark type of its DuckDB type (decimals keep their
precision; DuckDB's naive timestamps become Spark timestamps, read in the session's UTC), so
the raw tables have the types ``dbt seed`` gives the demo seeds. An existing table of the same
name is replaced: loading the full data after a base load is "the rest arrived".

Runs in a process of its own, with the dbt profile's Spark settings (kpi_tooling.core.spark;
the Derby metastore admits one process at a time, so never while dbt runs)::

    python -m kpi_tooling.core.spark_raw --raw-db raw.duckdb --parquet-dir parquet/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from kpi_tooling.config import RAW_SCHEMA

DUCKDB_TYPES = {
    "VARCHAR": "string",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}


def spark_type(duckdb_type: str) -> str:
    """The Spark type of a raw column's DuckDB type (decimal(p, s) keeps its precision)."""
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    return DUCKDB_TYPES[duckdb_type]


def load_statements(raw_db: Path, parquet_dir: Path) -> list[str]:
    """Write each table of the DuckDB file's schema raw to a parquet file in `parquet_dir`;
    the Spark statements that (re)create it in Spark's raw database."""
    parquet_dir.mkdir(parents=True, exist_ok=True)
    statements = [f"create database if not exists {RAW_SCHEMA}"]
    with duckdb.connect(str(raw_db), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? order by 1",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        for table in tables:
            path = (parquet_dir / f"{table}.parquet").resolve()
            con.execute(f"copy {RAW_SCHEMA}.{table} to '{path}' (format parquet)")
            columns = ", ".join(
                f"cast(`{name}` as {spark_type(kind)}) as `{name}`"
                for name, kind, *_ in con.execute(f"describe {RAW_SCHEMA}.{table}").fetchall()
            )
            statements += [
                f"drop table if exists {RAW_SCHEMA}.{table}",
                f"create table {RAW_SCHEMA}.{table} using parquet as "
                f"select {columns} from parquet.`{path}`",
            ]
    return statements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.core.spark_raw",
        description="Load the raw tables of a DuckDB file into Spark (the profile's spark target).",
    )
    parser.add_argument("--raw-db", required=True, type=Path, help="DuckDB file with schema raw")
    parser.add_argument("--parquet-dir", required=True, type=Path, help="where the files go")
    parser.add_argument("--master", default=None, help="override the profile's spark.master")
    args = parser.parse_args(argv)
    from kpi_tooling.core.spark import SparkProfile

    statements = load_statements(args.raw_db, args.parquet_dir)
    spark = SparkProfile.load().session(master=args.master)
    spark.sparkContext.setLogLevel("ERROR")
    for statement in statements:
        spark.sql(statement)
    spark.stop()
    print(f"loaded {(len(statements) - 1) // 2} raw tables into Spark's {RAW_SCHEMA} database")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
