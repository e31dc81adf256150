"""The GE validation runner on a tiny handmade warehouse.

The five unit models are built in a non-main schema with exactly their documented columns
(docs/DATA_MODEL.md), next to a fake dbt manifest. Clean data must pass every suite; one
corrupted row per rule must be caught by that rule, which names the KPI and the key. With a
real `dbt parse` manifest (the package's own, and a consumer project's that installs it), the
suites of disabled domains are skipped and the rest run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import ROOT, dbt_deps, run_dbt
from kpi_tooling.errors import SetupError
from kpi_tooling.ge.results import Report
from kpi_tooling.ge.suites import builtin_definitions, registry_definitions
from kpi_tooling.ge.validate import EXIT_FAILED, EXIT_OK, EXIT_SETUP, main, run_suites
from kpi_tooling.publish.audit import audit_ge

REPO = Path(__file__).resolve().parents[2]
SUITES = REPO / "expectations"
SCHEMA = "main_intermediate"
AS_OF = datetime(2025, 4, 1)
T0 = datetime(2025, 3, 3, 8)

V, TS, B, INT, D = "varchar", "timestamp", "boolean", "integer", "date"
COLUMNS: dict[str, dict[str, str]] = {
    "int_manufacturing__completed_units": {
        "serial_number": V, "work_order_id": V, "line_id": V, "site_id": V, "route_id": V,
        "first_event_at": TS, "completed_at": TS, "completed_shift_id": V, "is_scrapped": B,
        "has_rework": B, "is_completed": B, "is_good_unit": B, "unit_status": V, "as_of_at": TS,
    },
    "int_manufacturing__first_pass_inspections": {
        "inspection_id": V, "serial_number": V, "step_code": V, "step_sequence": INT,
        "route_id": V, "line_id": V, "site_id": V, "first_inspected_at": TS, "first_result": V,
        "inspection_count": INT, "retest_count": INT, "rework_count": INT, "defect_count": INT,
        "is_first_pass": B, "as_of_at": TS, "sources_classified_at": TS,
    },
    "int_fulfilment__order_lines": {
        "order_line_id": V, "order_id": V, "customer_id": V, "customer_segment": V,
        "site_id": V, "ordered_quantity": INT, "first_promised_date": D,
        "first_promised_at": TS, "revised_promised_date": D, "revised_promised_at": TS,
        "promise_precision": V, "promised_date": D, "due_at": TS,
        "on_time_deadline_at": TS, "early_limit_at": TS, "delivered_quantity": INT,
        "completed_at": TS, "reference_delivered_at": TS, "is_cancelled": B, "is_due": B,
        "is_on_time": B, "is_in_full": B, "is_otif": B, "line_status": V, "as_of_at": TS,
        "shipment_count": INT, "sources_classified_at": TS,
    },
    "int_service__ticket_sla_measurements": {
        "sla_measurement_id": V, "ticket_id": V, "metric": V, "priority": V, "team_id": V,
        "agent_id": V, "customer_segment": V, "policy_id": V, "clock": V, "target_minutes": INT,
        "started_at": TS, "deadline_at": TS, "event_at": TS, "elapsed_clock_minutes": "double",
        "paused_minutes": "double", "reopen_count": INT, "sla_status": V, "is_met": B,
        "is_breached": B, "reporting_at": TS, "as_of_at": TS, "status_change_count": INT,
        "sources_classified_at": TS,
    },
    "int_sales__qualified_opportunities": {
        "opportunity_id": V, "customer_id": V, "customer_segment": V, "rep_id": V,
        "sales_team": V, "created_at": TS, "qualified_at": TS, "closed_at": TS, "stage": V,
        "stage_role": V, "amount": "decimal(18, 2)", "is_qualified": B, "is_closed": B, "is_won": B,
        "as_of_at": TS,
    },
}  # fmt: skip

Row = dict[str, Any]


# --- clean rows: a few of every kind of unit ------------------------------------------------

UNIT_KINDS = ["good", "reworked", "scrapped", "in_progress"]


def _completed_units() -> list[Row]:
    rows = []
    for n in range(1, 17):
        kind = UNIT_KINDS[(n - 1) % 4]
        start = T0 + timedelta(hours=n)
        completed = kind != "in_progress"
        rows.append({
            "serial_number": f"SN{n:04d}", "work_order_id": "WO1", "line_id": "L1",
            "site_id": "S1", "route_id": "R1", "first_event_at": start,
            "completed_at": start + timedelta(hours=2) if completed else None,
            "completed_shift_id": "SH1" if completed else None,
            "is_scrapped": kind == "scrapped", "has_rework": kind == "reworked",
            "is_completed": completed, "is_good_unit": kind in ("good", "reworked"),
            "unit_status": {"scrapped": "scrapped", "in_progress": "in_progress"}.get(kind, "good"),
            "as_of_at": AS_OF,
        })  # fmt: skip
    return rows


def _first_pass_inspections() -> list[Row]:
    rows = []
    for n in range(1, 9):
        for step, sequence in (("ICT", 1), ("FCT", 2)):
            first_pass = (n + sequence) % 3 != 0
            rows.append({
                "inspection_id": f"SN{n:04d}|{step}", "serial_number": f"SN{n:04d}",
                "step_code": step, "step_sequence": sequence, "route_id": "R1",
                "line_id": "L1", "site_id": "S1",
                "first_inspected_at": T0 + timedelta(hours=n, minutes=10 * sequence),
                "first_result": "pass" if first_pass else "fail",
                "inspection_count": 1 if first_pass else 2,
                "retest_count": 0 if first_pass else 1, "rework_count": 0 if first_pass else 1,
                "defect_count": 0 if first_pass else 2, "is_first_pass": first_pass,
            })  # fmt: skip
    return rows


LINE_KINDS = ["otif", "late_full", "partial", "open", "cancelled", "not_yet_due"]


def _line(n: int, kind: str) -> Row:
    promised = date(2025, 4, 10) if kind == "not_yet_due" else date(2025, 3, 1 + n)
    # a date promise: due at the next midnight (UTC customer), met strictly before it
    due = datetime.combine(promised, datetime.min.time()) + timedelta(days=1)
    delivered = {
        "otif": (10, due - timedelta(days=1)),
        "late_full": (10, due + timedelta(days=2)),
        "partial": (4, due - timedelta(hours=5)),
    }.get(kind, (0, None))
    quantity, delivered_at = delivered
    is_due = kind not in ("cancelled", "not_yet_due")
    on_time = kind in ("otif", "partial")
    return {
        "order_line_id": f"OL{n:04d}", "order_id": f"O{n:03d}", "customer_id": "C1",
        "customer_segment": "smb", "site_id": "S1", "ordered_quantity": 10,
        "first_promised_date": promised, "first_promised_at": None,
        "revised_promised_date": None, "revised_promised_at": None, "promise_precision": "date",
        "promised_date": promised, "due_at": due, "on_time_deadline_at": due,
        "early_limit_at": due - timedelta(days=3) if n % 2 else None,
        "delivered_quantity": quantity,
        "completed_at": delivered_at if quantity >= 10 else None,
        "reference_delivered_at": delivered_at, "is_cancelled": kind == "cancelled",
        "is_due": is_due, "is_on_time": on_time, "is_in_full": quantity >= 10,
        "is_otif": on_time and quantity >= 10,
        "line_status": "cancelled" if kind == "cancelled" else "due" if is_due else "not_yet_due",
        "as_of_at": AS_OF,
    }  # fmt: skip


def _order_lines() -> list[Row]:
    return [_line(n, LINE_KINDS[(n - 1) % 6]) for n in range(1, 25)]


SLA_KINDS = ["met", "breached_open", "breached_late", "in_progress"]


def _sla(ticket: int, metric: str, kind: str) -> Row:
    started = T0 + timedelta(days=ticket)
    deadline = AS_OF + timedelta(days=2) if kind == "in_progress" else started + timedelta(hours=4)
    event = {"met": started + timedelta(hours=1), "breached_late": deadline + timedelta(hours=3)}
    event_at = event.get(kind)
    status = {"met": "met", "in_progress": "in_progress"}.get(kind, "breached")
    return {
        "sla_measurement_id": f"T{ticket:03d}|{metric}", "ticket_id": f"T{ticket:03d}",
        "metric": metric, "priority": "high", "team_id": "TM1", "agent_id": "A1",
        "customer_segment": "smb", "policy_id": "P1", "clock": "calendar",
        "target_minutes": 240, "started_at": started, "deadline_at": deadline,
        "event_at": event_at, "elapsed_clock_minutes": 60.0, "paused_minutes": 0.0,
        "reopen_count": 0, "sla_status": status, "is_met": status == "met",
        "is_breached": status == "breached",
        "reporting_at": event_at if event_at and event_at < deadline else deadline,
        "as_of_at": AS_OF,
    }  # fmt: skip


def _sla_measurements() -> list[Row]:
    metrics = ("first_reply", "resolution")
    return [
        _sla(t, metric, SLA_KINDS[(t + i) % 4])
        for t in range(1, 11)
        for i, metric in enumerate(metrics)
    ]


OPPORTUNITY_KINDS = ["prospecting", "qualified", "proposal", "won", "lost_qualified", "lost"]


def _opportunity(n: int, kind: str) -> Row:
    created = T0 + timedelta(days=n)
    # closed before AS_OF (as_of_at): a close after it has not happened yet
    closed = created + timedelta(days=10) if kind.startswith(("won", "lost")) else None
    qualified_at = None if kind in ("prospecting", "lost") else created + timedelta(days=3)
    return {
        "opportunity_id": f"OP{n:04d}", "customer_id": "C1", "customer_segment": "smb",
        "rep_id": "REP1", "sales_team": "east", "created_at": created,
        "qualified_at": qualified_at, "closed_at": closed,
        "stage": kind.removesuffix("_qualified"),
        "stage_role": kind.removesuffix("_qualified") if kind.startswith(("won", "lost"))
        else "open", "amount": 5000,
        "is_qualified": qualified_at is not None, "is_closed": closed is not None,
        "is_won": kind == "won",
    }  # fmt: skip


def _opportunities() -> list[Row]:
    return [_opportunity(n, OPPORTUNITY_KINDS[(n - 1) % 6]) for n in range(1, 19)]


ROWS = {
    "int_manufacturing__completed_units": _completed_units,
    "int_manufacturing__first_pass_inspections": _first_pass_inspections,
    "int_fulfilment__order_lines": _order_lines,
    "int_service__ticket_sla_measurements": _sla_measurements,
    "int_sales__qualified_opportunities": _opportunities,
}


# --- one corrupted row per rule --------------------------------------------------------------


@dataclass(frozen=True)
class Corruption:
    model: str
    rule: str  # the start of the rule text in the suite
    key: str  # the key of the corrupted row, as the runner should report it
    where_key: str  # the key of the row before corruption
    set_sql: str


def _c(model: str, rule: str, key: str, set_sql: str, reported: str | None = None) -> Corruption:
    return Corruption(model, rule, reported or key, key, set_sql)


CU, FP, OL = (
    "int_manufacturing__completed_units",
    "int_manufacturing__first_pass_inspections",
    "int_fulfilment__order_lines",
)
SLA, OPP = "int_service__ticket_sla_measurements", "int_sales__qualified_opportunities"
CORRUPTIONS = [
    _c(CU, "every unit has a serial number", "SN0001", "serial_number = null", "NULL"),
    _c(CU, "one row per serial number", "SN0003", "serial_number = 'SN0002'", "SN0002"),
    _c(CU, "every unit is traced", "SN0004", "line_id = null"),
    _c(CU, "the unit flags", "SN0005", "has_rework = null"),
    _c(CU, "unit_status is good", "SN0006", "unit_status = 'done'"),
    _c(CU, "a unit is completed exactly when", "SN0007", "completed_at = null"),
    _c(CU, "a good unit is completed and not scrapped", "SN0011", "is_good_unit = true"),
    _c(CU, "unit_status follows the flags", "SN0009", "unit_status = 'in_progress'"),
    _c(CU, "a unit completes no earlier", "SN0010",
       "completed_at = first_event_at - interval 1 hour"),
    _c(CU, "a good unit counts in the shift", "SN0013", "completed_shift_id = null"),
    _c(FP, "every inspected unit has an inspection_id", "SN0001|ICT", "inspection_id = null",
       "NULL"),
    _c(FP, "one row per serial number and step", "SN0002|ICT", "inspection_id = 'SN0001|FCT'",
       "SN0001|FCT"),
    _c(FP, "inspection_id is serial_number|step_code", "SN0002|FCT", "serial_number = 'SN9999'"),
    _c(FP, "every inspection sits on a route step", "SN0003|ICT", "step_sequence = null"),
    _c(FP, "a unit enters the denominator only once inspected", "SN0003|FCT",
       "first_inspected_at = null"),
    _c(FP, "first_result is pass or fail", "SN0004|ICT",
       "first_result = 'maybe', is_first_pass = false"),
    _c(FP, "an inspected unit has at least one inspection", "SN0004|FCT",
       "inspection_count = 0"),
    _c(FP, "retest and rework counts are counts", "SN0005|ICT",
       "rework_count = -1, is_first_pass = false"),
    _c(FP, "defect_count is a count", "SN0005|FCT", "defect_count = null, is_first_pass = false"),
    _c(FP, "every inspected unit is either first-pass", "SN0006|ICT", "is_first_pass = null"),
    _c(FP, "a first-pass unit passed its only inspection", "SN0006|FCT",
       "is_first_pass = true, first_result = 'pass', retest_count = 0, rework_count = 2"),
    _c(FP, "a unit that passed its only inspection", "SN0007|ICT",
       "is_first_pass = false, first_result = 'pass', inspection_count = 1, retest_count = 0,"
       " rework_count = 0, defect_count = 0"),
    _c(OL, "every line has an order_line_id", "OL0001", "order_line_id = null", "NULL"),
    _c(OL, "one row per order line", "OL0003", "order_line_id = 'OL0002'", "OL0002"),
    _c(OL, "line_status is due", "OL0021", "line_status = 'late'"),
    _c(OL, "every line says whether it is cancelled", "OL0008", "is_due = null"),
    _c(OL, "a cancelled line is not due", "OL0011", "is_due = true"),
    _c(OL, "line_status follows the flags", "OL0009", "line_status = 'cancelled'"),
    _c(OL, "a line is due exactly when its on-time deadline has passed", "OL0012",
       "due_at = timestamp '2025-03-20 23:59:59',"
       " on_time_deadline_at = timestamp '2025-03-20 23:59:59'"),
    _c(OL, "the promise judged is the first or the revised one", "OL0020",
       "promised_date = date '2025-01-01'"),
    _c(OL, "a date promise is due at the next local midnight", "OL0002",
       "due_at = due_at + interval 1 day, on_time_deadline_at = on_time_deadline_at"
       " + interval 1 day"),
    _c(OL, "the on-time window", "OL0010", "on_time_deadline_at = due_at - interval 1 hour"),
    _c(OL, "ordered quantity is positive", "OL0016", "delivered_quantity = -1"),
    _c(OL, "a due line is judged", "OL0022", "is_on_time = null"),
    _c(OL, "in full means", "OL0015", "is_in_full = true"),
    _c(OL, "completed_at is the delivery", "OL0019", "completed_at = null"),
    _c(OL, "reference_delivered_at is completed_at", "OL0013",
       "reference_delivered_at = completed_at - interval 1 day"),
    _c(OL, "an on-time line was delivered", "OL0004", "is_on_time = true"),
    _c(OL, "a due line completed inside its on-time window", "OL0007",
       "is_on_time = false, is_otif = false"),
    _c(OL, "OTIF means on time and in full", "OL0014", "is_otif = true"),
    _c(SLA, "every measurement has a sla_measurement_id", "T001|first_reply",
       "sla_measurement_id = null", "NULL"),
    _c(SLA, "one row per ticket and SLA metric", "T001|resolution",
       "sla_measurement_id = 'T002|first_reply'", "T002|first_reply"),
    _c(SLA, "sla_measurement_id is ticket_id|metric", "T003|first_reply", "ticket_id = 'TX'"),
    _c(SLA, "the SLA metric is", "T003|resolution", "metric = 'csat'"),
    _c(SLA, "time is measured on", "T004|first_reply", "clock = 'wall'"),
    _c(SLA, "every measurement has the policy", "T004|resolution", "target_minutes = 0"),
    _c(SLA, "sla_status is met", "T005|first_reply", "sla_status = 'late'"),
    _c(SLA, "is_met and is_breached mirror", "T005|resolution", "is_met = true"),
    _c(SLA, "a met measurement", "T007|resolution",
       "event_at = deadline_at + interval 1 minute, reporting_at = deadline_at"),
    _c(SLA, "a breached measurement", "T008|resolution",
       "deadline_at = as_of_at + interval 1 day, reporting_at = as_of_at + interval 1 day"),
    _c(SLA, "an in-progress measurement", "T006|resolution",
       "event_at = started_at + interval 1 minute, reporting_at = started_at + interval 1 minute"),
    _c(SLA, "the event (first reply, or final solve)", "T008|first_reply",
       "event_at = started_at - interval 1 minute, reporting_at = started_at - interval 1 minute"),
    _c(SLA, "elapsed clock minutes", "T009|first_reply", "elapsed_clock_minutes = -5"),
    _c(SLA, "paused minutes", "T009|resolution", "paused_minutes = -1"),
    _c(SLA, "reopen_count is never negative", "T010|first_reply", "reopen_count = -1"),
    _c(SLA, "a measurement is reported in the period", "T010|resolution",
       "reporting_at = reporting_at + interval 1 day"),
    _c(OPP, "every opportunity has an opportunity_id", "OP0001", "opportunity_id = null", "NULL"),
    _c(OPP, "one row per opportunity", "OP0003", "opportunity_id = 'OP0002'", "OP0002"),
    _c(OPP, "every opportunity has a rep", "OP0004", "rep_id = null"),
    _c(OPP, "stage_role is open, won or lost", "OP0008", "stage_role = 'negotiation'"),
    _c(OPP, "an opportunity is qualified exactly", "OP0007", "is_qualified = true"),
    _c(OPP, "an opportunity qualifies no earlier", "OP0014",
       "qualified_at = created_at - interval 1 day"),
    _c(OPP, "closed means a won or lost stage", "OP0009",
       "is_closed = true, closed_at = created_at + interval 10 day"),
    _c(OPP, "a closed opportunity has a close time", "OP0012", "closed_at = null"),
    _c(OPP, "won means a won stage", "OP0011", "is_won = true"),
    _c(OPP, "a won opportunity is qualified", "OP0010", "amount = 0"),
    _c(OPP, "nothing after as_of is counted", "OP0016", "closed_at = as_of_at + interval 1 hour"),
]  # fmt: skip
KEY_COLUMNS = {
    CU: "serial_number", FP: "inspection_id", OL: "order_line_id",
    SLA: "sla_measurement_id", OPP: "opportunity_id",
}  # fmt: skip


# --- warehouse and manifest builders ---------------------------------------------------------


def build_warehouse(
    path: Path,
    corruptions: list[Corruption] | None = None,
    schema: str = SCHEMA,
    models: list[str] | None = None,
) -> Path:
    with duckdb.connect(str(path)) as conn:
        conn.execute(f"create schema if not exists {schema}")
        for model in models if models is not None else list(COLUMNS):
            columns = COLUMNS[model]
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            conn.execute(f"create table {schema}.{model} ({ddl})")
            names = list(columns)
            insert = f"insert into {schema}.{model} values ({', '.join('?' * len(names))})"
            # incremental bookkeeping (child-row counts, sources_classified_at) and as_of_at:
            # any value will do
            filler = {
                "sources_classified_at": AS_OF,
                "shipment_count": 1,
                "status_change_count": 1,
                "as_of_at": AS_OF,
            }
            rows = [[row.get(name, filler.get(name)) for name in names] for row in ROWS[model]()]
            conn.executemany(insert, rows)
        for bad in corruptions or []:
            conn.execute(
                f"update {schema}.{bad.model} set {bad.set_sql} where {KEY_COLUMNS[bad.model]} = ?",
                [bad.where_key],
            )
    return path


def write_manifest(path: Path, models: list[str] | None = None) -> Path:
    nodes = {
        f"model.output_kpis.{name}": {
            "resource_type": "model", "name": name, "database": "warehouse",
            "schema": SCHEMA, "alias": name,
        }
        for name in (models if models is not None else list(COLUMNS))
    }  # fmt: skip
    nodes["seed.output_kpis.raw_x"] = {"resource_type": "seed", "name": "raw_x", "schema": "raw"}
    path.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    return path


@dataclass
class CliRun:
    tmp: Path
    process: subprocess.Popen[str]

    def wait(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=120)
        return self.process.returncode, out, err


def _cli(tmp: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "kpi_tooling.ge.validate", "--suites", str(SUITES), *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        command, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


FIRST_PASS_EXAMPLE = next(c for c in CORRUPTIONS if c.rule.startswith("a first-pass unit"))


@pytest.fixture(scope="module", autouse=True)
def broken_cli_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliRun]:
    """The CLI on a warehouse with one broken rule, run as a subprocess.

    Started before the first test (autouse) so its ~3 s GE import overlaps the other tests.
    """
    tmp = tmp_path_factory.mktemp("broken_cli")
    db = build_warehouse(tmp / "warehouse.duckdb", [FIRST_PASS_EXAMPLE])
    manifest = write_manifest(tmp / "manifest.json")
    out = tmp / "target" / "ge_results.json"
    run = CliRun(tmp, _cli(tmp, "--db", str(db), "--manifest", str(manifest), "--out", str(out)))
    yield run
    if run.process.poll() is None:
        run.process.kill()


# --- tests -----------------------------------------------------------------------------------


def _suite_rules() -> dict[str, list[dict[str, Any]]]:
    suites = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SUITES.glob("*.json"))]
    return {suite["meta"]["model"]: suite["expectations"] for suite in suites}


def _rule_for(bad: Corruption, rules: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    matches = [e for e in rules[bad.model] if e["meta"]["rule"].startswith(bad.rule)]
    assert len(matches) == 1, f"{bad.rule!r} matches {len(matches)} rules of {bad.model}"
    return matches[0]


def test_suites_cover_the_five_models_and_every_rule_has_a_corruption() -> None:
    rules = _suite_rules()
    assert set(rules) == set(COLUMNS)
    covered = {id(_rule_for(bad, rules)) for bad in CORRUPTIONS}
    uncovered = [
        e["meta"]["rule"]
        for model in rules
        for e in rules[model]
        if id(e) not in covered and e["type"] != "expect_table_columns_to_match_set"
    ]
    assert not uncovered, f"rules with no corruption test: {uncovered}"


def test_clean_data_passes_and_main_writes_results_and_data_docs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build_warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "target" / "ge_results.json"
    args = ["--db", str(db), "--manifest", str(write_manifest(tmp_path / "m.json"))]
    code = main([*args, "--suites", str(SUITES), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    assert printed.startswith("PASS: ")
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["success"] is True
    assert {s["model"]: s["row_count"] for s in results["suites"]} == {
        model: len(make()) for model, make in ROWS.items()
    }
    # each suite file names the KPI defining its unit; the run reads the text from there
    defined = {
        **registry_definitions(REPO / "seeds" / "reference" / "kpi_registry.csv"),
        **builtin_definitions(REPO / "dbt_project.yml"),
    }
    metas = [json.loads(p.read_text(encoding="utf-8"))["meta"] for p in SUITES.glob("*.json")]
    assert {s["model"]: s["unit_of_output"] for s in results["suites"]} == {
        meta["model"]: defined[meta["unit_of_output_from"]] for meta in metas
    }
    suite = results["suites"][0]
    assert {"model", "relation", "kpis", "success", "row_count", "duration_seconds"} <= set(suite)
    assert suite["relation"] == f"warehouse.{SCHEMA}.{suite['model']}"
    assert {"rule", "kpi", "type", "success", "unexpected_count", "sample_keys"} <= set(
        suite["expectations"][0]
    )
    assert (tmp_path / "target" / "ge_data_docs" / "index.html").is_file()


@pytest.fixture(scope="module")
def corrupted_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    tmp = tmp_path_factory.mktemp("corrupted")
    db = build_warehouse(tmp / "w.duckdb", CORRUPTIONS)
    return run_suites(db, write_manifest(tmp / "m.json"), SUITES, tmp / "results.json")


@pytest.mark.parametrize("bad", CORRUPTIONS, ids=lambda bad: f"{bad.model}:{bad.rule}")
def test_each_rule_catches_its_corrupted_row(corrupted_report: Report, bad: Corruption) -> None:
    suite = next(s for s in corrupted_report.suites if s.model == bad.model)
    rule = _rule_for(bad, _suite_rules())["meta"]["rule"]
    outcome = next(e for e in suite.expectations if e.rule == rule)
    assert not outcome.success
    assert outcome.error is None
    assert bad.key in outcome.sample_keys
    message = next(m for m in corrupted_report.failure_messages() if f'rule "{rule}"' in m)
    assert message.startswith(f"FAIL {outcome.kpi} / {bad.model}: ")
    assert bad.key in message


def test_missing_column_is_named(tmp_path: Path) -> None:
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as conn:
        conn.execute(f"alter table {SCHEMA}.{CU} rename column has_rework to is_reworked")
    report = run_suites(db, write_manifest(tmp_path / "m.json"), SUITES, None, [CU])
    messages = report.failure_messages()
    assert any("every column documented" in m and "has_rework" in m for m in messages)


def test_setup_errors_are_raised_before_any_validation(tmp_path: Path) -> None:
    db = build_warehouse(tmp_path / "w.duckdb")
    with pytest.raises(SetupError, match="not in the dbt manifest"):
        run_suites(db, write_manifest(tmp_path / "m.json", [CU]), SUITES, None)
    with pytest.raises(SetupError, match="suite file"):
        run_suites(db, write_manifest(tmp_path / "m.json"), SUITES, None, ["no_such_suite"])


def test_cli_exits_2_when_an_input_is_missing(tmp_path: Path) -> None:
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as conn:
        conn.execute(f"drop table {SCHEMA}.{OPP}")
    cases = {
        "not in the dbt manifest": ("--db", str(db), "--manifest",
                                    str(write_manifest(tmp_path / "m1.json", [CU]))),
        f"{OPP} ({'warehouse'}.{SCHEMA}.{OPP})": ("--db", str(db), "--manifest",
                                                str(write_manifest(tmp_path / "m2.json"))),
        "database not found": ("--db", str(tmp_path / "nope.duckdb"), "--manifest",
                               str(tmp_path / "m2.json")),
        "dbt manifest not found": ("--db", str(db), "--manifest", str(tmp_path / "none.json")),
    }  # fmt: skip
    for expected, args in cases.items():
        process = _cli(tmp_path, *args, "--out", str(tmp_path / "r.json"))
        out, err = process.communicate(timeout=60)
        assert process.returncode == EXIT_SETUP, (expected, out, err)
        assert expected in err and err.startswith("ERROR: ")
    assert not (tmp_path / "r.json").exists()


def test_cli_broken_rule_exits_1_naming_kpi_rule_and_key(broken_cli_run: CliRun) -> None:
    code, out, err = broken_cli_run.wait()
    assert code == EXIT_FAILED, out + err
    assert (
        f'FAIL first_pass_yield / {FP}: rule "a first-pass unit passed its only inspection at'
        " the step (a second inspection is a retest; duplicate scans are one) with no retest"
        ' event, no rework or repair and no defect" — 1 offending row, e.g. SN0006|FCT'
    ) in out
    target = broken_cli_run.tmp / "target"
    results = json.loads((target / "ge_results.json").read_text(encoding="utf-8"))
    assert results["success"] is False
    assert (target / "ge_data_docs" / "index.html").is_file()


# --- disabled domains, on manifests written by a real `dbt parse` ---------------------------

MANUFACTURING = [CU, FP]


def _unit_schema(manifest: Path) -> str:
    """The schema the manifest puts the built unit models in (they share one)."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    schemas = {n["schema"] for n in nodes if n["resource_type"] == "model" and n["name"] in ROWS}
    assert len(schemas) == 1, schemas
    return schemas.pop()


