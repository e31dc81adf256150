"""Every hand-crafted edge case of the demo data (seeds/EDGE_CASES.md) comes out of the unit
models of the real build with the flags docs/DEFINITIONS.md prescribes."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from conftest import Warehouse

CASES = [
    # (relation, key column, key, column, expected)
    (
        "int_manufacturing__completed_units",
        "serial_number",
        "SN-EDGE-DUPSCAN",
        "completed_shift_id",
        "S1-L1-2025-02-10-A",
    ),
    (
        "int_manufacturing__first_pass_inspections",
        "inspection_id",
        "SN-EDGE-DUPSCAN|FINAL",
        "inspection_count",
        1,
    ),
    (
        "int_manufacturing__completed_units",
        "serial_number",
        "SN-EDGE-REWORK",
        "unit_status",
        "good",
    ),
    ("int_manufacturing__completed_units", "serial_number", "SN-EDGE-REWORK", "has_rework", True),
    (
        "int_manufacturing__first_pass_inspections",
        "inspection_id",
        "SN-EDGE-REWORK|FCT",
        "is_first_pass",
        False,
    ),
    (
        "int_manufacturing__first_pass_inspections",
        "inspection_id",
        "SN-EDGE-RETEST|FCT",
        "retest_count",
        1,
    ),
    (
        "int_manufacturing__first_pass_inspections",
        "inspection_id",
        "SN-EDGE-RETEST|FCT",
        "is_first_pass",
        False,
    ),
    (
        "int_manufacturing__completed_units",
        "serial_number",
        "SN-EDGE-SCRAP",
        "unit_status",
        "scrapped",
    ),
    (
        "int_manufacturing__completed_units",
        "serial_number",
        "SN-EDGE-AFTERSHIFT",
        "completed_shift_id",
        "S1-L2-2025-02-14-B",
    ),
    (
        "int_manufacturing__completed_units",
        "serial_number",
        "SN-EDGE-WIP",
        "unit_status",
        "in_progress",
    ),
    (
        "int_manufacturing__first_pass_inspections",
        "inspection_id",
        "SN-EDGE-TWOPERIODS|FCT",
        "first_inspected_local_date",
        date(2025, 1, 31),
    ),
    (
        "int_manufacturing__first_pass_inspections",
        "inspection_id",
        "SN-EDGE-MULTIDEFECT|FCT",
        "defect_count",
        3,
    ),
    ("int_manufacturing__shift_output", "shift_id", "S3-L2-2025-06-15-A", "throughput_rate", None),
    ("int_manufacturing__shift_output", "shift_id", "S1-L1-2025-03-12-A", "operating_minutes", 690),
    # delivered at 00:00:00 Berlin of the next day: a date promise ends strictly before it
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-BOUNDARY", "is_on_time", False),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-BOUNDARY", "is_in_full", True),
    (
        "int_fulfilment__order_lines",
        "order_line_id",
        "OL-EDGE-BOUNDARY",
        "due_at",
        datetime(2025, 6, 10, 22, 0),
    ),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-LATE1S", "is_on_time", False),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-OPENPASTDUE", "is_due", True),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-OPENPASTDUE", "is_on_time", False),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-SPLIT-ONTIME", "is_otif", True),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-SPLIT-LATE", "is_on_time", False),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-SPLIT-LATE", "is_in_full", True),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-PARTIAL", "is_on_time", True),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-PARTIAL", "is_in_full", False),
    (
        "int_fulfilment__order_lines",
        "order_line_id",
        "OL-EDGE-CANCELLED",
        "line_status",
        "cancelled",
    ),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-REPROMISE", "is_on_time", False),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-SHIPPEDONLY", "is_on_time", False),
    ("int_fulfilment__order_lines", "order_line_id", "OL-EDGE-EARLY", "is_otif", True),
    (
        "int_fulfilment__order_lines",
        "order_line_id",
        "OL-EDGE-NOTYETDUE",
        "line_status",
        "not_yet_due",
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-FR-BOUNDARY|first_reply",
        "sla_status",
        "met",
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-FR-BOUNDARY|first_reply",
        "deadline_at",
        datetime(2025, 5, 6, 15, 0),
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-BREACHED-OPEN|first_reply",
        "sla_status",
        "breached",
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-BREACHED-OPEN|resolution",
        "reporting_at",
        datetime(2025, 12, 20, 18, 0),
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-INPROGRESS|first_reply",
        "deadline_at",
        datetime(2026, 1, 5, 20, 0),
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-INPROGRESS|resolution",
        "sla_status",
        "in_progress",
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-REOPEN|resolution",
        "reopen_count",
        1,
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-REOPEN|resolution",
        "event_at",
        datetime(2025, 4, 4, 16, 0),
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-PENDING|resolution",
        "paused_minutes",
        120,
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-PENDING|resolution",
        "sla_status",
        "met",
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-BUSINESSHOURS|first_reply",
        "elapsed_clock_minutes",
        80,
    ),
    (
        "int_service__ticket_sla_measurements",
        "sla_measurement_id",
        "T-EDGE-BUSINESSHOURS|first_reply",
        "deadline_at",
        datetime(2025, 3, 10, 14, 30),
    ),
    (
        "int_sales__qualified_opportunities",
        "opportunity_id",
        "O-EDGE-WON-NOQUAL",
        "qualified_at",
        datetime(2025, 3, 14, 16, 0),
    ),
    ("int_sales__qualified_opportunities", "opportunity_id", "O-EDGE-QUAL-LOST", "is_won", False),
]


@pytest.fixture(scope="module")
def con(warehouse: Warehouse):
    connection = duckdb.connect(str(warehouse.db_path), read_only=True)
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("relation", "key_column", "key", "column", "expected"),
    CASES,
    ids=[f"{c[2]}:{c[3]}" for c in CASES],
)
def test_edge_case_flag(con, relation, key_column, key, column, expected) -> None:
    found = con.execute(
        f"select {column} from intermediate.{relation} where {key_column} = ?", [key]
    ).fetchall()
    assert len(found) == 1, f"{key} has {len(found)} rows in {relation}"
    assert found[0][0] == expected
