"""Run SQL statements on the Spark catalogue of a dbt Spark build, in a process of its own.

The Derby metastore of the `spark` target admits one JVM at a time and stays booted in a JVM
until it exits, so the tests never open a Spark session in the pytest process while dbt runs
after it: they call ``run_spark_sql`` (``python spark_sql.py <spark_dir>``, the statements as
JSON on stdin, the rows of each as JSON on stdout). The session is configured as the profile's
`spark` target configures dbt's (kpi_tooling.core.spark: warehouse and metastore under
OUTPUT_KPIS_SPARK_DIR), on local[1].
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def table_columns(described: list[list[Any]]) -> list[tuple[str, str]]:
    """(name, Spark type) of each column, from the rows of `describe table` (which go on with
    the partition information after a blank or '#' row)."""
    columns = []
    for name, kind, *_ in described:
        if not name or name.startswith("#"):
            break
        columns.append((name, kind))
    return columns


def comparison_sql(columns: list[tuple[str, str]], left: str, right: str) -> list[str]:
    """Two counts: rows only in `left`, rows only in `right` (EXCEPT ALL both ways; doubles
    rounded to 9 decimals, as kpi_tooling.bench.compare does on DuckDB)."""
    select = ", ".join(
        f"round(`{name}`, 9) as `{name}`" if kind == "double" else f"`{name}`"
        for name, kind in columns
    )
    one, two = f"select {select} from {left}", f"select {select} from {right}"
    return [
        f"select count(*) from ({one} except all {two}) as only_left",
        f"select count(*) from ({two} except all {one}) as only_right",
    ]


def except_both_ways(
    spark_dir: Path,
    pairs: list[tuple[str, str]],
    leave_out: tuple[str, ...] = (),
    described: list[list[list[Any]]] | None = None,
    first: list[str] | None = None,
) -> dict[str, tuple[int, int, int]]:
    """Per left table: (rows of the right table, rows only left, rows only right). `described`:
    the rows of `describe table` of each left table, when the caller has them; `first`:
    statements to run before the comparison in the same Spark process (each process costs a
    JVM's start)."""
    if described is None:
        described = run_spark_sql(spark_dir, [f"describe table {left}" for left, _ in pairs])
    statements = list(first or [])
    for (left, right), rows in zip(pairs, described, strict=True):
        columns = [(name, kind) for name, kind in table_columns(rows) if name not in leave_out]
        statements += [f"select count(*) from {right}", *comparison_sql(columns, left, right)]
    results = run_spark_sql(spark_dir, statements)[len(first or []) :]
    counts = [rows[0][0] for rows in results]
    return {left: tuple(counts[3 * i : 3 * i + 3]) for i, (left, _) in enumerate(pairs)}


def _value(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def run_spark_sql(
    spark_dir: Path, statements: list[str], profiles_dir: Path | None = None
) -> list[list[list[Any]]]:
    """The rows of each statement (values as JSON: timestamps and decimals as text), on the
    warehouse `spark_dir` (OUTPUT_KPIS_SPARK_DIR) of the profile in `profiles_dir` (default
    DBT_PROFILES_DIR, else this repository's profiles.example.yml)."""
    profiles = profiles_dir or Path(os.environ.get("DBT_PROFILES_DIR", ""))
    if not (profiles / "profiles.yml").exists():
        profiles = HERE.parents[1] / "target" / "spark_sql_profiles"
        profiles.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE.parents[1] / "profiles.example.yml", profiles / "profiles.yml")
    result = subprocess.run(
        [sys.executable, str(HERE / "spark_sql.py")],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parents[1],
        env={
            **os.environ,
            "PYSPARK_PYTHON": sys.executable,
            "PYTHONPATH": str(HERE.parents[1]),
            "DBT_PROFILES_DIR": str(profiles),
            "OUTPUT_KPIS_SPARK_DIR": str(spark_dir),
            "OUTPUT_KPIS_SPARK_DRIVER_MEMORY": "1g",
        },
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    from kpi_tooling.core.spark import SparkProfile

    spark = SparkProfile.load().session(master="local[1]")
    spark.sparkContext.setLogLevel("ERROR")
    out = []
    for statement in json.loads(sys.stdin.read()):
        rows = spark.sql(statement).collect()
        out.append([[_value(value) for value in row] for row in rows])
    spark.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
