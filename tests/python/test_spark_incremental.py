"""Incremental = full refresh on Apache Spark (parquet tables, no Delta): the incremental
models overwrite the partitions a run rewrites (macros/partition_overwrite.sql).

The batches of test_incremental (batch 1 before the cut-off; batch 2 with late rows, in-place
updates, a re-promised day, dirty rows, a renamed shipment and deleted rows) are cut from the
demo raw data in DuckDB with the same SQL and loaded into Spark's raw tables (the seeded
tables' own column types), since a Spark table cannot UPDATE. Batch 1 is built as of the
cut-off into the incr_* schemas, batch 2 loaded and the same models run incrementally as of
the demo's as_of; a full refresh of the same raw rows into the full_* schemas must match them
row for row (every compared model of test_incremental, and every model of the staging
schema), and a rerun with no new data changes nothing.

Runs only under `make test-spark` (OUTPUT_KPIS_TEST_SPARK=1): five dbt runs on Spark.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from spark_fixtures import SKIP_UNLESS_SPARK
from spark_sql import except_both_ways, run_spark_sql, table_columns
from test_incremental import (
    COMPARED_MODELS,
    CUTOFF,
    INCREMENTAL_MODELS,
    SCHEMA,
    SELECTION,
    STAMPS,
    UNIT_MODELS,
    load_raw,
    raw_source,  # noqa: F401 (a fixture)
    raw_tables,
    repromised_day,
)

from conftest import DEMO_AS_OF, run_dbt

pytestmark = SKIP_UNLESS_SPARK

PREFIX = {"incremental": "incr_", "full": "full_"}
RAW_SCHEMA = "raw"


def spark_vars(as_of: str, build: str) -> str:
    return json.dumps({"as_of": as_of, "output_kpis_build_schema_prefix": PREFIX[build]})


@dataclass(frozen=True)
class SparkBuilds:
    spark_dir: Path
    seconds: dict[str, float]
    model_seconds: dict[str, dict[str, float]]


def load_into_spark(batches: Path, parquet_dir: Path, spark_dir: Path) -> None:
    """Overwrite every Spark raw table with the rows of the DuckDB file `batches`, cast to the
    Spark table's column types (by name)."""
    con = duckdb.connect(str(batches), read_only=True)
    tables = raw_tables(con, batches.stem, RAW_SCHEMA)
    shutil.rmtree(parquet_dir, ignore_errors=True)
    parquet_dir.mkdir(parents=True)
    for table in tables:
        con.execute(
            f"copy {RAW_SCHEMA}.{table} to '{parquet_dir / table}.parquet' (format parquet)"
        )
    con.close()
    described = run_spark_sql(spark_dir, [f"describe table {RAW_SCHEMA}.{t}" for t in tables])
    statements = []
    for table, rows in zip(tables, described, strict=True):
        columns = [f"cast(`{name}` as {kind}) as `{name}`" for name, kind in table_columns(rows)]
        statements.append(
            f"insert overwrite table {RAW_SCHEMA}.{table} select {', '.join(columns)} "
            f"from parquet.`{parquet_dir / table}.parquet`"
        )
    run_spark_sql(spark_dir, statements)


@pytest.fixture(scope="module")
def spark_builds(
    tmp_path_factory: pytest.TempPathFactory,
    profiles_dir: Path,
    raw_source: Path,  # noqa: F811
) -> SparkBuilds:
    root = tmp_path_factory.mktemp("spark_incremental")
    spark_dir = root / "spark"
    target = root / "target"
    common = {
        "db_path": root / "unused.duckdb",
        "target_path": target,
        "profiles_dir": profiles_dir,
        "extra_env": {
            "OUTPUT_KPIS_SPARK_DIR": str(spark_dir),
            "OUTPUT_KPIS_SPARK_DRIVER_MEMORY": os.environ.get(
                "OUTPUT_KPIS_SPARK_DRIVER_MEMORY", "2g"
            ),
        },
    }
    seconds: dict[str, float] = {}
    model_seconds: dict[str, dict[str, float]] = {}

    def dbt(label: str, args: list[str], dbt_vars: str) -> None:
        started = time.perf_counter()
        run_dbt([*args, "--target", "spark"], dbt_vars=dbt_vars, **common)
        seconds[label] = round(time.perf_counter() - started, 1)
        results = json.loads((target / "run_results.json").read_text())["results"]
        times = {r["unique_id"].rsplit(".", 1)[1]: r["execution_time"] for r in results}
        model_seconds[label] = {m: round(times[m], 2) for m in INCREMENTAL_MODELS if m in times}
        model_seconds[label]["(base models)"] = round(
            sum(s for m, s in times.items() if m.startswith("base_")), 1
        )
        model_seconds[label]["(all models)"] = round(sum(times.values()), 1)

    day = repromised_day(raw_source)
    batches = root / "batches.duckdb"
    dbt("seed", ["seed", "--full-refresh"], spark_vars(DEMO_AS_OF, "incremental"))
    load_raw(batches, raw_source, batch=1, repromised=day)
    load_into_spark(batches, root / "parquet", spark_dir)
    dbt("batch 1", ["run", *SELECTION], spark_vars(f"{CUTOFF} 00:00:00", "incremental"))
    load_raw(batches, raw_source, batch=2, repromised=day)
    load_into_spark(batches, root / "parquet", spark_dir)
    dbt("incremental", ["run", *SELECTION], spark_vars(DEMO_AS_OF, "incremental"))
    # the state after the incremental run, kept to prove a rerun is a no-op
    reference_tables = run_spark_sql(spark_dir, ["show tables in incr_reference"])[0]
    copies = [
        "create database if not exists first_run_intermediate",
        "create database if not exists first_run_marts",
        "create database if not exists full_reference",
    ]
    for model in COMPARED_MODELS:
        copies.append(
            f"create table first_run_{SCHEMA[model]}.{model} as "
            f"select * from incr_{SCHEMA[model]}.{model}"
        )
    for _, table, *_ in reference_tables:
        copies.append(
            f"create table full_reference.{table} as select * from incr_reference.{table}"
        )
    run_spark_sql(spark_dir, copies)
    dbt("rerun", ["run", *SELECTION], spark_vars(DEMO_AS_OF, "incremental"))
    dbt("full", ["run", *SELECTION, "--full-refresh"], spark_vars(DEMO_AS_OF, "full"))
    print(f"\nSpark incremental = full refresh, seconds: {seconds}")
    for model in (*INCREMENTAL_MODELS, "(base models)", "(all models)"):
        print(
            f"  {model}: "
            + ", ".join(
                f"{label} {times[model]:.2f}s"
                for label, times in model_seconds.items()
                if model in times
            )
        )
    return SparkBuilds(spark_dir, seconds, model_seconds)


