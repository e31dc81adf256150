"""The semantic layer: MetricFlow metrics generated from the KPI registry, queried through
MetricFlow (`mf query`) at month and fiscal-year grain, equal the marts to 1e-9 for every metric
and period."""

from __future__ import annotations

import csv
import math
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import BIN, ROOT, Warehouse
from kpi_tooling import semantic_layer

SEMANTIC_YAML = ROOT / "models" / "serving" / "_serving__semantic.yml"


def kpi_metric_names() -> list[str]:
    """The metric named after each KPI (not the _numerator / _denominator helpers)."""
    registry = semantic_layer.read_registry()
    return [row["kpi_id"] for row in semantic_layer.metric_kpis(registry)]


def test_semantic_yaml_and_docs_overview_are_generated_from_the_current_registry() -> None:
    assert semantic_layer.main(["--check"]) == 0


def test_every_additive_kpi_has_a_metric_and_only_those() -> None:
    registry = semantic_layer.read_registry()
    metrics = {m["name"]: m for m in yaml.safe_load(SEMANTIC_YAML.read_text())["metrics"]}
    skipped = semantic_layer.excluded_kpis(registry)
    assert set(skipped) == {"rolled_throughput_yield"}
    for row in registry:
        kpi_id = row["kpi_id"]
        assert (kpi_id in metrics) == (kpi_id not in skipped), kpi_id
        if kpi_id in metrics and row["aggregation"] == "ratio":
            stock = kpi_id in semantic_layer.stock_denominator_kpis()
            assert metrics[kpi_id]["type"] == ("derived" if stock else "ratio"), kpi_id


@pytest.fixture(scope="module")
def metricflow_project(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mf reads <cwd>/target/semantic_manifest.json: a project root whose target is the
    tested build's target directory, everything else linked from the repository."""
    root = tmp_path_factory.mktemp("mf_project")
    for entry in ROOT.iterdir():
        if entry.name not in {"target", ".venv", ".git"}:
            (root / entry.name).symlink_to(entry)
    (root / "target").symlink_to(warehouse.manifest_path.parent)
    assert (root / "target" / "semantic_manifest.json").exists()
    return root


def metricflow_against_marts(
    project: Path,
    warehouse: Path,
    profiles_dir: Path,
    out: Path,
    group_by: str,
    grain: str,
    rel_tol: float = 0.0,
) -> dict[str, int]:
    """Every metric by `group_by` through `mf query` against the marts' `grain` rows (overall
    slice): returns the compared count per metric; asserts no value differs and no mart
    period is missing."""
    metrics = kpi_metric_names()
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "OUTPUT_KPIS_DUCKDB_PATH": str(warehouse),
    }
    result = subprocess.run(
        [
            str(BIN / "mf"),
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            group_by,
            "--csv",
            str(out),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        mart = {
            (kpi_id, str(period_start)): value
            for kpi_id, period_start, value in con.execute(
                "select kpi_id, period_start, value from marts.fct_kpi_values "
                "where grain = ? and dimension_name = 'overall' "
                "union all "
                "select kpi_id, period_start, value from marts.fct_outcome_values "
                "where grain = ? and dimension_name = 'overall'",
                [grain, grain],
            ).fetchall()
        }
    finally:
        con.close()

    compared = {metric: 0 for metric in metrics}
    mismatches = []
    for row in rows:
        period = row[group_by][:10]
        for metric in metrics:
            served = float(row[metric]) if row[metric] not in ("", None) else None
            expected = mart.get((metric, period))
            if served is None and expected is None:
                continue
            compared[metric] += 1
            if (
                served is None
                or expected is None
                or not math.isclose(served, expected, rel_tol=rel_tol, abs_tol=1e-9)
            ):
                mismatches.append((metric, period, served, expected))
    # every mart period of every metric was returned by MetricFlow
    returned = {(m, r[group_by][:10]) for r in rows for m in metrics if r[m]}
    missing = [
        key for key in mart if key[0] in compared and key not in returned and mart[key] is not None
    ]
    print(f"\n{len(metrics)} metrics, {sum(compared.values())} metric-{grain}s compared")
    assert mismatches == []
    assert missing == []
    return compared


def test_metricflow_month_values_equal_the_marts(
    metricflow_project: Path, warehouse_copy: Path, profiles_dir: Path, tmp_path: Path
) -> None:
    compared = metricflow_against_marts(
        metricflow_project,
        warehouse_copy,
        profiles_dir,
        tmp_path / "metrics.csv",
        "metric_time__month",
        "month",
    )
    assert min(compared.values()) >= 20, compared


def test_metricflow_fiscal_year_values_equal_the_year_rows(
    metricflow_project: Path, warehouse_copy: Path, profiles_dir: Path, tmp_path: Path
) -> None:
    """The time spine's custom granularity fiscal_year (int_calendar__days.year_start) gives
    the marts' year periods."""
    compared = metricflow_against_marts(
        metricflow_project,
        warehouse_copy,
        profiles_dir,
        tmp_path / "metrics.csv",
        "metric_time__fiscal_year",
        "year",
        # a year of revenue (~5e7) summed in another order differs in the last bits
        rel_tol=1e-12,
    )
    # 2024 and 2025 for every metric (2026-01-01, as_of, holds no value for some)
    assert min(compared.values()) >= 2, compared
