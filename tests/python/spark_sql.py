"""Run SQL statements on the Spark catalogue of a dbt Spark build, in a process of its own.

The Derby metastore of the `spark` target admits one JVM at a time and stays booted in a JVM
until it exits, so the tests never open a Spark session in the pytest process while dbt runs
after it: they call ``run_spark_sql`` (``python spark_sql.py <spark_dir>``, the statements as
JSON on stdin, the rows of each as JSON on stdout). The session is configured as the profile's
`spark` target configures dbt's (warehouse and metastore under OUTPUT_KPIS_SPARK_DIR, UTC).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def spark_session(spark_dir: Path, master: str = "local[1]") -> Any:
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("output_kpis_tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.stream.error.file={spark_dir}/derby.log")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .enableHiveSupport()
        .getOrCreate()
    )


def _value(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def run_spark_sql(spark_dir: Path, statements: list[str]) -> list[list[list[Any]]]:
    """The rows of each statement (values as JSON: timestamps and decimals as text)."""
    result = subprocess.run(
        [sys.executable, str(HERE / "spark_sql.py"), str(spark_dir)],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    spark = spark_session(Path(sys.argv[1]))
    spark.sparkContext.setLogLevel("ERROR")
    out = []
    for statement in json.loads(sys.stdin.read()):
        rows = spark.sql(statement).collect()
        out.append([[_value(value) for value in row] for row in rows])
    spark.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
