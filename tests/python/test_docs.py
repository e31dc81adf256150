"""`make docs`: dbt docs carry the KPI catalogue (generated from every KPI, seeded or
declared), a catalog of every serving view, and lineage from each raw source to the serving
views. (GE Data Docs are written by every validation run: test_validate.py checks them.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_dbt
from kpi_tooling.serving import semantic_layer


@pytest.fixture(scope="module")
def docs_target(
    module_warehouse_copy: Path, profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    target = tmp_path_factory.mktemp("docs_target")
    run_dbt(
        ["docs", "generate"],
        db_path=module_warehouse_copy,
        target_path=target,
        profiles_dir=profiles_dir,
    )
    return target


def test_docs_site_and_catalog_cover_the_serving_views(docs_target: Path) -> None:
    assert (docs_target / "index.html").stat().st_size > 100_000
    catalog = json.loads((docs_target / "catalog.json").read_text())
    serving = {
        node["metadata"]["name"]
        for node in catalog["nodes"].values()
        if node["metadata"]["schema"] == "serving"
    }
    assert {"kpi_values", "kpi_status", "output_outcome_pairs", "kpi_scorecard"} <= serving


def test_overview_lists_every_kpi_with_its_formula(docs_target: Path) -> None:
    manifest = json.loads((docs_target / "manifest.json").read_text())
    overview = manifest["docs"]["doc.output_kpis.__overview__"]["block_contents"]
    kpis = semantic_layer.read_kpis(docs_target / "manifest.json")
    assert {row["defined_in"] for row in kpis} == {"kpi_registry", "declaration"}
    for row in kpis:
        assert f"`{row['kpi_id']}`" in overview
        assert semantic_layer.cell(row["formula"]) in overview


def test_lineage_runs_from_raw_sources_to_every_serving_view(docs_target: Path) -> None:
    manifest = json.loads((docs_target / "manifest.json").read_text())
    parents = {
        uid: node.get("depends_on", {}).get("nodes", []) for uid, node in manifest["nodes"].items()
    }

    def sources_behind(uid: str, seen: set[str]) -> set[str]:
        found = set()
        for parent in parents.get(uid, []):
            if parent in seen:
                continue
            seen.add(parent)
            found |= {parent} if parent.startswith("source.") else sources_behind(parent, seen)
        return found

    for uid, node in manifest["nodes"].items():
        if node["resource_type"] == "model" and node["schema"] == "serving":
            assert sources_behind(uid, set()), f"{uid} has no raw source upstream"
