"""Write-audit-publish on Spark: GE validates the Spark build, a refused audit publishes nothing,
an audited build is published row for row.

- GE runs the suites of the DuckDB build (the suite files and the declared units' generated
  suites, in Spark SQL) on the Spark build with GE's Spark engine: the same suites, the same
  rules, the same rows, and every rule holds;
- a unit row that breaks its definition (a scrapped unit counted good, in a copy of the unit
  model the manifest points GE at) fails GE naming the rule and the unit, and the publisher
  then refuses: every published name and every published row stays as it was;
- the audited build is published: every mart and serving view BI reads equals the build's row
  for row (EXCEPT ALL both ways), the serving views read the published copies, and the
  publication is recorded; a publish failing mid-repoint leaves the previous build published,
  and the next one keeps exactly one previous version.

Runs only with OUTPUT_KPIS_TEST_SPARK=1 (in .venv-spark, Java 17); the Spark build is shared
by the session (spark_fixtures.py: OUTPUT_KPIS_TEST_SPARK_DIR / _TARGET reuse a finished one).
"""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from spark_fixtures import SKIP_UNLESS_SPARK, SparkBuild, spark, spark_build, spark_env

from conftest import ROOT, Warehouse
from kpi_tooling.config import MARTS_SCHEMA, SERVING_SCHEMA
from kpi_tooling.errors import SetupError
from kpi_tooling.ge import validate
from kpi_tooling.publish import spark as spark_publish

pytestmark = SKIP_UNLESS_SPARK
__all__ = ["spark", "spark_build", "spark_env"]  # the fixtures this module uses

BAD_MODEL = "int_manufacturing__completed_units"
BAD_SCHEMA = "wap_test_bad"
BAD_SERIAL = "WAP-BAD-0001"
BROKEN_RULE = "a good unit is completed and not scrapped"  # what a scrapped good unit breaks


@dataclass(frozen=True)
class Run:
    """One in-process run of a tool's main(): exit code, stdout, seconds."""

    code: int
    output: str
    seconds: float


def run_main(main: Any, args: list[str]) -> Run:
    buffer = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(buffer):
        code = main(args)
    return Run(code, buffer.getvalue(), round(time.perf_counter() - started, 1))


def validate_args(manifest: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--spark",
        "--manifest",
        str(manifest),
        "--suites",
        str(ROOT / "expectations"),
        "--out",
        str(out),
        *extra,
    ]


def publish_args(build: SparkBuild, ge_results: Path) -> list[str]:
    return [
        "--manifest",
        str(build.manifest),
        "--run-results",
        str(build.run_results),
        "--ge-results",
        str(ge_results),
    ]


