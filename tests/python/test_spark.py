"""The same models on Apache Spark (dbt-spark, a local Spark session): the demo builds with every
data and unit test passing, and the public marts hold the same rows as the DuckDB build.

Every row of fct_kpi_values and fct_outcome_values is compared between the two engines, both
ways, as for Postgres (test_postgres.row_differences): key columns equal, numerator and
denominator equal, value within 1e-9; rebuilt_at is ignored. The Spark tables are read through
a Spark session on the build's catalogue.

Runs only under `make test-spark` (env OUTPUT_KPIS_TEST_SPARK=1, in .venv-spark with
requirements-spark.txt and Java 17), on the one demo build the Spark modules share
(spark_fixtures); `make test` runs the smaller check of test_spark_ci.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from spark_fixtures import SKIP_UNLESS_SPARK, SparkBuild, spark, spark_build, spark_env  # noqa: F401
from test_postgres import BUILD_TIME_COLUMNS, PUBLIC_MARTS, duckdb_rows, row_differences

from conftest import Warehouse

pytestmark = SKIP_UNLESS_SPARK

# dbt builds Spark's custom schemas with the build_ prefix, as on Postgres.
MARTS_SCHEMA = "build_marts"

Row = dict[str, Any]


def spark_rows(session: Any, schema: str, mart: str) -> list[Row]:
    """Every row of a Spark table as Python values. Timestamps go through timestamp_ntz so
    they come back as the naive UTC values DuckDB holds, whatever the local time zone."""
    table = session.table(f"{schema}.{mart}")
    columns = [
        f"cast(`{field.name}` as timestamp_ntz) as `{field.name}`"
        if field.dataType.typeName() == "timestamp"
        else f"`{field.name}`"
        for field in table.schema.fields
    ]
    return [row.asDict() for row in table.selectExpr(*columns).collect()]


def test_demo_builds_on_spark_with_every_data_and_unit_test_passing(
    spark_build: SparkBuild,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    with capsys.disabled():
        print(f"\nSpark demo build, seconds: {spark_build.seconds}")
    manifest = json.loads(spark_build.manifest.read_text())
    results = json.loads(spark_build.run_results.read_text())["results"]
    statuses = Counter(result["status"] for result in results)
    assert set(statuses) <= {"success", "pass"}, statuses
    ran = {result["unique_id"] for result in results}
    assert set(manifest["unit_tests"]) <= ran and len(manifest["unit_tests"]) > 0
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {n["unique_id"] for n in models} <= ran
    # No DELETE/UPDATE without Delta: the incremental models overwrite partitions instead.
    assert {n["config"]["materialized"] for n in models} == {"table", "view", "incremental"}
    # (the base and unit models; the KPI period models are tables on Spark)
    incremental = [n for n in models if n["config"]["materialized"] == "incremental"]
    assert len([n for n in incremental if n["name"].startswith("base_")]) >= 20
    assert {n["name"] for n in incremental} >= {"int_fulfilment__order_lines"}
    for node in incremental:
        assert node["config"]["incremental_strategy"] == "insert_overwrite", node["name"]
        assert len(node["config"]["partition_by"]) == 1, node["name"]


@pytest.mark.parametrize("mart", PUBLIC_MARTS)
def test_spark_marts_equal_the_duckdb_build_row_for_row(
    mart: str,
    spark: Any,  # noqa: F811
    warehouse: Warehouse,
    capsys: pytest.CaptureFixture[str],
) -> None:
    on_duckdb = duckdb_rows(warehouse.db_path, mart)
    on_spark = spark_rows(spark, MARTS_SCHEMA, mart)
    assert on_duckdb and on_spark
    assert set(on_duckdb[0]) - BUILD_TIME_COLUMNS == set(on_spark[0]) - BUILD_TIME_COLUMNS
    only_duckdb, only_spark, examples = row_differences(on_duckdb, on_spark)
    with capsys.disabled():
        print(
            f"\n{mart}: {len(on_duckdb)} rows on DuckDB, {len(on_spark)} on Spark; "
            f"{only_duckdb} only on DuckDB, {only_spark} only on Spark"
        )
    assert (only_duckdb, only_spark) == (0, 0), "\n".join(examples)
    assert len(on_duckdb) == len(on_spark)
