"""The semantic layer: MetricFlow metrics generated from every KPI (the registry seed and the
declared KPIs), queried through MetricFlow (`mf query`) at month and fiscal-year grain, equal
the marts to 1e-9 for every metric and period; the docs catalogue names, for every KPI, where
it is defined, its unit model, GE suite and mart as the hub does."""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from conftest import BIN, ROOT, Warehouse
from kpi_tooling.serving import semantic_layer

SEMANTIC_YAML = ROOT / "models" / "serving" / "_serving__semantic.yml"
CATALOGUE = ROOT / "models" / "serving" / "_kpi_catalogue.md"


def kpi_metric_names(manifest: Path) -> list[str]:
    """The metric named after each KPI (not the _numerator / _denominator helpers)."""
    return [row["kpi_id"] for row in semantic_layer.metric_kpis(semantic_layer.read_kpis(manifest))]


def committed_metrics() -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in yaml.safe_load(SEMANTIC_YAML.read_text())["metrics"]}


def test_semantic_yaml_and_docs_overview_are_generated_from_the_current_registry(
    parsed_manifest: Path,
) -> None:
    assert semantic_layer.main(["--check", "--manifest", str(parsed_manifest)]) == 0


def edited_manifest(source: Path, out: Path, edit) -> Path:
    manifest = json.loads(source.read_text())
    edit(manifest["nodes"][semantic_layer.DECLARED_UNITS_NODE]["config"]["meta"])
    out.write_text(json.dumps(manifest))
    return out


def declared_kpi(meta: dict, kpi_id: str) -> dict[str, Any]:
    return next(k for u in meta["output_kpis_units"] for k in u["kpis"] if k["kpi_id"] == kpi_id)