@pytest.fixture(scope="session")
def spark_ge_results(spark_env: SparkBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results file of `python -m kpi_tooling.ge.validate --spark` on the build."""
    return tmp_path_factory.mktemp("spark_ge") / "ge_results.json"


@pytest.fixture(scope="session")
def spark_ge(spark: Any, spark_env: SparkBuild, spark_ge_results: Path) -> Run:
    """The validation run (with Data Docs) that writes spark_ge_results."""
    return run_main(validate.main, validate_args(spark_env.manifest, spark_ge_results))


@pytest.fixture(scope="session")
def duckdb_ge(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same suites on the DuckDB build: what the Spark run must match."""
    out = tmp_path_factory.mktemp("duckdb_ge") / "ge_results.json"
    validate.run_suites(warehouse.db_path, warehouse.manifest_path, ROOT / "expectations", out)
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def spark_published(
    spark: Any, spark_env: SparkBuild, spark_ge: Run, spark_ge_results: Path
) -> Run:
    """The audited build, published (marts and serving repointed to a new version)."""
    assert spark_ge.code == validate.EXIT_OK, spark_ge.output
    return run_main(spark_publish.main, publish_args(spark_env, spark_ge_results))


def rules(report: dict[str, Any]) -> dict[str, list[str]]:
    return {s["suite"]: [e["rule"] for e in s["expectations"]] for s in report["suites"]}


def published_state(spark: Any) -> dict[str, tuple]:
    """Every published name: its version and (rows, sum of row hashes) of what it reads."""
    state = {}
    for schema in (MARTS_SCHEMA, SERVING_SCHEMA):
        for name, _ in spark_publish.objects(spark, schema):
            version = spark_publish.table_properties(spark, schema, name)
            rows, digest = spark.sql(
                "select count(*), sum(cast(hash(*) as bigint)) from "
                f"{spark_publish.ident(schema, name)}"
            ).collect()[0]
            state[f"{schema}.{name}"] = (version.get(spark_publish.VERSION_PROPERTY), rows, digest)
    return state


def version_schemas(spark: Any) -> set[str]:
    plan = spark_publish.SparkPublishPlan(spark_publish.DEFAULT_SCHEMAS, "build_")
    names = spark_publish.databases(spark)
    return {name for name in names if plan.versions_in([name])}


def differing_rows(spark: Any, left: str, right: str) -> tuple[int, int, int, int]:
    """(rows of left, of right, left EXCEPT ALL right, right EXCEPT ALL left)."""
    a, b = spark.table(left), spark.table(right)
    return a.count(), b.count(), a.exceptAll(b).count(), b.exceptAll(a).count()


def test_ge_validates_the_spark_build_with_the_duckdb_suites(
    spark_ge: Run, spark_ge_results: Path, duckdb_ge: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json.loads(spark_ge_results.read_text())
    on_spark, on_duckdb = rules(report), rules(duckdb_ge)
    total = sum(map(len, on_spark.values()))
    with capsys.disabled():
        print(
            f"\nGE on Spark: {len(on_spark)} suites, {total} rules in {spark_ge.seconds} s "
            f"(DuckDB: {len(on_duckdb)} suites, {sum(map(len, on_duckdb.values()))} rules)"
        )
    assert on_spark == on_duckdb  # same suites, same rules, same order
    assert report["success"], spark_ge.output
    broken = [
        (s["suite"], e["rule"], e["error"]) for s in report["suites"] for e in s["expectations"]
    ]
    assert [item for item in broken if item[2]] == []
    assert f"PASS: {total}/{total} rules hold in {len(on_spark)} suites" in spark_ge.output
    rows = {s["suite"]: s["row_count"] for s in report["suites"]}
    assert rows == {s["suite"]: s["row_count"] for s in duckdb_ge["suites"]}
    assert {s["relation"].split(".")[0] for s in report["suites"]} == {"build_intermediate"}
    assert Path(report["data_docs_index"]).is_file()


def test_a_bad_unit_row_fails_ge_and_publishing_is_refused(
    spark: Any, spark_env: SparkBuild, spark_published: Run, tmp_path: Path
) -> None:
    assert spark_published.code == spark_publish.EXIT_OK, spark_published.output
    before, versions = published_state(spark), version_schemas(spark)
    units = spark.table(f"build_intermediate.{BAD_MODEL}")
    bad = (
        units.filter("is_good_unit")
        .limit(1)
        .selectExpr(
            *[
                f"'{BAD_SERIAL}' as serial_number"
                if c == "serial_number"
                else "true as is_scrapped"
                if c == "is_scrapped"
                else f"`{c}`"
                for c in units.columns
            ]
        )
    )
    manifest = json.loads(spark_env.manifest.read_text())
    manifest["nodes"][f"model.output_kpis.{BAD_MODEL}"]["schema"] = BAD_SCHEMA
    bad_manifest = tmp_path / "manifest.json"
    bad_manifest.write_text(json.dumps(manifest))
    try:
        spark.sql(f"drop database if exists {BAD_SCHEMA} cascade")
        spark.sql(f"create database {BAD_SCHEMA}")
        units.unionByName(bad).write.format("parquet").saveAsTable(f"{BAD_SCHEMA}.{BAD_MODEL}")
        ge = run_main(
            validate.main,
            validate_args(bad_manifest, tmp_path / "ge_results.json", "--suite", BAD_MODEL),
        )
        assert ge.code == validate.EXIT_FAILED, ge.output
        failures = [line for line in ge.output.splitlines() if line.startswith("FAIL ")]
        assert any(BROKEN_RULE in line and BAD_SERIAL in line for line in failures), ge.output

        refused = run_main(
            spark_publish.main, publish_args(spark_env, tmp_path / "ge_results.json")
        )
    finally:
        spark.sql(f"drop database if exists {BAD_SCHEMA} cascade")
    assert refused.code == spark_publish.EXIT_REFUSED, refused.output
    assert "REFUSED" in refused.output and BROKEN_RULE in refused.output
    assert published_state(spark) == before
    assert version_schemas(spark) == versions


def test_an_audited_build_is_published_row_for_row(
    spark: Any, spark_env: SparkBuild, spark_published: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert spark_published.code == spark_publish.EXIT_OK, spark_published.output
    with capsys.disabled():
        print(f"\npublish: {spark_published.seconds} s; {spark_published.output.strip()}")
    published = published_state(spark)
    (version,) = {item[0] for item in published.values()}
    compared = []
    for schema in (MARTS_SCHEMA, SERVING_SCHEMA):
        built = {name for name, _ in spark_publish.objects(spark, f"build_{schema}")}
        assert {n.split(".", 1)[1] for n in published if n.startswith(schema + ".")} == built
        for name in sorted(built):
            rows, copy_rows, only_build, only_published = differing_rows(
                spark, f"build_{schema}.{name}", f"{schema}.{name}"
            )
            assert (only_build, only_published) == (0, 0), f"{schema}.{name}"
            assert rows == copy_rows and rows > 0, f"{schema}.{name}"
            compared.append(name)
    assert len(compared) == len(published)
    # the serving views of the version read the versioned marts, never build_*
    for name, is_view in spark_publish.objects(spark, f"{SERVING_SCHEMA}__v{version}"):
        text = spark_publish.view_text(spark, f"{SERVING_SCHEMA}__v{version}", name)
        reads = {f"{schema}__v{version}" for schema in (MARTS_SCHEMA, SERVING_SCHEMA)}
        assert is_view and "build_" not in text and any(name in text for name in reads), text
    log = spark.sql(
        f"select as_of, invocation_id from {spark_publish.LOG_SCHEMA}.{spark_publish.LOG_TABLE} "
        f"where publication_id = {version}"
    ).collect()
    invocation = json.loads(spark_env.run_results.read_text())["metadata"]["invocation_id"]
    assert [tuple(row) for row in log] == [("2026-01-01 00:00:00", invocation)]


def test_a_failed_repoint_leaves_the_previous_build_and_one_previous_version_is_kept(
    spark: Any,
    spark_env: SparkBuild,
    spark_published: Run,
    spark_ge_results: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert spark_published.code == spark_publish.EXIT_OK, spark_published.output
    before = published_state(spark)
    (current,) = {int(item[0]) for item in before.values()}
    point = spark_publish._point
    calls = []

    def fail_on_the_third_name(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 3:
            raise SetupError("injected failure")
        point(*args)

    monkeypatch.setattr(spark_publish, "_point", fail_on_the_third_name)
    failed = run_main(spark_publish.main, publish_args(spark_env, spark_ge_results))
    assert failed.code == spark_publish.EXIT_SETUP
    assert published_state(spark) == before  # the two names moved went back
    monkeypatch.setattr(spark_publish, "_point", point)

    again = run_main(spark_publish.main, publish_args(spark_env, spark_ge_results))
    assert again.code == spark_publish.EXIT_OK, again.output
    after = published_state(spark)
    (version,) = {int(item[0]) for item in after.values()}
    assert version > current + 1  # the failed publish's version is never reused
    assert {key: item[1:] for key, item in after.items()} == {
        key: item[1:] for key, item in before.items()
    }
    kept = {f"{s}__v{v}" for s in spark_publish.DEFAULT_SCHEMAS for v in (current, version)}
    assert version_schemas(spark) == kept
