"""The CI-sized Spark check, part of every `make test` (make test-spark-ci): the package on a
real Spark standalone cluster (a master and two workers started from the PySpark installation,
kpi_tooling.core.spark_cluster), built in full, then incrementally after an append, and equal
to a DuckDB full build of the same rows.

The data is the demo's last two months (every raw row whose timeline falls on or after
WINDOW_START, with its child rows, and every reference row), split as the benchmark splits it
(kpi_tooling.bench.append: rows before CUTOFF, with the columns filled in later still empty,
then the rest): a few thousand rows, so the check costs what dbt and Spark cost per statement,
not what the data costs. The first build (the reference seeds, the incremental models and
their parents, as of the cut-off) and, after the append, the second (the compared models and
everything upstream of them, the base and unit models incrementally, rewriting partitions in
both layouts of macros/partition_overwrite.sql, and one unit test, its fixtures through the
time-zone macros) are one `dbt build` each, two models side by side
(OUTPUT_KPIS_SPARK_THREADS=2), so every engine-specific macro renders and runs
(test_every_spark_macro_is_exercised checks that against the nodes that ran); the unit
models, the KPI models and the public marts must equal the DuckDB build row for row. The whole
cross-engine comparison (every model, the demo's whole data) is make test-spark's.

Runs under `make test` (OUTPUT_KPIS_TEST_SPARK_CI=1, in .venv-spark) and `make test-spark`;
skipped elsewhere. Under CI=true it must run: a missing Spark is an error, not a skip.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from spark_sql import except_both_ways, run_spark_sql, table_columns
from test_incremental import (
    COMPARED_MODELS,
    SCHEMA,
    STAMPS,
    UNIT_MODELS,
    raw_source,  # noqa: F401 (a fixture)
    raw_tables,
)

from conftest import DEMO_AS_OF, run_dbt
from kpi_tooling.bench.append import CHILDREN, TIMELINE, before, split
from kpi_tooling.core.spark_raw import load_statements

pytestmark = pytest.mark.skipif(
    "1"
    not in (os.environ.get("OUTPUT_KPIS_TEST_SPARK_CI"), os.environ.get("OUTPUT_KPIS_TEST_SPARK")),
    reason="the Spark check runs under `make test` / `make test-spark` "
    "(OUTPUT_KPIS_TEST_SPARK_CI=1 in .venv-spark)",
)

WINDOW_START = "2025-11-01"
# Parents kept whole (their rows are referenced by the windowed rows, whenever they began):
# without them every order and every unit event would be an unknown_reference.
KEPT_WHOLE = ("oms_customers", "mes_work_orders")
CUTOFF = "2025-12-15"
COMPARED = (*COMPARED_MODELS, "fct_outcome_values")
# one unit test: its fixtures take dbt's unit-test path (safe_cast) and the time-zone macros
UNIT_TESTS = ("shift_boundaries_follow_site_time_zone_across_dst_changes",)
# Models built on Spark only for a macro of theirs that no compared model reaches
# (test_every_spark_macro_is_exercised names any other): spark__median.
EXTRA_MODELS = ("fct_kpi_anomalies",)
SEEDS_AND_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]
MODELS_AND_UNIT_TESTS = [
    "build",
    "--resource-type",
    "model",
    "--resource-type",
    "unit_test",
    # the one unit test named in CHECKED, not every unit test of the models (dbt selects them
    # with their models)
    "--indirect-selection",
    "empty",
]
# The first build: the reference seeds, the incremental models and everything they read.
FIRST_BUILD = ["--select", "path:seeds/reference", *[f"+{model}" for model in UNIT_MODELS]]
# After the append: the compared models and everything upstream of them (the base and unit
# models incrementally), the extra models, and the unit test.
CHECKED = [
    "--select",
    *[f"+{model}" for model in (*COMPARED, *EXTRA_MODELS)],
    *[f"test_name:{name}" for name in UNIT_TESTS],
]
# A base model (partitions by run stamp) and a unit model (by as_of): their partitions.
PARTITIONED = (
    "build_staging.base_mes__unit_events",
    "build_intermediate.int_manufacturing__completed_units",
)


@dataclass(frozen=True)
class CheckBuilds:
    spark_dir: Path
    target: Path
    seconds: dict[str, float]
    executors_per_worker: list[int]
    ran: list[str]  # the unique ids of the nodes the dbt invocations on Spark ran
    described: list[list[list[Any]]]  # `describe table` of each compared Spark table
    load_duckdb_build: list[str]  # statements creating the DuckDB build's tables in Spark
    partitions: list[list[str]]  # the partitions of each PARTITIONED table


def window_rows(source: Path, small: Path) -> dict[str, int]:
    """Write `small` (schema raw): the demo rows of the last two months (timeline on or after
    WINDOW_START, child rows with their parent, every row of the other tables and of the
    parents in KEPT_WHOLE)."""
    small.unlink(missing_ok=True)
    rows = {}
    with duckdb.connect(str(small)) as con:
        con.execute(f"attach '{source}' as src (read_only)")
        con.execute("create schema raw")
        for table in raw_tables(con, "src"):
            keep = (
                f"not ({before(table, WINDOW_START, 'src.raw')})"
                if (table in TIMELINE and table not in KEPT_WHOLE) or table in CHILDREN
                else "true"
            )
            con.execute(f"create table raw.{table} as select * from src.raw.{table} where {keep}")
            rows[table] = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    return rows


def load_raw_into_spark(raw_db: Path, parquet_dir: Path, spark_dir: Path) -> None:
    """(Re)create Spark's raw tables from the DuckDB file's schema raw, as the benchmark does
    (kpi_tooling.core.spark_raw)."""
    run_spark_sql(spark_dir, load_statements(raw_db, parquet_dir))


def worker_executors(ports: list[int]) -> list[int]:
    """Executors each worker ran (running or finished), from its web UI's JSON."""
    counts = []
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/", timeout=5) as response:
            state = json.loads(response.read())
        counts.append(len(state.get("executors", [])) + len(state.get("finishedexecutors", [])))
    return counts


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A master and two workers on free ports (another cluster may run on this machine)."""
    from kpi_tooling.core.spark_cluster import Cluster, start, stop

    spark_cluster = Cluster(
        tmp_path_factory.mktemp("spark_cluster"),
        master_port=0,
        master_ui_port=0,
        worker_ui_ports=[0, 0],
    )
    start(spark_cluster)
    yield spark_cluster
    stop(spark_cluster)


@pytest.fixture(scope="module")
def check_builds(
    cluster: Any,
    tmp_path_factory: pytest.TempPathFactory,
    profiles_dir: Path,
    raw_source: Path,  # noqa: F811
) -> CheckBuilds:
    root = tmp_path_factory.mktemp("spark_check")
    spark_dir, target = root / "spark", root / "target"
    small, base = root / "small.duckdb", root / "base.duckdb"
    window_rows(raw_source, small)
    split(small, base, CUTOFF)
    spark = {
        "db_path": root / "unused.duckdb",
        "target_path": target,
        "profiles_dir": profiles_dir,
        "extra_env": {
            "OUTPUT_KPIS_SPARK_DIR": str(spark_dir),
            "OUTPUT_KPIS_SPARK_MASTER": cluster.master_url,
            "OUTPUT_KPIS_SPARK_DRIVER_MEMORY": "2g",
            "OUTPUT_KPIS_SPARK_THREADS": "2",
        },
    }
    seconds: dict[str, float] = {}
    ran: list[str] = []

    def step(label: str, dbt_args: list[str] | None = None, action: Any = None, **kw: Any) -> None:
        """Time one step: a dbt invocation on Spark (its nodes that ran recorded) or an
        action."""
        started = time.perf_counter()
        if dbt_args is None:
            action()
        else:
            run_dbt([*dbt_args, "--target", "spark"], **spark, **kw)
            results = json.loads((target / "run_results.json").read_text())["results"]
            ran.extend(r["unique_id"] for r in results if r["status"] in ("success", "pass"))
        seconds[label] = round(time.perf_counter() - started, 1)

    cut_vars = json.dumps({"as_of": f"{CUTOFF} 00:00:00"})
    final_vars = json.dumps({"as_of": DEMO_AS_OF})
    step("load base", action=lambda: load_raw_into_spark(base, root / "parquet_base", spark_dir))
    # the first build: the reference seeds and what the incremental models read, in one
    # invocation (each costs dbt's start, a Spark application and the run-start hooks)
    step("spark first build", [*SEEDS_AND_MODELS, *FIRST_BUILD], dbt_vars=cut_vars)
    step("load append", action=lambda: load_raw_into_spark(small, root / "parquet_all", spark_dir))
    step("spark incremental", [*MODELS_AND_UNIT_TESTS, *CHECKED], dbt_vars=final_vars)
    executors = worker_executors(cluster.worker_ui_ports)
    # DuckDB: the same rows, built in full, then its tables handed to Spark for the comparison
    duck = root / "duckdb" / "output_kpis.duckdb"
    duck.parent.mkdir()
    with duckdb.connect(str(duck)) as con:
        con.execute(f"attach '{small}' as src (read_only)")
        con.execute("create schema raw")
        for table in raw_tables(con, "src"):
            con.execute(f"create table raw.{table} as select * from src.raw.{table}")
    on_duckdb = {
        "db_path": duck,
        "target_path": root / "duckdb_target",
        "profiles_dir": profiles_dir,
    }
    reference = ["seed", "--full-refresh", "--select", "path:seeds/reference"]
    step(
        "duckdb full",
        action=lambda: (
            run_dbt(reference, **on_duckdb),
            run_dbt(["run", "--select", *[f"+{model}" for model in COMPARED]], **on_duckdb),
        ),
    )
    export = root / "duckdb_parquet"
    export.mkdir()
    statements = ["create database if not exists duckdb_build"]
    # one Spark process for the Spark tables' columns and partitions
    shown = run_spark_sql(
        spark_dir,
        [
            *[f"describe table build_{SCHEMA.get(m, 'marts')}.{m}" for m in COMPARED],
            *[f"show partitions {table}" for table in PARTITIONED],
        ],
    )
    described, partitions = shown[: len(COMPARED)], shown[len(COMPARED) :]
    with duckdb.connect(str(duck), read_only=True) as con:
        for model, rows in zip(COMPARED, described, strict=True):
            path = export / f"{model}.parquet"
            con.execute(f"copy {SCHEMA.get(model, 'marts')}.{model} to '{path}' (format parquet)")
            columns = [
                f"cast(`{name}` as {kind}) as `{name}`" for name, kind in table_columns(rows)
            ]
            statements.append(
                f"create table duckdb_build.{model} using parquet as "
                f"select {', '.join(columns)} from parquet.`{path}`"
            )
    print(f"\nSpark check on a 2-worker standalone cluster, seconds: {seconds}")
    return CheckBuilds(
        spark_dir,
        target,
        seconds,
        executors,
        ran,
        described,
        statements,
        [[row[0] for row in rows] for rows in partitions],
    )


@pytest.fixture(scope="module")
def compared(check_builds: CheckBuilds) -> dict[str, tuple[int, int, int]]:
    """Per model: (rows on DuckDB, rows only on Spark, rows only on DuckDB), EXCEPT ALL both
    ways over every column but the run stamps, doubles rounded to 9 decimals; one Spark
    process for all of them, which first creates the DuckDB build's tables."""
    pairs = [
        (f"build_{SCHEMA.get(model, 'marts')}.{model}", f"duckdb_build.{model}")
        for model in COMPARED
    ]
    counts = except_both_ways(
        check_builds.spark_dir,
        pairs,
        STAMPS,
        described=check_builds.described,
        first=check_builds.load_duckdb_build,
    )
    return {model: counts[left] for model, (left, _) in zip(COMPARED, pairs, strict=True)}


