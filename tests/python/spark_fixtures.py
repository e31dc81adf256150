"""Spark fixtures shared by the Spark test modules: one demo build, its environment, one session.

The build is `dbt seed` + `dbt build` on the profile's spark target into a temporary
OUTPUT_KPIS_SPARK_DIR (about 15 minutes). To reuse a finished build instead, set
OUTPUT_KPIS_TEST_SPARK_DIR (its OUTPUT_KPIS_SPARK_DIR) and OUTPUT_KPIS_TEST_SPARK_TARGET (its
dbt --target-path, holding manifest.json and run_results.json): the tests then validate and
publish into that warehouse (they add schemas beside build_*, never change build_* tables).

The session is the one the tooling opens (kpi_tooling.core.spark, from the profile), so the
validation and publishing code called in-process reuses it: one JVM per test run. Import the
fixtures into a test module (`from spark_fixtures import spark, spark_build, spark_env`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import BUILD_SELECT, run_dbt

SKIP_UNLESS_SPARK = pytest.mark.skipif(
    os.environ.get("OUTPUT_KPIS_TEST_SPARK", "") != "1",
    reason="Spark tests run under `make test-spark` (set OUTPUT_KPIS_TEST_SPARK=1 in a venv "
    "with requirements-spark.txt and Java 17)",
)
DRIVER_MEMORY = os.environ.get("OUTPUT_KPIS_SPARK_DRIVER_MEMORY", "2g")


@dataclass(frozen=True)
class SparkBuild:
    """A finished Spark build: its warehouse (OUTPUT_KPIS_SPARK_DIR) and dbt artifacts."""

    spark_dir: Path
    target: Path
    profiles_dir: Path
    seconds: dict[str, float]

    @property
    def manifest(self) -> Path:
        return self.target / "manifest.json"

    @property
    def run_results(self) -> Path:
        return self.target / "run_results.json"

    @property
    def env(self) -> dict[str, str]:
        """What the profile's spark target and the tooling read."""
        return {
            "DBT_PROFILES_DIR": str(self.profiles_dir),
            "OUTPUT_KPIS_SPARK_DIR": str(self.spark_dir),
            "OUTPUT_KPIS_SPARK_DRIVER_MEMORY": DRIVER_MEMORY,
        }


def _reused_build(profiles_dir: Path) -> SparkBuild | None:
    spark_dir = os.environ.get("OUTPUT_KPIS_TEST_SPARK_DIR")
    target = os.environ.get("OUTPUT_KPIS_TEST_SPARK_TARGET")
    if not (spark_dir and target):
        return None
    build = SparkBuild(Path(spark_dir).resolve(), Path(target).resolve(), profiles_dir, {})
    assert (build.spark_dir / "metastore_db").is_dir(), f"no Spark metastore in {spark_dir}"
    assert build.run_results.is_file(), f"no finished dbt run in {target}"
    return build


@pytest.fixture(scope="session")
def spark_build(profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    """Seeds and `dbt build` (models, data tests, unit tests) on Spark in a temp warehouse,
    or the finished build named by OUTPUT_KPIS_TEST_SPARK_DIR / _TARGET."""
    reused = _reused_build(profiles_dir)
    if reused is not None:
        return reused
    root = tmp_path_factory.mktemp("spark_build")
    build = SparkBuild(root / "spark", root / "target", profiles_dir, {})
    common = {
        "db_path": root / "unused.duckdb",
        "target_path": build.target,
        "profiles_dir": profiles_dir,
        "extra_env": {"OUTPUT_KPIS_SPARK_DIR": str(build.spark_dir)},
    }
    for step, args in (("seed", ["seed", "--full-refresh"]), ("build", ["build", *BUILD_SELECT])):
        started = time.perf_counter()
        run_dbt([*args, "--target", "spark"], **common)
        build.seconds[step] = round(time.perf_counter() - started, 1)
    return build


@pytest.fixture(scope="session")
def spark_env(spark_build: SparkBuild) -> Iterator[SparkBuild]:
    """The build's environment set for the whole session: the tooling reads the profile."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in spark_build.env.items():
            patch.setenv(key, value)
        yield spark_build


@pytest.fixture(scope="session")
def spark(spark_env: SparkBuild) -> Iterator[Any]:
    """The tooling's Spark session on the build's catalogue (after dbt's session has ended:
    the Derby metastore admits one process at a time)."""
    from kpi_tooling.core.spark import SparkProfile

    session = SparkProfile.load().session()
    yield session
    session.stop()
