"""The semantic layer: MetricFlow metrics generated from the KPI registry, queried through
MetricFlow (`mf query`) at month grain, equal the marts to 1e-9 for every metric and month."""

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


def test_metricflow_month_values_equal_the_marts(
    metricflow_project: Path, warehouse_copy: Path, profiles_dir: Path, tmp_path: Path
) -> None:
    metrics = kpi_metric_names()
    out = tmp_path / "metrics.csv"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "OUTPUT_KPIS_DUCKDB_PATH": str(warehouse_copy),
    }
    result = subprocess.run(
        [
            str(BIN / "mf"),
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            "metric_time__month",
            "--csv",
            str(out),
        ],
        cwd=metricflow_project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))

    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        mart = {
            (kpi_id, str(period_start)): value
            for kpi_id, period_start, value in con.execute(
                "select kpi_id, period_start, value from marts.fct_kpi_values "
                "where grain = 'month' and dimension_name = 'overall' "
                "union all "
                "select kpi_id, period_start, value from marts.fct_outcome_values "
                "where grain = 'month' and dimension_name = 'overall'"
            ).fetchall()
        }
    finally:
        con.close()

    compared = {metric: 0 for metric in metrics}
    mismatches = []
    for row in rows:
        month = row["metric_time__month"][:10]
        for metric in metrics:
            served = float(row[metric]) if row[metric] not in ("", None) else None
            expected = mart.get((metric, month))
            if served is None and expected is None:
                continue
            compared[metric] += 1
            if (
                served is None
                or expected is None
                or not math.isclose(served, expected, rel_tol=0, abs_tol=1e-9)
            ):
                mismatches.append((metric, month, served, expected))
    # every mart month of every metric was returned by MetricFlow
    returned = {(m, r["metric_time__month"][:10]) for r in rows for m in metrics if r[m]}
    missing = [
        key for key in mart if key[0] in compared and key not in returned and mart[key] is not None
    ]
    print(f"\n{len(metrics)} metrics, {sum(compared.values())} metric-months compared")
    assert mismatches == []
    assert missing == []
    assert min(compared.values()) >= 20, compared
