"""Every GE suite holds on the real demo build, and a corrupted copy of a unit model fails
with a message naming the KPI, the broken rule and the offending key."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from conftest import ROOT, Warehouse
from kpi_tooling.ge.declared import load_declared_suites
from kpi_tooling.ge.validate import run_suites

SUITES = ROOT / "expectations"


def test_every_suite_holds_on_the_demo_build(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "ge_results.json"
    report = run_suites(warehouse.db_path, warehouse.manifest_path, SUITES, out)
    assert report.success, "\n".join(report.failure_messages())
    results = json.loads(out.read_text())
    # the five suite files, then one generated suite per declared unit (the built-in sales
    # units at least), in the same run
    files = sorted(path.stem for path in SUITES.glob("*.json"))
    declared = [spec.name for spec in load_declared_suites(warehouse.manifest_path)]
    assert len(files) == 5
    assert {"units__qualified_opportunity", "units__closed_qualified_deal"} <= set(declared)
    assert [suite["suite"] for suite in results["suites"]] == files + declared
    assert all(suite["row_count"] > 0 for suite in results["suites"])


def test_corrupted_unit_model_copy_fails_naming_kpi_rule_and_key(
    warehouse: Warehouse, warehouse_copy: Path, tmp_path: Path
) -> None:
    """Pretend the open past-due edge line was delivered on time: the on-time rule breaks."""
    con = duckdb.connect(str(warehouse_copy))
    try:
        changed = con.execute(
            """
            update intermediate.int_fulfilment__order_lines
            set is_on_time = true
            where order_line_id = 'OL-EDGE-OPENPASTDUE'
            returning order_line_id
            """
        ).fetchall()
    finally:
        con.close()
    assert changed == [("OL-EDGE-OPENPASTDUE",)]
    report = run_suites(
        warehouse_copy,
        warehouse.manifest_path,
        SUITES,
        tmp_path / "ge_results.json",
        suite_names=["int_fulfilment__order_lines"],
    )
    assert not report.success
    messages = report.failure_messages()
    assert any(
        "on_time_rate" in m and "OL-EDGE-OPENPASTDUE" in m and "rule" in m for m in messages
    ), messages