@pytest.mark.parametrize("model", COMPARED)
def test_spark_incremental_build_equals_the_duckdb_full_build(
    compared: dict[str, tuple[int, int, int]], model: str
) -> None:
    rows, only_spark, only_duckdb = compared[model]
    assert rows > 0
    assert (only_spark, only_duckdb) == (0, 0)


def test_the_build_ran_on_both_workers_of_the_cluster(check_builds: CheckBuilds) -> None:
    assert len(check_builds.executors_per_worker) == 2
    assert min(check_builds.executors_per_worker) >= 1, check_builds.executors_per_worker


def test_the_incremental_run_rewrote_partitions(check_builds: CheckBuilds) -> None:
    """The models are incremental on Spark (not tables in disguise): a base model holds the rows
    of both runs in two partitions (the full build's, the incremental run's), a unit model one
    partition, the new as_of."""
    stamps, as_of = check_builds.partitions
    assert len(stamps) == 2, stamps
    assert len(as_of) == 1 and DEMO_AS_OF[:10] in as_of[0], as_of


def reached_macros(manifest: dict[str, Any], node_ids: list[str]) -> set[str]:
    """The macros the nodes call, transitively; a macro dispatched on Spark reaches its
    spark__ implementation, and dbt's own seed, contract and unit-test macros reach this
    package's overrides when a seed, a contracted model or a unit test ran."""
    macros = manifest["macros"]
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    todo = []
    for node_id in node_ids:
        node = nodes[node_id]
        todo += node.get("depends_on", {}).get("macros", [])
        if node["resource_type"] == "seed":
            todo += [
                "macro.output_kpis.spark__create_csv_table",
                "macro.output_kpis.spark__load_csv_rows",
            ]
        if node["resource_type"] == "unit_test":
            todo.append("macro.output_kpis.spark__safe_cast")
        if node.get("config", {}).get("contract", {}).get("enforced"):
            todo.append("macro.output_kpis.spark__get_empty_schema_sql")
    seen: set[str] = set()
    while todo:
        macro = todo.pop()
        if macro in seen or macro not in macros:
            continue
        seen.add(macro)
        todo += macros[macro]["depends_on"]["macros"]
        package, name = macro.rsplit(".", 1)
        todo.append(f"{package}.spark__{name}")
    return seen


def test_every_spark_macro_is_exercised(check_builds: CheckBuilds) -> None:
    """Every spark__ macro of the package is reached by a node this check ran on Spark (the
    seeds, models and unit test its dbt invocations report as run; the manifest holds them
    all). A spark__ macro reached by no model upstream of the compared ones goes into
    CHECKED through EXTRA_MODELS."""
    manifest = json.loads((check_builds.target / "manifest.json").read_text())
    spark_macros = {
        macro for macro in manifest["macros"] if macro.startswith("macro.output_kpis.spark__")
    }
    assert spark_macros - reached_macros(manifest, check_builds.ran) == set()
