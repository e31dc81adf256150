"""Dimension and code values are the user's (issue 15). A CRM that calls its stages
`Closed Won` / `Closed Lost` / `Discovery` maps them with var crm_stage_values and gets the same
win rate and qualified opportunities as the demo's won / lost / prospecting, and a segment
renamed to `Key Accounts` is reported under that name with the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from conftest import DEMO_AS_OF, run_dbt

RENAMED_STAGES = {"won": "Closed Won", "lost": "Closed Lost", "prospecting": "Discovery"}
STAGE_VALUES = {
    "open": ["Discovery", "qualified", "proposal"],
    "won": ["Closed Won"],
    "lost": ["Closed Lost"],
}
SALES_KPIS = ("win_rate", "qualified_opportunities")
MODELS = [
    "base_oms__customers",  # the raw rows change: their base models first
    "base_crm__opportunities",
    "stg_oms__customers",
    "stg_crm__opportunities",
    "int_sales__qualified_opportunities",
    "int_units__declared_units",
    "int_units__kpi_components",  # qualified_opportunities and win_rate are declared
]


def sales_components(db_path: Path) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            "select kpi_id, grain, period_start, dimension_name, dimension_value, numerator,"
            " denominator from intermediate.int_units__kpi_components where kpi_id in (?, ?)"
            " order by all",
            list(SALES_KPIS),
        ).fetchall()


def test_own_stage_names_by_var_give_the_same_win_rate(
    warehouse_copy: Path, tmp_path: Path, profiles_dir: Path
) -> None:
    demo = sales_components(warehouse_copy)
    assert any(row[0] == "win_rate" and row[5] for row in demo)
    with duckdb.connect(str(warehouse_copy)) as con:
        for demo_stage, own_stage in RENAMED_STAGES.items():
            con.execute(
                "update raw.crm_opportunities set stage = ? where stage = ?",
                [own_stage, demo_stage],
            )
        con.execute(
            "update raw.oms_customers set segment = 'Key Accounts' where segment = 'enterprise'"
        )
    dbt_vars = json.dumps({"as_of": DEMO_AS_OF, "crm_stage_values": STAGE_VALUES})
    run_dbt(
        ["run", "--full-refresh", "--select", *MODELS],
        db_path=warehouse_copy,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=dbt_vars,
    )
    renamed = [
        (
            *row[:4],
            "Key Accounts" if row[3] == "customer_segment" and row[4] == "enterprise" else row[4],
            *row[5:],
        )
        for row in demo
    ]
    assert sales_components(warehouse_copy) == sorted(renamed)
    # no renamed opportunity was quarantined (the demo's CRM rows are all clean)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        staged, raw = con.execute(
            "select (select count(*) from staging.stg_crm__opportunities),"
            " (select count(*) from raw.crm_opportunities)"
        ).fetchone()
    assert staged == raw