@pytest.fixture(scope="module")
def compared(spark_builds: SparkBuilds) -> dict[str, tuple[int, int, int]]:
    staging = [
        row[1] for row in run_spark_sql(spark_builds.spark_dir, ["show tables in full_staging"])[0]
    ]
    assert len([model for model in staging if model.startswith("base_")]) >= 20
    pairs = [
        (f"incr_{SCHEMA[model]}.{model}", f"full_{SCHEMA[model]}.{model}")
        for model in COMPARED_MODELS
    ]
    pairs += [(f"incr_staging.{model}", f"full_staging.{model}") for model in staging]
    pairs += [
        (f"incr_{SCHEMA[model]}.{model}", f"first_run_{SCHEMA[model]}.{model}")
        for model in COMPARED_MODELS
    ]
    reruns = pairs[-len(COMPARED_MODELS) :]
    # stamps included for the incremental unit models: a rerun rebuilds none of their rows; the
    # KPI models are tables on Spark, rebuilt (and stamped rebuilt_at) by every run
    unit_reruns = [pair for pair in reruns if pair[0].rsplit(".", 1)[1] in UNIT_MODELS]
    table_reruns = [pair for pair in reruns if pair not in unit_reruns]
    return (
        except_both_ways(spark_builds.spark_dir, pairs[: -len(COMPARED_MODELS)], STAMPS)
        | {
            f"rerun:{left}": counts
            for left, counts in except_both_ways(spark_builds.spark_dir, unit_reruns).items()
        }
        | {
            f"rerun:{left}": counts
            for left, counts in except_both_ways(
                spark_builds.spark_dir, table_reruns, STAMPS
            ).items()
        }
    )


@pytest.mark.parametrize("model", COMPARED_MODELS)
def test_spark_incremental_equals_full_refresh(
    compared: dict[str, tuple[int, int, int]], model: str
) -> None:
    rows, only_incremental, only_full = compared[f"incr_{SCHEMA[model]}.{model}"]
    assert rows > 0
    assert (only_incremental, only_full) == (0, 0)


def test_spark_staging_layer_equals_full_refresh(
    compared: dict[str, tuple[int, int, int]],
) -> None:
    differing = {
        table: counts
        for table, counts in compared.items()
        if table.startswith("incr_staging.") and counts[1:] != (0, 0)
    }
    assert differing == {}


@pytest.mark.parametrize("model", COMPARED_MODELS)
def test_spark_rerun_without_new_data_changes_nothing(
    compared: dict[str, tuple[int, int, int]], model: str
) -> None:
    assert compared[f"rerun:incr_{SCHEMA[model]}.{model}"][1:] == (0, 0)


def test_spark_models_are_incremental_partitioned_tables(spark_builds: SparkBuilds) -> None:
    """The unit models are partitioned by as_of_at and hold one partition, the new as_of's (the
    previous one dropped); the base models, by the run that classified their rows, hold a
    partition per run that classified rows into them (full build, incremental run, rerun), not
    one per row."""
    base_models = ["base_mes__unit_events", "base_oms__orders", "base_sd__tickets"]
    shown = run_spark_sql(
        spark_builds.spark_dir,
        [f"show partitions incr_intermediate.{model}" for model in UNIT_MODELS]
        + [f"show partitions incr_staging.{model}" for model in base_models],
    )
    partitions = {
        model: [row[0] for row in rows]
        for model, rows in zip([*UNIT_MODELS, *base_models], shown, strict=True)
    }
    for model, values in partitions.items():
        if model in UNIT_MODELS and values[0].startswith("as_of_at="):
            assert len(values) == 1 and DEMO_AS_OF[:10] in values[0], (model, values)
        else:
            assert 1 <= len(values) <= 3, (model, values)
