"""The demo-data generator: deterministic, documented schema, consistent, signals planted.

Runs the real CLI (``python -m kpi_tooling.demo.data``) at small scales so the suite stays fast.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from kpi_tooling.demo.data import FOREIGN_KEYS
from kpi_tooling.demo.teams import COLUMNS as TEAM_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
SMALL = "0.05"
SIGNAL = "1.0"  # the default: also compared byte for byte with seeds/raw

Table = list[dict[str, str]]

# Every raw table; the header must match docs/DATA_MODEL.md.
TABLES = (
    "mes_sites", "mes_lines", "mes_route_steps", "mes_work_orders", "mes_shifts",
    "mes_unit_events", "mes_defects", "oms_customers", "oms_orders", "oms_order_lines",
    "oms_shipments", "sd_business_hours", "sd_teams", "sd_agents", "sd_sla_policies",
    "sd_tickets", "sd_ticket_status_changes", "crm_reps", "crm_opportunities", "fin_invoices",
    "cx_survey_responses", "qa_return_claims", "cs_churn_events",
)  # fmt: skip
TEAM_TABLES = tuple(TEAM_COLUMNS)


EDGE_IDS = {
    "mes_unit_events": (
        "serial_number",
        {
            "SN-EDGE-DUPSCAN", "SN-EDGE-REWORK", "SN-EDGE-RETEST", "SN-EDGE-SCRAP",
            "SN-EDGE-AFTERSHIFT", "SN-EDGE-WIP", "SN-EDGE-TWOPERIODS", "SN-EDGE-MULTIDEFECT",
        },
    ),
    "mes_shifts": ("shift_id", {"S3-L2-2025-06-15-A", "S1-L1-2025-03-12-A"}),
    "oms_order_lines": (
        "order_line_id",
        {
            "OL-EDGE-BOUNDARY", "OL-EDGE-LATE1S", "OL-EDGE-OPENPASTDUE", "OL-EDGE-SPLIT-ONTIME",
            "OL-EDGE-SPLIT-LATE", "OL-EDGE-PARTIAL", "OL-EDGE-CANCELLED", "OL-EDGE-REPROMISE",
            "OL-EDGE-SHIPPEDONLY", "OL-EDGE-EARLY", "OL-EDGE-NOTYETDUE",
        },
    ),
    "sd_tickets": (
        "ticket_id",
        {
            "T-EDGE-FR-BOUNDARY", "T-EDGE-BREACHED-OPEN", "T-EDGE-INPROGRESS", "T-EDGE-REOPEN",
            "T-EDGE-PENDING", "T-EDGE-BUSINESSHOURS",
        },
    ),
    "crm_opportunities": ("opportunity_id", {"O-EDGE-WON-NOQUAL", "O-EDGE-QUAL-LOST"}),
    "oms_customers": ("customer_id", {"C-EDGE"}),
}  # fmt: skip


def _generate(out: Path, seed: int, scale: str) -> Path:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "kpi_tooling.demo.data", "--out", str(out), "--seed", str(seed),
         "--scale", scale, "--quiet"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out


@lru_cache(maxsize=64)
def _read(directory: Path, table: str) -> Table:
    """Rows of one generated CSV (cached: treat as read-only)."""
    with (directory / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _utc(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _documented_columns() -> dict[str, list[str]]:
    """Raw-table columns as listed in docs/DATA_MODEL.md (the binding schema)."""
    documented: dict[str, list[str]] = {}
    for line in (ROOT / "docs" / "DATA_MODEL.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(\w+)` \| (.+) \|$", line)
        if match and match.group(1) in TABLES:
            spec = re.sub(r"\([^)]*\)", "", match.group(2))
            documented[match.group(1)] = [part.split()[0] for part in spec.split(",")]
    return documented


@pytest.fixture(scope="session")
def small_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("small_a"), 42, SMALL)


@pytest.fixture(scope="session")
def small_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("small_b"), 42, SMALL)


@pytest.fixture(scope="session")
def small_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("small_c"), 7, SMALL)


@pytest.fixture(scope="session")
def signal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("signal"), 42, SIGNAL)


# --- determinism and schema ---------------------------------------------------------------
def test_same_seed_is_byte_identical(small_a: Path, small_b: Path) -> None:
    for table in TABLES:
        assert (small_a / f"{table}.csv").read_bytes() == (small_b / f"{table}.csv").read_bytes()


def test_different_seed_differs(small_a: Path, small_other_seed: Path) -> None:
    differing = [
        t
        for t in TABLES
        if (small_a / f"{t}.csv").read_bytes() != (small_other_seed / f"{t}.csv").read_bytes()
    ]
    assert "mes_unit_events" in differing and "sd_tickets" in differing


def test_every_table_has_documented_header(small_a: Path) -> None:
    documented = _documented_columns()
    assert set(documented) == set(TABLES)
    # Besides them, the team tables of the declared demo units (tests/python/test_demo_teams.py).
    assert sorted(p.stem for p in small_a.glob("*.csv")) == sorted([*TABLES, *TEAM_TABLES])
    for table in TABLES:
        with (small_a / f"{table}.csv").open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split(",")
        assert header == documented[table], table


def test_committed_seeds_match_generator(signal: Path) -> None:
    """seeds/raw is exactly what the default command produces (seed 42, scale 1.0)."""
    committed = ROOT / "seeds" / "raw"
    for table in TABLES:
        assert (signal / f"{table}.csv").read_bytes() == (committed / f"{table}.csv").read_bytes()


# --- consistency ----------------------------------------------------------------------------
def test_referential_integrity(small_a: Path) -> None:
    cache: dict[str, Table] = {}

    def rows(table: str) -> Table:
        if table not in cache:
            cache[table] = _read(small_a, table)
        return cache[table]

    for table, column, ref_table, ref_column in FOREIGN_KEYS:
        keys = {r[ref_column] for r in rows(ref_table)}
        dangling = {r[column] for r in rows(table) if r[column] and r[column] not in keys}
        assert not dangling, (table, column, sorted(dangling)[:5])


def test_primary_keys_unique_and_sorted(small_a: Path) -> None:
    for table in TABLES:
        with (small_a / f"{table}.csv").open(encoding="utf-8") as handle:
            lines = handle.read().splitlines()[1:]
        if table in ("mes_route_steps", "sd_business_hours"):
            continue  # composite keys, sorted numerically on the sequence column
        keys = [line.split(",", 1)[0] for line in lines]
        assert keys == sorted(keys), table
        assert len(keys) == len(set(keys)), table


def test_nothing_happens_after_as_of(small_a: Path) -> None:
    for table in TABLES:
        for row in _read(small_a, table):
            for column, value in row.items():
                if column.endswith("_at") and value:
                    assert _utc(value) < AS_OF, (table, column, value)
    site_tz = {r["site_id"]: ZoneInfo(r["time_zone"]) for r in _read(small_a, "mes_sites")}
    line_site = {r["line_id"]: r["site_id"] for r in _read(small_a, "mes_lines")}
    wo_site = {
        r["work_order_id"]: line_site[r["line_id"]] for r in _read(small_a, "mes_work_orders")
    }
    for event in _read(small_a, "mes_unit_events"):
        tz = site_tz[wo_site[event["work_order_id"]]]
        local = datetime.fromisoformat(event["event_local"]).replace(tzinfo=tz)
        assert local < AS_OF, event


def test_open_work_at_as_of(signal: Path) -> None:
    last_event = {}
    for event in _read(signal, "mes_unit_events"):
        last_event[event["serial_number"]] = event
    wip = [
        e for e in last_event.values() if e["step_code"] != "FINAL" and e["event_type"] != "scrap"
    ]
    assert len(wip) >= 2  # SN-EDGE-WIP plus units still on the line
    statuses: dict[str, list[str]] = defaultdict(list)
    for change in _read(signal, "sd_ticket_status_changes"):
        statuses[change["ticket_id"]].append(change["status"])
    assert sum(1 for s in statuses.values() if s[-1] not in ("solved", "closed")) >= 2
    shipped = {s["order_line_id"] for s in _read(signal, "oms_shipments")}
    january = [
        r for r in _read(signal, "oms_order_lines")
        if r["first_promised_date"] >= "2026-01-01" and r["order_line_id"] not in shipped
    ]  # fmt: skip
    assert len(january) >= 2


def test_ticket_histories_are_consistent(small_a: Path) -> None:
    changes: dict[str, list[dict[str, str]]] = defaultdict(list)
    for change in _read(small_a, "sd_ticket_status_changes"):
        changes[change["ticket_id"]].append(change)
    for ticket in _read(small_a, "sd_tickets"):
        history = changes[ticket["ticket_id"]]
        assert history[0]["status"] == "new"
        assert history[0]["changed_at"] == ticket["created_at"]
        times = [c["changed_at"] for c in history]
        assert times == sorted(times)
        for before, after in pairwise(history):
            if after["status"] == "closed":
                assert before["status"] == "solved"
        solves = [c["changed_at"] for c in history if c["status"] == "solved"]
        if solves:
            assert ticket["first_replied_at"] and ticket["first_replied_at"] < solves[0]


# --- hand-crafted edge cases ----------------------------------------------------------------
def test_edge_case_ids_present(small_a: Path) -> None:
    for table, (column, ids) in EDGE_IDS.items():
        present = {r[column] for r in _read(small_a, table)}
        assert ids <= present, (table, ids - present)


def test_mes_edge_cases(small_a: Path) -> None:
    events: dict[str, list[dict[str, str]]] = defaultdict(list)
    for event in _read(small_a, "mes_unit_events"):
        if event["serial_number"].startswith("SN-EDGE"):
            events[event["serial_number"]].append(event)
    dup = [e for e in events["SN-EDGE-DUPSCAN"] if e["step_code"] == "FINAL"]
    assert len(dup) == 2 and len({e["event_id"] for e in dup}) == 2
    assert len({(e["event_type"], e["result"], e["event_local"]) for e in dup}) == 1
    assert [e["event_type"] for e in events["SN-EDGE-RETEST"]].count("rework") == 0
    assert events["SN-EDGE-SCRAP"][-1]["event_type"] == "scrap"
    assert [e["step_code"] for e in events["SN-EDGE-WIP"]] == ["ASM"]
    assert events["SN-EDGE-AFTERSHIFT"][-1]["event_local"] == "2025-02-14 18:20:00"
    multi = next(e for e in events["SN-EDGE-MULTIDEFECT"] if e["result"] == "fail")
    defects = [d for d in _read(small_a, "mes_defects") if d["event_id"] == multi["event_id"]]
    assert len(defects) == 3
    shifts = {s["shift_id"]: s for s in _read(small_a, "mes_shifts")}
    assert shifts["S3-L2-2025-06-15-A"]["planned_downtime_minutes"] == "720"
    assert shifts["S1-L1-2025-03-12-A"]["unplanned_downtime_minutes"] == "120"


def _line_flags(line: dict[str, str], ships: Table, tz: ZoneInfo) -> tuple[bool, bool]:
    """(on time, in full) per the default definition: first promise, delivered, tolerance 0;
    a promised date is met strictly before the next local midnight."""
    due = datetime.combine(
        date.fromisoformat(line["first_promised_date"]) + timedelta(days=1), datetime.min.time()
    ).replace(tzinfo=tz)
    delivered = sorted((_utc(s["delivered_at"]), int(s["shipped_quantity"])) for s in ships
                       if s["delivered_at"])  # fmt: skip
    total, completed = 0, None
    for at, quantity in delivered:
        total += quantity
        if completed is None and total >= int(line["ordered_quantity"]):
            completed = at
    reference = completed or (delivered[-1][0] if delivered else None)
    return reference is not None and reference < due, completed is not None


def test_oms_edge_cases(small_a: Path) -> None:
    lines = {r["order_line_id"]: r for r in _read(small_a, "oms_order_lines")}
    ships: dict[str, Table] = defaultdict(list)
    for shipment in _read(small_a, "oms_shipments"):
        ships[shipment["order_line_id"]].append(shipment)
    berlin = ZoneInfo("Europe/Berlin")

    def flags(suffix: str) -> tuple[bool, bool]:
        return _line_flags(lines[f"OL-EDGE-{suffix}"], ships[f"OL-EDGE-{suffix}"], berlin)

    assert flags("BOUNDARY") == (False, True)
    assert flags("LATE1S") == (False, True)
    assert flags("OPENPASTDUE") == (False, False)
    assert flags("SPLIT-ONTIME") == (True, True)
    assert flags("SPLIT-LATE") == (False, True)
    assert flags("PARTIAL") == (True, False)
    assert flags("REPROMISE") == (False, True)
    assert flags("SHIPPEDONLY") == (False, False)
    assert flags("EARLY") == (True, True)
    assert lines["OL-EDGE-CANCELLED"]["cancelled_at"] and not ships["OL-EDGE-CANCELLED"]
    assert lines["OL-EDGE-REPROMISE"]["revised_promised_date"] == "2025-06-20"
    assert lines["OL-EDGE-NOTYETDUE"]["first_promised_date"] == "2026-01-20"
    assert not ships["OL-EDGE-NOTYETDUE"]


def test_sd_edge_cases(small_a: Path) -> None:
    tickets = {r["ticket_id"]: r for r in _read(small_a, "sd_tickets")}
    boundary = tickets["T-EDGE-FR-BOUNDARY"]
    assert _utc(boundary["first_replied_at"]) - _utc(boundary["created_at"]) == timedelta(hours=1)
    new_york = ZoneInfo("America/New_York")
    business = tickets["T-EDGE-BUSINESSHOURS"]
    assert _utc(business["created_at"]).astimezone(new_york).strftime("%a %H:%M") == "Fri 16:30"
    reply = _utc(business["first_replied_at"]).astimezone(new_york)
    assert reply.strftime("%Y-%m-%d %a %H:%M") == "2025-03-10 Mon 09:50"
    assert not tickets["T-EDGE-BREACHED-OPEN"]["first_replied_at"]
    assert not tickets["T-EDGE-INPROGRESS"]["first_replied_at"]
    history: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for change in _read(small_a, "sd_ticket_status_changes"):
        history[change["ticket_id"]].append((change["status"], _utc(change["changed_at"])))
    pending = history["T-EDGE-PENDING"]
    created, solved = pending[0][1], next(at for s, at in pending if s == "solved")
    paused = next(at for s, at in pending[1:] if s == "open" and at > pending[2][1]) - pending[2][1]
    assert solved - created == timedelta(hours=9) and paused == timedelta(hours=2)
    reopen = [s for s, _ in history["T-EDGE-REOPEN"]]
    assert reopen == ["new", "open", "solved", "open", "solved", "closed"]


def test_crm_edge_cases(small_a: Path) -> None:
    opps = {r["opportunity_id"]: r for r in _read(small_a, "crm_opportunities")}
    assert opps["O-EDGE-WON-NOQUAL"]["stage"] == "won"
    assert opps["O-EDGE-WON-NOQUAL"]["qualified_at"] == ""
    assert opps["O-EDGE-QUAL-LOST"]["stage"] == "lost"
    assert opps["O-EDGE-QUAL-LOST"]["qualified_at"]


# --- planted signals ------------------------------------------------------------------------
def _first_pass_share(directory: Path, site: str) -> dict[str, float]:
    """Monthly share of (serial, step) whose first inspection passed with no retest/rework."""
    line_site = {r["line_id"]: r["site_id"] for r in _read(directory, "mes_lines")}
    wo_site = {
        r["work_order_id"]: line_site[r["line_id"]] for r in _read(directory, "mes_work_orders")
    }
    first: dict[tuple[str, str], tuple[str, str]] = {}
    repeated: set[tuple[str, str]] = set()
    for e in _read(directory, "mes_unit_events"):
        if wo_site[e["work_order_id"]] != site:
            continue
        key = (e["serial_number"], e["step_code"])
        if key not in first:
            first[key] = (e["event_local"][:7], e["result"])
        elif e["event_type"] in ("retest", "rework", "repair"):
            repeated.add(key)
    monthly: dict[str, list[bool]] = defaultdict(list)
    for key, (month, result) in first.items():
        monthly[month].append(result == "pass" and key not in repeated)
    return {m: mean(v) for m, v in monthly.items()}


def _monthly(values: dict[str, float], months: list[str]) -> float:
    return mean(values.get(m, 0.0) for m in months)


def test_signal_s2_quality_dip_then_claims(signal: Path) -> None:
    fpy = _first_pass_share(signal, "S2")
    assert (
        _monthly(fpy, ["2024-04", "2024-05"])
        < _monthly(fpy, ["2024-01", "2024-02", "2024-03"]) - 0.08
    )
    assert _monthly(fpy, ["2025-03", "2025-04"]) < _monthly(fpy, ["2025-01", "2025-02"]) - 0.08
    claims: dict[str, float] = defaultdict(float)
    for claim in _read(signal, "qa_return_claims"):
        if claim["site_id"] == "S2":
            claims[claim["claimed_date"][:7]] += 1
    assert _monthly(claims, ["2024-06", "2024-07"]) > 2 * _monthly(
        claims, ["2024-03", "2024-04", "2024-05"]
    )
    assert _monthly(claims, ["2025-05", "2025-06"]) > 2 * _monthly(
        claims, ["2025-02", "2025-03", "2025-04"]
    )


def test_signal_smb_late_then_churn(signal: Path) -> None:
    customers = {r["customer_id"]: r for r in _read(signal, "oms_customers")}
    orders = {r["order_id"]: r for r in _read(signal, "oms_orders")}
    ships: dict[str, Table] = defaultdict(list)
    for shipment in _read(signal, "oms_shipments"):
        ships[shipment["order_line_id"]].append(shipment)
    on_time: dict[str, list[bool]] = defaultdict(list)
    for line in _read(signal, "oms_order_lines"):
        customer = customers[orders[line["order_id"]]["customer_id"]]
        promised = line["first_promised_date"]
        if customer["segment"] != "smb" or line["cancelled_at"] or promised >= "2025-10-01":
            continue
        quarter = f"{promised[:4]}Q{(int(promised[5:7]) - 1) // 3 + 1}"
        flags = _line_flags(line, ships[line["order_line_id"]], ZoneInfo(customer["time_zone"]))
        on_time[quarter].append(flags[0])
    for year in ("2024", "2025"):
        assert mean(on_time[f"{year}Q2"]) < mean(on_time[f"{year}Q1"]) - 0.15
    churn: dict[str, int] = defaultdict(int)
    for event in _read(signal, "cs_churn_events"):
        if customers[event["customer_id"]]["segment"] == "smb":
            month = int(event["churned_date"][5:7])
            churn[f"{event['churned_date'][:4]}Q{(month - 1) // 3 + 1}"] += 1
    for year in ("2024", "2025"):
        assert churn[f"{year}Q3"] > churn[f"{year}Q1"] + churn[f"{year}Q2"]


def test_signal_t2_csat_dips_in_sla_dip_month(signal: Path) -> None:
    team = {r["ticket_id"]: r["team_id"] for r in _read(signal, "sd_tickets")}
    scores: dict[str, list[int]] = defaultdict(list)
    for response in _read(signal, "cx_survey_responses"):
        if response["survey_type"] == "csat" and team[response["ticket_id"]] == "T2":
            scores[response["responded_at"][:7]].append(int(response["score"]))
    monthly = {m: mean(v) for m, v in scores.items()}
    normal = mean(v for m, v in monthly.items() if m not in ("2024-08", "2025-09"))
    assert monthly["2024-08"] < normal - 0.4
    assert monthly["2025-09"] < normal - 0.4


def test_signal_mid_market_output_trap(signal: Path) -> None:
    team = {r["rep_id"]: r["sales_team"] for r in _read(signal, "crm_reps")}
    qualified: dict[str, float] = defaultdict(float)
    won: dict[str, float] = defaultdict(float)
    for opp in _read(signal, "crm_opportunities"):
        if team[opp["rep_id"]] != "mid_market_team":
            continue
        if opp["qualified_at"]:
            qualified[opp["qualified_at"][:7]] += 1
        if opp["stage"] == "won":
            won[opp["closed_at"][:7]] += float(opp["amount"])
    h1 = [f"2025-0{m}" for m in range(1, 7)]
    q4 = ["2025-10", "2025-11", "2025-12"]
    assert _monthly(qualified, q4) > 1.3 * _monthly(qualified, h1)
    assert 0.6 < _monthly(won, q4) / _monthly(won, h1) < 1.4