def test_check_fails_when_a_declaration_changed_and_the_files_were_not_regenerated(
    parsed_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def reworded(meta: dict) -> None:
        declared_kpi(meta, "win_rate")["formula"] = "won / closed"

    def one_more(meta: dict) -> None:
        unit = meta["output_kpis_units"][0]
        kpi = {**copy.deepcopy(unit["kpis"][0]), "kpi_id": "opportunities_again"}
        unit["kpis"].append(kpi)

    for name, edit in {"reworded": reworded, "one_more": one_more}.items():
        manifest = edited_manifest(parsed_manifest, tmp_path / f"{name}.json", edit)
        assert semantic_layer.main(["--check", "--manifest", str(manifest)]) == 1, name
        stale = capsys.readouterr().err
        assert "_kpi_catalogue.md is stale" in stale, name
        if name == "one_more":  # a new KPI is a new metric too
            assert "_serving__semantic.yml is stale" in stale


def test_a_missing_manifest_fails_saying_to_run_dbt_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "target" / "manifest.json"
    assert semantic_layer.main(["--check", "--manifest", str(missing)]) == 2
    assert "run `dbt parse`" in capsys.readouterr().err


def metric_shape(metrics: list[dict[str, Any]], kpi_id: str) -> list[Any]:
    """A KPI's metrics without their texts and with its id replaced: the same shape for two
    KPIs of the same aggregation and multiplier."""
    shaped = [{k: v for k, v in m.items() if k not in ("label", "description")} for m in metrics]
    return json.loads(json.dumps(shaped).replace(kpi_id, "<kpi>"))


def committed_metrics_of(kpi_id: str) -> list[dict[str, Any]]:
    return [
        m
        for name, m in committed_metrics().items()
        if name == kpi_id or name.rsplit("_", 1)[0] == kpi_id
    ]


@pytest.mark.parametrize(
    ("declared", "builtin", "types"),
    [
        ("content_published", "good_units", ["simple"]),
        ("win_rate", "otif_rate", ["simple", "simple", "ratio"]),
        ("tickets_resolved_per_agent_day", "throughput_rate", ["simple", "simple", "ratio"]),
    ],
)
def test_a_declared_kpi_gets_the_metrics_of_a_seed_kpi_of_its_aggregation(
    parsed_manifest: Path, declared: str, builtin: str, types: list[str]
) -> None:
    rows = {r["kpi_id"]: r for r in semantic_layer.read_kpis(parsed_manifest)}
    assert rows[declared]["defined_in"] == "declaration"
    assert rows[builtin]["defined_in"] == "kpi_registry"
    assert rows[declared]["aggregation"] == rows[builtin]["aggregation"]
    metrics = committed_metrics_of(declared)
    assert [m["type"] for m in metrics] == types
    assert metrics[-1]["name"] == declared
    assert metric_shape(metrics, declared) == metric_shape(committed_metrics_of(builtin), builtin)
    filters = [m["filter"] for m in metrics if m["type"] == "simple"]
    assert filters and all(f"= '{declared}' and" in f for f in filters)


def test_every_additive_kpi_has_a_metric_and_only_those(parsed_manifest: Path) -> None:
    kpis = semantic_layer.read_kpis(parsed_manifest)
    assert {r["defined_in"] for r in kpis} == {"kpi_registry", "declaration"}
    metrics = committed_metrics()
    skipped = semantic_layer.excluded_kpis(kpis)
    assert set(skipped) == {"rolled_throughput_yield"}
    for row in kpis:
        kpi_id = row["kpi_id"]
        assert (kpi_id in metrics) == (kpi_id not in skipped), kpi_id
        if kpi_id in metrics and row["aggregation"] == "ratio":
            stock = kpi_id in semantic_layer.stock_denominator_kpis()
            assert metrics[kpi_id]["type"] == ("derived" if stock else "ratio"), kpi_id


def test_catalogue_names_the_hubs_definition_suite_and_mart_of_every_kpi(
    warehouse: Warehouse,
) -> None:
    """Every KPI of dim_kpis (the hub: seed + declared) has a catalogue row naming where it is
    defined, its unit model, its GE suite and its mart as the hub does; demo-only declarations
    (var output_kpis_demo_units) and only those say so."""
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    try:
        hub = con.execute(
            "select kpi_id, defined_in, unit_id, unit_model, ge_suite, mart from marts.dim_kpis"
        ).fetchall()
    finally:
        con.close()
    origins = {r["kpi_id"]: r["origin"] for r in semantic_layer.read_kpis(warehouse.manifest_path)}
    rows = {
        line.split("`")[1]: line
        for line in CATALOGUE.read_text().splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == {kpi_id for kpi_id, *_ in hub}
    assert set(origins.values()) >= {
        "",
        "output_kpis_builtin_units",
        "output_kpis_demo_units",
    }
    for kpi_id, defined_in, unit_id, unit_model, ge_suite, mart in hub:
        cells = [c.strip() for c in rows[kpi_id].split("|")]
        where, model, suite, served = cells[-5:-1]
        if defined_in == "declaration":
            assert where.startswith(f"declaration `{unit_id}`"), kpi_id
        else:
            assert where == "`kpi_registry` seed", kpi_id
        assert ("**demo only**" in where) == (origins[kpi_id] == semantic_layer.DEMO_ORIGIN)
        assert (model, suite, served) == tuple(
            f"`{hop}`" if hop else "none" for hop in (unit_model, ge_suite, mart)
        ), kpi_id


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
    manifest: Path,
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
    metrics = kpi_metric_names(manifest)
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
    metricflow_project: Path,
    warehouse: Warehouse,
    warehouse_copy: Path,
    profiles_dir: Path,
    tmp_path: Path,
) -> None:
    compared = metricflow_against_marts(
        metricflow_project,
        warehouse.manifest_path,
        warehouse_copy,
        profiles_dir,
        tmp_path / "metrics.csv",
        "metric_time__month",
        "month",
    )
    assert min(compared.values()) >= 20, compared


def test_metricflow_fiscal_year_values_equal_the_year_rows(
    metricflow_project: Path,
    warehouse: Warehouse,
    warehouse_copy: Path,
    profiles_dir: Path,
    tmp_path: Path,
) -> None:
    """The time spine's custom granularity fiscal_year (int_calendar__days.year_start) gives
    the marts' year periods."""
    compared = metricflow_against_marts(
        metricflow_project,
        warehouse.manifest_path,
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
