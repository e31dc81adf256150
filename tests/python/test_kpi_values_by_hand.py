"""KPI values in the public mart equal values computed independently, in plain Python, from
the raw demo CSVs (no SQL of the package is reused). November 2025, demo as_of 2026-01-01."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import duckdb
import pytest

from conftest import ROOT, Warehouse

RAW = ROOT / "seeds" / "raw"
AS_OF = datetime(2026, 1, 1)  # naive UTC, like the warehouse
MONTH = date(2025, 11, 1)


@cache
def rows(table: str) -> list[dict[str, str]]:
    with (RAW / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def utc(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "")) if text else None


def local_to_utc(text: str, zone: str) -> datetime:
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).replace(tzinfo=None)


def utc_to_local_date(moment: datetime, zone: str) -> date:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def in_month(day: date) -> bool:
    return (day.year, day.month) == (MONTH.year, MONTH.month)


def mart_row(warehouse: Warehouse, kpi_id: str, dimension: str = "overall", value: str = "all"):
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    try:
        found = con.execute(
            """
            select numerator, denominator, value from marts.fct_kpi_values
            where kpi_id = ? and grain = 'month' and period_start = ?
              and dimension_name = ? and dimension_value = ?
            """,
            [kpi_id, MONTH, dimension, value],
        ).fetchone()
    finally:
        con.close()
    assert found is not None, f"no {kpi_id} row for {MONTH} {dimension}={value}"
    return found


def assert_ratio(
    warehouse: Warehouse, kpi_id: str, numerator: float, denominator: float, **slice_: str
) -> None:
    got_num, got_den, got_value = mart_row(warehouse, kpi_id, *slice_.values())
    assert (got_num, got_den) == (numerator, denominator), kpi_id
    assert got_value == pytest.approx(numerator / denominator, abs=1e-9), kpi_id


# --- order fulfilment -------------------------------------------------------------------


def due_lines_november() -> list[tuple[bool, bool]]:
    customers = {c["customer_id"]: c for c in rows("oms_customers")}
    orders = {o["order_id"]: o for o in rows("oms_orders")}
    deliveries: dict[str, list[tuple[datetime, str, int]]] = defaultdict(list)
    for s in rows("oms_shipments"):
        delivered = utc(s["delivered_at"])
        if delivered is not None and delivered <= AS_OF:
            deliveries[s["order_line_id"]].append(
                (delivered, s["shipment_id"], int(s["shipped_quantity"]))
            )
    result = []
    for line in rows("oms_order_lines"):
        promised = date.fromisoformat(line["first_promised_date"])
        cancelled = utc(line["cancelled_at"])
        if not in_month(promised) or (cancelled is not None and cancelled <= AS_OF):
            continue
        zone = customers[orders[line["order_id"]]["customer_id"]]["time_zone"]
        due = local_to_utc((promised + timedelta(days=1)).isoformat() + " 00:00:00", zone)
        if due > AS_OF:
            continue
        ordered, total, completed, last = int(line["ordered_quantity"]), 0, None, None
        for delivered, _, quantity in sorted(deliveries[line["order_line_id"]]):
            total += quantity
            last = delivered
            if completed is None and total >= ordered:
                completed = delivered
        reference = completed or last
        # a promised date is met strictly before the next local midnight
        on_time = reference is not None and reference < due
        result.append((on_time, total >= ordered))
    return result


def test_on_time_in_full_and_otif_match_hand_count(warehouse: Warehouse) -> None:
    lines = due_lines_november()
    assert len(lines) > 500
    due = float(len(lines))
    assert_ratio(warehouse, "on_time_rate", float(sum(o for o, _ in lines)), due)
    assert_ratio(warehouse, "in_full_rate", float(sum(f for _, f in lines)), due)
    assert_ratio(warehouse, "otif_rate", float(sum(o and f for o, f in lines)), due)


# --- manufacturing ----------------------------------------------------------------------


def site_zones() -> tuple[dict[str, str], dict[str, str]]:
    zone_of_site = {s["site_id"]: s["time_zone"] for s in rows("mes_sites")}
    line_site = {line["line_id"]: line["site_id"] for line in rows("mes_lines")}
    wo_line = {w["work_order_id"]: w["line_id"] for w in rows("mes_work_orders")}
    return zone_of_site, {wo: line_site[line] for wo, line in wo_line.items()}


def unique_events() -> list[dict]:
    """Events up to as_of with duplicate scans (same serial/step/type/result/time) removed."""
    zone_of_site, wo_site = site_zones()
    seen, kept = set(), []
    for e in sorted(rows("mes_unit_events"), key=lambda e: e["event_id"]):
        key = (e["serial_number"], e["step_code"], e["event_type"], e["result"], e["event_local"])
        at = local_to_utc(e["event_local"], zone_of_site[wo_site[e["work_order_id"]]])
        if key in seen or at > AS_OF:
            continue
        seen.add(key)
        kept.append({**e, "at": at, "site": wo_site[e["work_order_id"]]})
    return kept


def test_first_pass_yield_matches_hand_count(warehouse: Warehouse) -> None:
    defects: dict[str, int] = defaultdict(int)
    for d in rows("mes_defects"):
        defects[d["event_id"]] += 1
    steps: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in unique_events():
        steps[(e["serial_number"], e["step_code"])].append(e)
    entered = first_pass = 0
    for events in steps.values():
        inspections = sorted(
            (e for e in events if e["event_type"] in ("inspection", "retest")),
            key=lambda e: (e["at"], e["event_id"]),
        )
        if not inspections or not in_month(date.fromisoformat(inspections[0]["event_local"][:10])):
            continue
        entered += 1
        first_pass += (
            inspections[0]["result"] == "pass"
            and len(inspections) == 1
            and all(e["event_type"] in ("inspection",) for e in events)
            and sum(defects[e["event_id"]] for e in events) == 0
        )
    assert entered > 1000
    assert_ratio(warehouse, "first_pass_yield", float(first_pass), float(entered))


def test_site_throughput_rate_matches_hand_count(warehouse: Warehouse) -> None:
    zone_of_site, _ = site_zones()
    final_steps = {
        (r["route_id"], r["step_code"])
        for r in rows("mes_route_steps")
        if r["is_final_step"] == "true"
    }
    line_route = {line["line_id"]: line["route_id"] for line in rows("mes_lines")}
    wo_line = {w["work_order_id"]: w["line_id"] for w in rows("mes_work_orders")}
    completed: dict[str, tuple[datetime, str]] = {}
    scrapped: set[str] = set()
    for e in unique_events():
        line = wo_line[e["work_order_id"]]
        if e["event_type"] == "scrap":
            scrapped.add(e["serial_number"])
        is_final_pass = (
            (line_route[line], e["step_code"]) in final_steps
            and e["event_type"] in ("inspection", "retest")
            and e["result"] == "pass"
        )
        if is_final_pass:
            best = completed.get(e["serial_number"])
            if best is None or e["at"] < best[0]:
                completed[e["serial_number"]] = (e["at"], line)
    shifts = [
        {
            **s,
            "start": local_to_utc(s["shift_start_local"], zone_of_site[s["line_id"][:2]]),
            "end": local_to_utc(s["shift_end_local"], zone_of_site[s["line_id"][:2]]),
        }
        for s in rows("mes_shifts")
        if s["line_id"].startswith("S2-")
    ]
    november = [s for s in shifts if in_month(date.fromisoformat(s["shift_date"]))]
    hours = sum((720 - int(s["planned_downtime_minutes"])) / 60 for s in november)
    good = 0
    for serial, (at, line) in completed.items():
        if serial in scrapped:
            continue
        good += any(s["line_id"] == line and s["start"] <= at < s["end"] for s in november)
    num, den, value = mart_row(warehouse, "throughput_rate", "site", "S2")
    assert num == good and den == pytest.approx(hours, abs=1e-9)
    assert value == pytest.approx(good / hours, abs=1e-9)
    assert mart_row(warehouse, "good_units", "site", "S2") == (good, None, good)


def test_units_started_matches_hand_count(warehouse: Warehouse) -> None:
    """A serial counts once, on the site-local date of its first (non-duplicate) event."""
    first_local: dict[str, tuple[datetime, str]] = {}
    for e in unique_events():
        serial = e["serial_number"]
        if serial not in first_local or e["at"] < first_local[serial][0]:
            first_local[serial] = (e["at"], e["event_local"][:10])
    started = sum(in_month(date.fromisoformat(day)) for _, day in first_local.values())
    assert started > 1000
    assert mart_row(warehouse, "units_started") == (started, None, started)


# --- sales ------------------------------------------------------------------------------


def test_qualified_opportunities_and_win_rate_match_hand_count(warehouse: Warehouse) -> None:
    qualified = won = closed = 0
    for o in rows("crm_opportunities"):
        closed_at = utc(o["closed_at"])
        qualified_at = utc(o["qualified_at"]) or (closed_at if o["stage"] == "won" else None)
        if qualified_at is not None and in_month(qualified_at.date()):
            qualified += 1
        if qualified_at is not None and closed_at is not None and in_month(closed_at.date()):
            closed += o["stage"] in ("won", "lost")
            won += o["stage"] == "won"
    num, den, value = mart_row(warehouse, "qualified_opportunities")
    assert (num, den, value) == (qualified, None, qualified)
    assert_ratio(warehouse, "win_rate", float(won), float(closed))


# --- service desk -----------------------------------------------------------------------


def calendar_deadline(created: datetime, target: float, segments, cutoff: datetime) -> datetime:
    """Walk the status history: the clock runs outside pause statuses before the cutoff
    (event or as_of) and always after it; return the instant it reaches target minutes."""
    remaining = target
    for start, end, paused in [*segments, (cutoff, created + timedelta(days=60), False)]:
        start = max(start, created)
        if start >= end or paused:
            continue
        minutes = (end - start).total_seconds() / 60
        if minutes >= remaining:
            return start + timedelta(minutes=remaining)
        remaining -= minutes
    raise AssertionError("no deadline within the horizon")


def test_urgent_first_reply_compliance_matches_hand_count(warehouse: Warehouse) -> None:
    """Urgent tickets run on a calendar clock (60 minutes) that pauses while pending."""
    team_schedule = {t["team_id"]: t["schedule_id"] for t in rows("sd_teams")}
    schedule_zone = {b["schedule_id"]: b["time_zone"] for b in rows("sd_business_hours")}
    history: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for change in rows("sd_ticket_status_changes"):
        at = utc(change["changed_at"])
        if at <= AS_OF:
            history[change["ticket_id"]].append((at, change["status"]))
    met = breached = 0
    for t in rows("sd_tickets"):
        created = utc(t["created_at"])
        if t["priority"] != "urgent" or created > AS_OF:
            continue
        reply = utc(t["first_replied_at"])
        reply = reply if reply is not None and reply <= AS_OF else None
        cutoff = reply or AS_OF
        changes = sorted(history[t["ticket_id"]])
        # before the first recorded status the clock runs; after the cutoff, see the helper
        first_change = changes[0][0] if changes else cutoff
        segments = [(created, min(first_change, cutoff), False)]
        for (at, status), nxt in zip(changes, [*changes[1:], (None, None)], strict=True):
            end = min(nxt[0] or cutoff, cutoff)
            segments.append((at, end, status in ("pending", "on_hold")))
        deadline = calendar_deadline(created, 60, segments, cutoff)
        if reply is not None and reply <= deadline:
            status, reported = "met", reply
        elif deadline < AS_OF:
            status, reported = "breached", deadline
        else:
            continue  # in progress: not in the denominator
        if in_month(utc_to_local_date(reported, schedule_zone[team_schedule[t["team_id"]]])):
            met += status == "met"
            breached += status == "breached"
    assert met + breached > 20
    assert_ratio(
        warehouse,
        "sla_first_reply_compliance",
        float(met),
        float(met + breached),
        dimension="priority",
        value="urgent",
    )
