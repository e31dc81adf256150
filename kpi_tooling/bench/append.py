"""Split generated raw data into a base load and a late append, for the incremental benchmark.

The base holds every row that happened before the cut-off, with the columns filled in later
(deliveries, first replies, cancellations) still empty; the append is the rest. Replacing the
base with the full data is then exactly "new rows arrived and open rows were updated".
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from kpi_tooling.config import RAW_SCHEMA

# Per raw table: the column that says when the row came into being (ISO text, date or
# timestamp: compared as text, which orders ISO values correctly).
TIMELINE: dict[str, str] = {
    "mes_work_orders": "released_local",
    "mes_unit_events": "event_local",
    "oms_customers": "signed_up_date",
    "oms_orders": "ordered_at",
    "oms_shipments": "shipped_at",
    "sd_tickets": "created_at",
    "sd_ticket_status_changes": "changed_at",
    "crm_opportunities": "created_at",
    "fin_invoices": "invoice_date",
    "cx_survey_responses": "responded_at",
    "qa_return_claims": "claimed_date",
    "cs_churn_events": "churned_date",
}
# Rows that belong to a parent row: held back with it.
CHILDREN: dict[str, tuple[str, str, str]] = {
    "mes_defects": ("event_id", "mes_unit_events", "event_id"),
    "oms_order_lines": ("order_id", "oms_orders", "order_id"),
}
# Columns not yet filled in at the cut-off: null in the base, filled in by the append.
UPDATED_LATER: dict[str, tuple[str, str]] = {
    "oms_shipments": ("shipment_id", "delivered_at"),
    "sd_tickets": ("ticket_id", "first_replied_at"),
    "oms_order_lines": ("order_line_id", "cancelled_at"),
}


def before(table: str, cutoff: str, schema: str = RAW_SCHEMA) -> str:
    """The predicate keeping a row of `table` in the base load."""
    if table in TIMELINE:
        return f"cast({TIMELINE[table]} as varchar) < '{cutoff}'"
    if table in CHILDREN:
        column, parent, parent_column = CHILDREN[table]
        return (
            f"{column} in (select {parent_column} from {schema}.{parent} "
            f"where {before(parent, cutoff, schema)})"
        )
    return "true"


def cutoff_for_share(raw_db: Path, share: float) -> str:
    """The first day such that about `share` of the unit events happen on or after it."""
    with duckdb.connect(str(raw_db), read_only=True) as con:
        day = con.execute(
            "select cast(cast(quantile_disc(event_local, ?) as date) as varchar) "
            "from raw.mes_unit_events",
            [1 - share],
        ).fetchone()[0]
    return day


def split(raw_db: Path, base_db: Path, cutoff: str) -> dict[str, dict[str, int]]:
    """Write `base_db` (schema raw) holding the rows of `raw_db` before `cutoff`.

    Returns rows per table: total, in the base, and appended (held back).
    """
    base_db.unlink(missing_ok=True)
    counts: dict[str, dict[str, int]] = {}
    with duckdb.connect(str(base_db)) as con:
        con.execute(f"attach '{raw_db}' as src (read_only)")
        con.execute("create schema raw")
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'src' and table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        for table in tables:
            keep = before(table, cutoff, schema="src.raw")
            con.execute(f"create table raw.{table} as select * from src.raw.{table} where {keep}")
            if table in UPDATED_LATER:
                _, column = UPDATED_LATER[table]
                con.execute(
                    f"update raw.{table} set {column} = null "
                    f"where cast({column} as varchar) >= '{cutoff}'"
                )
            total = con.execute(f"select count(*) from src.raw.{table}").fetchone()[0]
            kept = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            counts[table] = {"total": total, "base": kept, "appended": total - kept}
    return counts
