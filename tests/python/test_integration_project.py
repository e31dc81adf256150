"""The package installed by another project: integration_tests/ maps a differently named raw
dataset onto it by vars alone (other schemas and table names, manufacturing and sales
disabled, Sunday weeks, a December fiscal year), builds it and compares the KPIs with
hand-computed values (integration_tests/seeds/expected_kpi_values.csv). The package's own unit
tests run in it too: they pin the definition they assume, whatever the consumer's vars."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from conftest import (
    BUILD_SELECT,
    ROOT,
    consumer_dbt_args,
    install_consumer_project,
    run_dbt,
)

PROJECT = ROOT / "integration_tests"
COMPARISON = "assert_kpi_values_match_expected"


def test_integration_project_builds_and_matches_expected_values(tmp_path: Path) -> None:
    # A private copy whose local package path points at this repository, built with the
    # consumer starter's profile (starter/profiles.yml), as a user would.
    project = install_consumer_project(PROJECT, tmp_path)
    db_path = tmp_path / "output_kpis.duckdb"
    common = consumer_dbt_args(project, db_path)
    # Seeds first (sources have no edge to the seeds); then select by type, like `make build`:
    # excluding seeds would also drop the comparison test, which reads a seed.
    run_dbt(["seed"], **common)
    # the package's unit tests included: its vars (Sunday weeks, a December fiscal year) are
    # project vars, which each unit test's pinned definition overrides
    result = run_dbt(["build", *BUILD_SELECT], **common, check=False)
    assert result.returncode == 0, result.stdout[-6000:]

    run_results = json.loads((project / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run_results["results"]}
    assert statuses.get(COMPARISON) == "pass", statuses.get(COMPARISON)
    assert "fct_kpi_values" in statuses
    unit_tests = [
        r["status"] for r in run_results["results"] if r["unique_id"].startswith("unit_test.")
    ]
    assert len(unit_tests) >= 10 and set(unit_tests) == {"pass"}

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        domains = {
            d for (d,) in con.execute("select distinct domain from marts.fct_kpi_values").fetchall()
        }
        expected_rows = con.execute("select count(*) from main.expected_kpi_values").fetchone()
        # ACME's declared unit: every raw row has exactly one disposition and reason
        campaign_rows = con.execute(
            "select coalesce(unit_key, '(null)'), disposition, coalesce(reason, '') "
            "from intermediate.int_units__declared_units where unit_id = 'campaign_launch'"
        ).fetchall()
        raw_campaigns = con.execute("select count(*) from acme_marketing.campaigns").fetchone()
    finally:
        con.close()
    # read from ACME's names, nothing from the package's default raw schema
    assert "acme_raw.order_items" in tables and "acme_helpdesk.hd_tickets" in tables
    assert not any(t.startswith("raw.") for t in tables)
    # disabled domains are not built at all
    assert not any("manufacturing" in t or "crm" in t or "_sales" in t for t in tables)
    # ACME's own declared unit (campaign_launch) publishes beside the enabled domains
    assert domains == {"fulfilment", "service", "marketing"}
    assert expected_rows[0] >= 40
    assert len(campaign_rows) == raw_campaigns[0] == 13
    assert sorted(campaign_rows) == sorted(
        [
            ("CMP-01", "counted", ""),
            ("CMP-01", "quarantined", "duplicate_row"),
            ("CMP-02", "counted", ""),
            ("CMP-03", "counted", ""),
            ("CMP-04", "excluded", "not_completed"),
            ("CMP-05", "excluded", "cancelled"),
            ("CMP-06", "counted", ""),
            ("CMP-07", "excluded", "after_as_of"),
            ("(null)", "quarantined", "null_key"),
            ("CMP-08", "quarantined", "uncastable_value"),
            ("CMP-09", "quarantined", "implausible_date"),
            ("CMP-10", "quarantined", "conflicting_duplicate_key"),
            ("CMP-10", "quarantined", "conflicting_duplicate_key"),
        ]
    )

    # The comparison can fail: its compiled SQL returns the row whose expected numerator is
    # changed (on a copy of the warehouse, without another dbt run).
    compiled = next((project / "target" / "compiled").rglob(f"{COMPARISON}.sql")).read_text()
    broken = tmp_path / "broken" / db_path.name
    broken.parent.mkdir()
    shutil.copy(db_path, broken)
    con = duckdb.connect(str(broken))
    try:
        assert con.execute(compiled).fetchall() == []
        con.execute(
            "update main.expected_kpi_values set numerator = numerator + 1 "
            "where kpi_id = 'on_time_rate' and grain = 'month' and period_start = '2025-01-01' "
            "and dimension_name = 'overall'"
        )
        failures = con.execute(compiled).fetchall()
        # Governance judges only enabled KPIs: a manufacturing KPI without an owner is not
        # reported here, a service KPI without one is.
        # (the hub, int_governance__kpi_registry, is what governance reads)
        con.execute(
            "update intermediate.int_governance__kpi_registry set owner = null "
            "where kpi_id in ('throughput_rate', 'sla_compliance')"
        )
        governance = next(
            (project / "target" / "compiled").rglob("int_governance__kpi_violations.sql")
        ).read_text()
        violations = con.execute(f"select rule_id, kpi_id from ({governance})").fetchall()
    finally:
        con.close()
    assert len(failures) == 1 and failures[0][0] == "on_time_rate" and "numerator" in failures[0]
    assert violations == [("missing_owner", "sla_compliance")]


def test_service_desk_only_compiles_only_the_service_domain(
    tmp_path: Path, profiles_dir: Path
) -> None:
    """A team with only a service desk: every other domain (outcomes too) switched off."""
    dbt_vars = json.dumps(
        {
            "as_of": "2026-01-01",
            "output_kpis_enable_manufacturing": False,
            "output_kpis_enable_fulfilment": False,
            "output_kpis_enable_sales": False,
            "output_kpis_enable_outcomes": False,
        }
    )
    target = tmp_path / "target"
    run_dbt(
        ["compile", "--select", "fct_kpi_values", "fct_unit_accounting", "stg_quarantine__rows"],
        db_path=tmp_path / "output_kpis.duckdb",
        target_path=target,
        profiles_dir=profiles_dir,
        dbt_vars=dbt_vars,
    )
    manifest = json.loads((target / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {m for m in models if m.startswith(("stg_", "int_"))} == {
        "stg_oms__customers",  # the customer master: segments of tickets
        *(m for m in models if m.startswith(("stg_quarantine__", "stg_sd__", "int_service__"))),
        "int_calendar__days",
        "int_calendar__periods",
        *(m for m in models if m.startswith("int_governance__")),
        # the declared units (the built-in resolved_ticket: tickets per agent-day)
        "int_units__declared_units",
        "int_units__kpi_components",
    }
    assert "int_service__kpi_components" in models
    assert not any(m.startswith(("fct_output", "fct_outcome", "fct_manufacturing")) for m in models)
    compiled = {p.name: p.read_text() for p in (target / "compiled").rglob("*.sql")}
    kpi_values = compiled["fct_kpi_values.sql"]
    assert "int_service__kpi_components" in kpi_values
    assert "int_fulfilment__kpi_components" not in kpi_values
    assert "int_manufacturing" not in kpi_values and "fct_manufacturing" not in kpi_values
    quarantine = compiled["stg_quarantine__rows.sql"]
    assert "sd_tickets" in quarantine and "oms_customers" in quarantine
    assert "mes_unit_events" not in quarantine and "oms_orders" not in quarantine
