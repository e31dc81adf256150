"""The package's definitional vars: the settings that change what a KPI or a flag means, which a
consumer may set and which every dbt unit test must therefore pin (`overrides: vars:`). Each has
a value a consumer might choose instead of the default; the defaults themselves live only in
dbt_project.yml `vars:`.

One list serves two tests: test_project_conventions.py checks that every unit test pins each of
these vars its model reads, and test_consumer_vars.py builds a consumer project with all of these
values and every package unit test included. A var added to dbt_project.yml must be placed here
or in DEPLOYMENT_VARS (the conventions test fails until it is)."""

from __future__ import annotations

from typing import Any

# var -> a non-default value a consumer might set (dbt_project.yml holds the default)
CONSUMER_VALUES: dict[str, Any] = {
    "as_of": "2025-02-20 12:00:00",
    "stock_denominator_kpis": [],
    "kpi_week_start": "wednesday",
    "kpi_fiscal_year_start_month": 7,
    "kpi_calendar_start_date": "2024-07-01",
    "output_kpis_site_time_zones": {"S1": "America/Chicago"},
    "output_kpis_default_time_zone": "America/New_York",
    "output_kpis_min_plausible_date": "2015-01-01",
    "on_time_tolerance_minutes": 90,
    "on_time_early_window_days": 3,
    "on_time_event": "shipped",
    "on_time_promise_basis": "revised",
    "sla_pause_statuses": ["On Hold"],  # an open value of sd_status_values
    "sla_resolution_event": "first_solve",
    "sla_clock_horizon_days": 90,
    "kpi_grains": ["month", "week", "day"],
    "kpi_max_per_owner": 4,
    "driver_tree_max_depth": 3,
    "kpi_status_on_track_tolerance": 0.02,
    "kpi_status_at_risk_tolerance": 0.1,
    "lag_analysis_grains": ["month"],
    "lag_analysis_max_lag": 2,
    "lag_analysis_min_periods": 4,
    "lag_analysis_z_critical": 1.64,
    "output_trap_grains": ["month"],
    "output_trap_kinds": ["volume", "delivery"],
    "output_trap_window_periods": 2,
    "output_trap_output_threshold": 0.15,
    "output_trap_outcome_flat_tolerance": 0.05,
    "output_trap_min_window_units": 10,
    "anomaly_grains": ["month"],
    "anomaly_window_periods": 6,
    "anomaly_min_periods": 4,
    "anomaly_z_threshold": 3.0,
    # Coded columns: a source's own vocabulary (the unit tests' fixtures speak the package's).
    # The service desk's is ACME's (integration_tests/), whose data is written in it.
    "crm_stage_values": {"open": ["Discovery"], "won": ["Closed Won"], "lost": ["Closed Lost"]},
    "sd_status_values": {"open": ["New", "In Progress", "On Hold"], "solved": ["Resolved"]},
    "sd_sla_metric_values": {"first_reply": ["First Response"], "resolution": ["Resolution"]},
    "sd_sla_clock_values": {"calendar": ["24x7"]},
    "mes_event_type_values": {"inspection": ["QC"], "retest": ["QC Retest"], "rework": ["Fix"]},
    "mes_result_values": {"pass": ["OK"], "fail": ["NOK"]},
    "cx_survey_type_values": {"csat": ["CSAT"], "nps": ["NPS"]},
}

# Where the package reads and writes, which domains it builds and when it refuses to publish:
# they change no definition (per-source <source>_schema / <table>_identifier vars are of this
# kind too, undeclared).
DEPLOYMENT_VARS = frozenset(
    {
        "output_kpis_absent_tables",
        # declarations (docs/adding_a_kpi.md): what a project builds, not how a KPI reads
        "output_kpis_units",
        "output_kpis_builtin_units",
        "output_kpis_demo_units",
        "output_kpis_naive_timestamps_are_utc",
        "serving_reader_role",
        "serving_reader_role_create",
        "output_kpis_raw_schema",
        "output_kpis_build_schema_prefix",
        "output_kpis_enable_manufacturing",
        "output_kpis_enable_fulfilment",
        "output_kpis_enable_service",
        "output_kpis_enable_sales",
        "output_kpis_enable_outcomes",
        # when a build is refused as a flood of quarantined rows: no KPI changes meaning
        "output_kpis_max_quarantine_share",
        "output_kpis_quarantine_flood_min_rows",
    }
)