def _disabled_models(manifest: Path) -> set[str]:
    disabled = json.loads(manifest.read_text(encoding="utf-8"))["disabled"].values()
    return {n["name"] for ns in disabled for n in ns if n["resource_type"] == "model"}


@pytest.fixture(scope="module")
def no_manufacturing_manifest(tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path) -> Path:
    """The package's own manifest with the manufacturing domain switched off by its var."""
    target = tmp_path_factory.mktemp("parse_no_manufacturing") / "target"
    run_dbt(
        ["parse"],
        db_path=target.parent / "output_kpis.duckdb",
        target_path=target,
        profiles_dir=profiles_dir,
        dbt_vars="{output_kpis_enable_manufacturing: false}",
    )
    manifest = target / "manifest.json"
    assert set(MANUFACTURING) <= _disabled_models(manifest)
    return manifest


def test_disabled_domain_is_skipped_and_the_enabled_suites_run(
    no_manufacturing_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enabled = [model for model in ROWS if model not in MANUFACTURING]
    # no manufacturing tables at all: a disabled domain is never built
    schema = _unit_schema(no_manufacturing_manifest)
    db = build_warehouse(tmp_path / "w.duckdb", schema=schema, models=enabled)
    out = tmp_path / "ge_results.json"
    args = ["--db", str(db), "--manifest", str(no_manufacturing_manifest), "--out", str(out)]
    # the suite files by name: the generated units__ suites of the enabled sales declarations
    # read int_units__declared_units, which this handmade warehouse does not build
    files = [f"--suite={path.stem}" for path in sorted(SUITES.glob("*.json"))]
    code = main([*args, "--suites", str(SUITES), *files, "--no-data-docs"])
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    for model in MANUFACTURING:
        assert f"skipped: {model} (domain disabled)\n" in printed
    assert "PASS: " in printed and "in 3 suites (2 skipped: domain disabled)" in printed
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["success"] is True
    assert sorted(s["model"] for s in results["suites"]) == sorted(enabled)
    assert {s["model"]: s["reason"] for s in results["skipped"]} == {
        model: "domain disabled" for model in MANUFACTURING
    }


def test_a_model_the_manifest_does_not_know_is_still_a_setup_error(
    no_manufacturing_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    for path in SUITES.glob("*.json"):
        (suites / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    typo = suites / f"{OL}.json"
    typo.write_text(typo.read_text(encoding="utf-8").replace(f'"{OL}"', f'"{OL}z"'))
    db = build_warehouse(tmp_path / "w.duckdb", schema=_unit_schema(no_manufacturing_manifest))
    args = ["--db", str(db), "--manifest", str(no_manufacturing_manifest)]
    code = main([*args, "--suites", str(suites), "--out", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == EXIT_SETUP
    assert err.startswith("ERROR: model(s) not in the dbt manifest") and f"{OL}z" in err
    assert not (tmp_path / "r.json").exists()


def test_every_suite_skipped_validates_nothing_says_so_and_exits_0(
    no_manufacturing_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build_warehouse(tmp_path / "w.duckdb", models=[])
    out = tmp_path / "ge_results.json"
    args = ["--db", str(db), "--manifest", str(no_manufacturing_manifest), "--out", str(out)]
    code = main([*args, "--suites", str(SUITES), *(f"--suite={m}" for m in MANUFACTURING)])
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    assert "NOTHING VALIDATED: all 2 suites skipped" in printed
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["suites"] == [] and len(results["skipped"]) == 2
    assert not (tmp_path / "ge_data_docs").exists()
    # publishing accepts it (there was nothing to validate), but not an empty results file
    assert audit_ge(results, ge_mtime=1.0, dbt_finished=0.0)[0] == []
    empty = {"success": True, "suites": []}
    assert audit_ge(empty, ge_mtime=1.0, dbt_finished=0.0)[0] == [
        "GE: the results file holds no suites"
    ]


@pytest.fixture(scope="module")
def consumer_project(tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path) -> Path:
    """A project that installs the package by local path (`dbt deps`) and disables two domains:
    it has no expectations/ of its own."""
    project = tmp_path_factory.mktemp("consumer")
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0.0'\nconfig-version: 2\nprofile: output_kpis\n"
        "vars:\n  output_kpis_enable_manufacturing: false\n  output_kpis_enable_sales: false\n",
        encoding="utf-8",
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n", encoding="utf-8")
    common = {"db_path": project / "unused.duckdb", "profiles_dir": profiles_dir}
    dbt_deps(project, profiles_dir)
    run_dbt(["parse"], **common, target_path=project / "target", project_dir=project, dbt_vars="{}")
    return project


def test_from_a_consumer_project_with_no_flags_the_package_suites_run(
    consumer_project: Path, tmp_path: Path
) -> None:
    manifest = consumer_project / "target" / "manifest.json"
    disabled = [model for model in ROWS if model in _disabled_models(manifest)]
    assert sorted(disabled) == sorted([*MANUFACTURING, OPP])
    enabled = [model for model in ROWS if model not in disabled]
    db = build_warehouse(tmp_path / "w.duckdb", schema=_unit_schema(manifest), models=enabled)
    # only --db (and the file suites by name: this hand-made warehouse holds no declared units
    # for the generated suite units__resolved_ticket; test_ge_declared covers those):
    # manifest, suites folder, results file and Data Docs all default
    command = [sys.executable, "-m", "kpi_tooling.ge.validate", "--db", str(db)]
    for suite in ROWS:
        command += ["--suite", suite]
    run = subprocess.run(
        command,
        cwd=consumer_project,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == EXIT_OK, run.stdout + run.stderr
    assert run.stdout.startswith(f"suites: {Path('dbt_packages', 'output_kpis', 'expectations')}\n")
    for model in disabled:
        assert f"skipped: {model} (domain disabled)" in run.stdout
    results = json.loads((consumer_project / "target" / "ge_results.json").read_text())
    assert sorted(s["model"] for s in results["suites"]) == sorted(enabled)
    assert (consumer_project / "target" / "ge_data_docs" / "index.html").is_file()


def test_no_suites_folder_and_no_package_that_ships_one_is_a_setup_error(
    no_manufacturing_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the package's own manifest seen from elsewhere: no ./expectations, no installed package
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        db = build_warehouse(tmp_path / "w.duckdb")
        code = main(["--db", str(db), "--manifest", str(no_manufacturing_manifest)])
    assert code == EXIT_SETUP
    assert capsys.readouterr().err.startswith("ERROR: no suites folder")
