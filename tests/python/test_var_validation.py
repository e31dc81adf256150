"""A wrong definitional var fails compilation with a message naming the var and what is
allowed, instead of silently changing a KPI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_dbt

CASES = [
    (
        "int_fulfilment__order_lines",
        {"on_time_event": "teleported"},
        "on_time_event",
        "delivered, shipped",
    ),
    (
        "int_fulfilment__order_lines",
        {"on_time_promise_basis": "latest"},
        "on_time_promise_basis",
        "first, revised",
    ),
    (
        "int_fulfilment__order_lines",
        {"on_time_tolerance_minutes": -5},
        "on_time_tolerance_minutes",
        "number >= 0",
    ),
    (
        "int_fulfilment__order_lines",
        {"on_time_early_window_days": "soon"},
        "on_time_early_window_days",
        "number >= 0 or null",
    ),
    ("int_fulfilment__order_lines", {"as_of": "yesterday"}, "as_of", "YYYY-MM-DD"),
    (
        "int_service__sla_measurement_spans",
        {"sla_clock_horizon_days": "two months"},
        "sla_clock_horizon_days",
        "number >= 0",
    ),
    (
        "int_service__ticket_sla_measurements",
        {"sla_resolution_event": "any_solve"},
        "sla_resolution_event",
        "final_solve",
    ),
    (
        "int_service__ticket_sla_measurements",
        {"sla_pause_statuses": ["pending", "lunch'); drop table x; --"]},
        "sla_pause_statuses",
        "new, open, pending, on_hold",  # the open statuses of sd_status_values
    ),
    (
        "int_service__ticket_sla_measurements",
        {"sla_pause_statuses": ["solved"]},  # a solved status cannot pause an open clock
        "sla_pause_statuses",
        "(new, open, pending, on_hold); got 'solved'",
    ),
    (
        "int_calendar__days",
        {"kpi_calendar_start_date": "2020-01-01' as date) --"},
        "kpi_calendar_start_date",
        "YYYY-MM-DD",
    ),
    (
        "int_manufacturing__kpi_components",
        {"kpi_grains": ["day", "fortnight"]},
        "kpi_grains",
        "day, week, month, quarter, year",
    ),
    # Governance, status, lag analysis, output trap and anomalies (issue 4).
    (
        "fct_output_outcome_lags",
        {"lag_analysis_grains": ["fortnight"]},
        "lag_analysis_grains",
        "day",
    ),
    (
        "fct_output_outcome_lags",
        {"lag_analysis_min_periods": 3},
        "lag_analysis_min_periods",
        ">= 4",
    ),
    ("fct_output_traps", {"output_trap_window_periods": 0}, "output_trap_window_periods", ">= 1"),
    (
        "fct_output_traps",
        {"output_trap_output_threshold": "x"},
        "output_trap_output_threshold",
        ">= 0",
    ),
    ("fct_output_traps", {"output_trap_kinds": ["speed"]}, "output_trap_kinds", "volume, quality"),
    (
        "fct_kpi_anomalies",
        {"anomaly_window_periods": 4},
        "anomaly_window_periods",
        "anomaly_min_periods",
    ),
    (
        "fct_kpi_status",
        {"kpi_status_at_risk_tolerance": -1},
        "kpi_status_at_risk_tolerance",
        ">= 0",
    ),
    (
        "fct_kpi_status",
        {"kpi_status_on_track_tolerance": 0.2},
        "kpi_status_at_risk_tolerance",
        "kpi_status_on_track_tolerance",
    ),
    ("int_governance__kpi_violations", {"kpi_max_per_owner": "five"}, "kpi_max_per_owner", ">= 0"),
    (
        "int_governance__driver_tree_paths",
        {"driver_tree_max_depth": -1},
        "driver_tree_max_depth",
        ">= 0",
    ),
    # Use with your own data (issue 6): source locations, domain switches, calendar. These fail
    # while the project parses, whatever model is selected.
    (
        "int_calendar__days",
        {"output_kpis_raw_schema": "raw; drop table x"},
        "output_kpis_raw_schema",
        "plain identifier",
    ),
    ("int_calendar__days", {"mes_schema": "qc-events"}, "mes_schema", "plain identifier"),
    ("int_calendar__days", {"oms_database": "1prod"}, "oms_database", "plain identifier"),
    (
        "int_calendar__days",
        {"mes_unit_events_identifier": 'qc_events"; --'},
        "mes_unit_events_identifier",
        "plain identifier",
    ),
    ("int_calendar__days", {"sd_tickets_identifier": 42}, "sd_tickets_identifier", "identifier"),
    (
        "int_calendar__days",
        {"output_kpis_enable_sales": "no"},
        "output_kpis_enable_sales",
        "true or false",
    ),
    (
        "int_calendar__days",
        {"output_kpis_enable_outcomes": 1},
        "output_kpis_enable_outcomes",
        "true or false",
    ),
    (
        "int_calendar__days",
        {
            "output_kpis_enable_manufacturing": False,
            "output_kpis_enable_fulfilment": False,
            "output_kpis_enable_service": False,
            "output_kpis_enable_sales": False,
        },
        "output_kpis_enable_manufacturing",
        "at least one must be true",
    ),
    ("int_calendar__days", {"kpi_week_start": "funday"}, "kpi_week_start", "monday, tuesday"),
    # Coded columns (issue 15): role -> source values; checked while the project parses.
    (
        "int_calendar__days",
        {"crm_stage_values": {"open": ["prospecting"], "won": [], "lost": ["lost"]}},
        "crm_stage_values",
        "role 'won' needs at least one value",
    ),
    (
        "int_calendar__days",
        {"crm_stage_values": {"open": ["prospecting"], "won": ["won"], "lost": ["Won", "lost"]}},
        "crm_stage_values",
        "value 'won' is listed under both won and lost",
    ),
    (
        "int_calendar__days",
        {"sd_status_values": ["new", "solved"]},
        "sd_status_values",
        "mapping of role to a list of values, roles open, solved",
    ),
    (
        "int_calendar__days",
        {"sd_status_values": {"open": ["new"], "solved": ["solved"], "escalated": ["esc"]}},
        "sd_status_values",
        "unknown role(s) escalated",
    ),
    (
        "int_calendar__days",
        {"mes_result_values": {"pass": ["pass'); drop table x; --"], "fail": ["fail"]}},
        "mes_result_values",
        "without quotes",
    ),
    (
        "int_calendar__days",
        {"cx_survey_type_values": {"csat": "csat", "nps": ["nps"]}},
        "cx_survey_type_values",
        "role 'csat' must be a list of values",
    ),
    (
        "int_calendar__days",
        {"kpi_fiscal_year_start_month": 13},
        "kpi_fiscal_year_start_month",
        "1..12",
    ),
    (
        "int_calendar__days",
        {"kpi_fiscal_year_start_month": "april"},
        "kpi_fiscal_year_start_month",
        "1..12",
    ),
    (
        "int_calendar__days",
        {"output_kpis_site_time_zones": ["Europe/Berlin"]},
        "output_kpis_site_time_zones",
        "mapping of site_id",
    ),
    (
        "int_calendar__days",
        {"output_kpis_site_time_zones": {"S1": "Europe/Berlin'; drop table x; --"}},
        "output_kpis_site_time_zones",
        "IANA time zone",
    ),
    # Valid in form, meaningless in fact (issue 16): a zone no engine knows, a number that is
    # not one, a day not in the calendar. Zones are asked of the engine (pg_timezone_names).
    (
        "int_calendar__days",
        {"output_kpis_default_time_zone": "Mars/Olympus"},
        "output_kpis_default_time_zone",
        "engine does not know",
    ),
    (
        "int_calendar__days",
        {"output_kpis_site_time_zones": {"S1": "Europe/Berlinn"}},
        "output_kpis_site_time_zones",
        "'Europe/Berlinn' for site S1, which the duckdb engine does not know",
    ),
    (
        "fct_kpi_status",
        {"kpi_status_at_risk_tolerance": True},
        "kpi_status_at_risk_tolerance",
        ">= 0",
    ),
    ("int_fulfilment__order_lines", {"as_of": "2026-02-30"}, "as_of", "of the calendar"),
    ("int_fulfilment__order_lines", {"as_of": "2026-01-01 24:00:00"}, "as_of", "of the calendar"),
    (
        "int_calendar__days",
        {"kpi_calendar_start_date": "2025-02-29"},
        "kpi_calendar_start_date",
        "of the calendar",
    ),
    (
        "int_calendar__days",
        {"output_kpis_min_plausible_date": "1900-00-01"},
        "output_kpis_min_plausible_date",
        "YYYY-MM-DD",
    ),
    (
        "int_calendar__days",
        {"kpi_calendar_start_date": "1969-12-31"},
        "kpi_calendar_start_date",
        "output_kpis_min_plausible_date",
    ),
    (
        "dim_kpis",
        {"output_kpis_build_schema_prefix": "Build-"},
        "output_kpis_build_schema_prefix",
        "lowercase letters, digits and underscores",
    ),
    (
        "kpi_day_components",
        {"stock_denominator_kpis": ["churn'); drop table x; --"]},
        "stock_denominator_kpis",
        "KPI ids",
    ),
    (
        "kpi_day_components",
        {"serving_reader_role": "BI Reader"},
        "serving_reader_role",
        "identifier",
    ),
]


@pytest.mark.parametrize(
    ("model", "bad_vars", "var_name", "allowed"), CASES, ids=[next(iter(c[1])) for c in CASES]
)
def test_bad_var_fails_naming_it(
    model: str, bad_vars: dict, var_name: str, allowed: str, tmp_path: Path, profiles_dir: Path
) -> None:
    dbt_vars = json.dumps({"as_of": "2026-01-01 00:00:00", **bad_vars})
    result = run_dbt(
        ["compile", "--select", model],
        db_path=tmp_path / "output_kpis.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=dbt_vars,
        check=False,
    )
    assert result.returncode != 0
    assert var_name in result.stdout
    assert allowed in result.stdout


@pytest.mark.parametrize(
    ("var_name", "yaml_value"),
    [("anomaly_z_threshold", ".nan"), ("lag_analysis_z_critical", ".inf")],
)
def test_number_var_that_is_no_number_fails_naming_it(
    var_name: str, yaml_value: str, tmp_path: Path, profiles_dir: Path
) -> None:
    """YAML reads .nan and .inf as floats, which compare as no finite number does (.nan < 0 is
    false): they must still fail, naming the var."""
    result = run_dbt(
        ["compile", "--select", "fct_kpi_anomalies", "fct_output_outcome_lags"],
        db_path=tmp_path / "output_kpis.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars='{as_of: "2026-01-01 00:00:00", ' + var_name + ": " + yaml_value + "}",
        check=False,
    )
    assert result.returncode != 0
    assert f"var '{var_name}' must be a number >= 0" in result.stdout


def test_unknown_zone_var_stops_the_run_before_any_model(
    tmp_path: Path, profiles_dir: Path
) -> None:
    """The engine is asked at the start of every run (on-run-start), whatever is selected."""
    result = run_dbt(
        ["run", "--select", "stg_mes__sites"],
        db_path=tmp_path / "output_kpis.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=json.dumps({"output_kpis_default_time_zone": "Mars/Olympus"}),
        check=False,
    )
    assert result.returncode != 0
    assert "var 'output_kpis_default_time_zone' names the time zone 'Mars/Olympus'" in result.stdout
    assert "OK created" not in result.stdout


def test_good_vars_compile(tmp_path: Path, profiles_dir: Path) -> None:
    dbt_vars = json.dumps(
        {
            "as_of": "2025-06-30",
            "oms_schema": "acme_raw",
            "oms_database": "acme_prod",
            "oms_order_lines_identifier": "order_items",
            "output_kpis_enable_sales": False,
            "kpi_week_start": "sunday",
            "kpi_fiscal_year_start_month": 4,
            "output_kpis_site_time_zones": {"S1": "America/Argentina/Buenos_Aires"},
            "on_time_event": "shipped",
            "on_time_promise_basis": "revised",
            "on_time_tolerance_minutes": 30,
            "on_time_early_window_days": 3,
        }
    )
    result = run_dbt(
        [
            "compile",
            "--select",
            "int_fulfilment__order_lines",
            "base_oms__order_lines",
            "stg_oms__order_lines",
            "stg_mes__sites",
        ],
        db_path=tmp_path / "output_kpis.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=dbt_vars,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # the base model is the one that reads the raw table
    compiled = next((tmp_path / "target" / "compiled").rglob("base_oms__order_lines.sql"))
    assert '"acme_prod"."acme_raw"."order_items"' in compiled.read_text()
    sites = next((tmp_path / "target" / "compiled").rglob("stg_mes__sites.sql")).read_text()
    assert "when 'S1' then 'America/Argentina/Buenos_Aires'" in sites
