"""Deterministic demo-data generator for the output_kpis dbt package.

Writes one CSV per raw table (``docs/DATA_MODEL.md``) covering 2024-01-01 .. 2025-12-31 with
``as_of`` = 2026-01-01T00:00:00Z: nothing happens at or after ``as_of`` except the promised
dates of lines that are not yet due. Open work at the end is deliberate: units in WIP, tickets
whose SLA deadlines lie after ``as_of``, order lines promised in January 2026.

Usage::

    python -m kpi_tooling.demo.data --out seeds/raw --seed 42 [--scale 1.0]

Every draw comes from ``random.Random`` instances derived from ``--seed`` (one per domain, so
changing one domain does not reshuffle the others); the wall clock is never read. Rows are
sorted by primary key, so a seed gives byte-identical files. ``--scale`` multiplies the
volumes (units per shift, orders, tickets, opportunities, customers); the calendar (shifts,
policies, reference tables) and the hand-crafted edge cases do not scale.

Planted signals (the lag analysis must recover them):

1. Quality -> claims, lag 2 months. Per-step pass rate at site S2 drops from ~0.95 to ~0.80
   in Apr-May 2024 and Mar-Apr 2025. Return/warranty claims of every site in month m are
   Poisson with mean 0.3 x (units of that site started in m-2 that were not first-pass at
   every step), so claims track (1 - FPY) two months earlier; serials are drawn from the
   good units of m-2 (mostly the reworked ones).
2. Delivery -> churn, lag 1 quarter. The late-delivery probability of segment ``smb`` rises
   from ~5 % to ~35 % in Q2 2024 and Q2 2025 (by first promised date). Monthly churn hazard
   of a segment = 0.45 % + 0.085 x (excess late probability of the previous quarter), so smb
   churn peaks in Q3. Churned customers stop ordering, ticketing and buying.
3. SLA -> CSAT, lag 0. Resolution SLA of team T2 is met for only ~35 % of tickets whose
   resolution deadline falls in Aug 2024 or Sep 2025 (~88 % otherwise). CSAT scores depend on
   whether the resolution SLA was met and are answered within 36 h of the solve, so T2 CSAT
   drops in the same month.
4. Output trap. ``mid_market`` opportunity creation (hence qualified opportunities of
   ``mid_market_team``) rises by 10 % a month from Jul 2025 to +60 % in Dec 2025, while the
   win probability is divided by the same factor, so won deals and won revenue stay flat.

Hand-crafted edge-case records (ids ``*-EDGE-*``) are listed with their exact timestamps and
expected KPI flags in ``seeds/EDGE_CASES.md``.

``main`` also writes the team tables of the declared demo units (``kpi_tooling.demo.teams``,
same ``--seed``, not scaled; ``docs/DEMO_TEAMS.md``).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time as wall_time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tqdm import tqdm

from kpi_tooling.config import DEMO_AS_OF
from kpi_tooling.core import raw_tables
from kpi_tooling.demo import teams as demo_teams
from kpi_tooling.demo.csv_tables import write_csv_tables

UTC = UTC
START_DATE = date(2024, 1, 1)
END_DATE = date(2025, 12, 31)
START_AT = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = datetime.fromisoformat(DEMO_AS_OF).replace(tzinfo=UTC)

# Daily volumes at --scale 1.0, sized so all CSVs together stay near 300k rows (dbt seed
# loading is slow beyond that).
UNITS_PER_SHIFT = 3.6
ORDERS_PER_DAY = 24
TICKETS_PER_DAY = 20
OPPORTUNITIES_PER_DAY = 8

Row = tuple[Any, ...]
Tables = dict[str, list[Row]]

# Column order is binding: the declaration (kpi_tooling/core/raw_tables.yml) states it.
COLUMNS: dict[str, tuple[str, ...]] = raw_tables.demo_columns()

# Sort keys (primary keys) that make the output byte-stable.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "mes_route_steps": ("route_id", "step_sequence"),
    "sd_business_hours": ("schedule_id", "iso_weekday"),
}

# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------
SITES = (
    ("S1", "Chicago Assembly", "America/Chicago", "US"),
    ("S2", "Berlin Assembly", "Europe/Berlin", "DE"),
    ("S3", "Shanghai Assembly", "Asia/Shanghai", "CN"),
)
SITE_TZ = {site_id: ZoneInfo(tz) for site_id, _, tz, _ in SITES}
ROUTES: dict[str, tuple[str, ...]] = {"R1": ("ASM", "FCT", "FINAL"), "R2": ("ASM", "FINAL")}
LINES = tuple(
    (f"{site_id}-L{n}", site_id, f"{site_id} line {n}", "R1" if n == 1 else "R2")
    for site_id, _, _, _ in SITES
    for n in (1, 2)
)
LINE_ROUTE = {line_id: route for line_id, _, _, route in LINES}
LINE_SITE = {line_id: site for line_id, site, _, _ in LINES}
ROUTE_PRODUCTS = {"R1": ("PX-100", "PX-200"), "R2": ("PB-10", "PB-20")}
STEP_PASS = {"ASM": 0.96, "FCT": 0.94, "FINAL": 0.97}
CLAIMS_PER_NOT_FIRST_PASS = 0.3
S2_DIP_MONTHS = {(2024, 4), (2024, 5), (2025, 3), (2025, 4)}
DEFECT_POOLS = {
    "ASM": ("SOLDER_BRIDGE", "MISSING_SCREW", "SCRATCH", "LABEL"),
    "FCT": ("CALIBRATION", "SOLDER_BRIDGE", "MISSING_SCREW"),
    "FINAL": ("LABEL", "SCRATCH", "MISSING_SCREW", "CALIBRATION"),
}
ZERO_OPERATING_SHIFT = "S3-L2-2025-06-15-A"
UNPLANNED_120_SHIFT = "S1-L1-2025-03-12-A"

PRODUCT_PRICES = {"PX-100": 120.0, "PX-200": 185.0, "PB-10": 45.0, "PB-20": 60.0, "ACC-1": 12.5}
SEGMENT_QTY = {"enterprise": (20, 200), "mid_market": (5, 60), "smb": (1, 15)}
SEGMENT_ORDER_WEIGHT = {"enterprise": 1.4, "mid_market": 1.1, "smb": 0.9}
CUSTOMER_TZS = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
)
TZ_REGION = {"America": "NA", "Europe": "EMEA", "Asia": "APAC"}
REGION_SITE = {"NA": "S1", "EMEA": "S2", "APAC": "S3"}
BASE_LATE = 0.05
SMB_LATE_QUARTERS = {(2024, 2), (2025, 2)}
SMB_LATE = 0.35
CHURN_REASONS = ("price", "competitor", "service", "delivery", "budget")

SCHEDULES = {"BH-US": ("America/New_York", 9, 17), "BH-EU": ("Europe/Berlin", 8, 18)}
TEAMS = (("T1", "Billing", "BH-US"), ("T2", "Technical", "BH-EU"), ("T3", "Onboarding", "BH-US"))
TEAM_SHARE = {"T1": 0.40, "T2": 0.35, "T3": 0.25}
PRIORITY_SHARE = {"urgent": 0.05, "high": 0.20, "normal": 0.50, "low": 0.25}
# policy_id, priority, metric, target, clock, pause_on_pending, valid_from, valid_to
SLA_POLICIES: tuple[tuple[Any, ...], ...] = (
    ("P-URG-FR", "urgent", "first_reply", 60, "calendar", True, date(2023, 1, 1), None),
    ("P-URG-RES", "urgent", "resolution", 480, "calendar", True, date(2023, 1, 1), None),
    ("P-HIGH-FR", "high", "first_reply", 120, "business", True, date(2023, 1, 1), None),
    (
        "P-HIGH-RES",
        "high",
        "resolution",
        1440,
        "business",
        True,
        date(2023, 1, 1),
        date(2025, 7, 1),
    ),
    ("P-HIGH-RES-V2", "high", "resolution", 960, "business", True, date(2025, 7, 1), None),
    ("P-NORM-FR", "normal", "first_reply", 480, "business", True, date(2023, 1, 1), None),
    ("P-NORM-RES", "normal", "resolution", 2880, "business", True, date(2023, 1, 1), None),
    ("P-LOW-FR", "low", "first_reply", 1440, "business", False, date(2023, 1, 1), None),
    ("P-LOW-RES", "low", "resolution", 4800, "business", False, date(2023, 1, 1), None),
)
T2_DIP_MONTHS = {(2024, 8), (2025, 9)}
CHANNELS = ("email", "web", "chat", "phone")

SALES_TEAMS = {"enterprise": "enterprise_team", "mid_market": "mid_market_team", "smb": "smb_team"}
SEGMENT_AMOUNT = {"enterprise": 80_000.0, "mid_market": 25_000.0, "smb": 6_000.0}
OPP_SEGMENT_SHARE = {"enterprise": 0.20, "mid_market": 0.35, "smb": 0.45}

FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Emil",
    "Fatma",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zoe",
)
LAST_NAMES = (
    "Adler",
    "Baker",
    "Costa",
    "Diaz",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Huang",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Meyer",
    "Novak",
    "Okafor",
    "Park",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Weber",
)
COMPANY_A = (
    "Blue",
    "North",
    "Iron",
    "Bright",
    "Silver",
    "Green",
    "Swift",
    "Cedar",
    "Summit",
    "Harbor",
    "Atlas",
    "Nova",
)
COMPANY_B = (
    "Works",
    "Logistics",
    "Foods",
    "Labs",
    "Systems",
    "Retail",
    "Health",
    "Motors",
    "Energy",
    "Textiles",
    "Media",
    "Supply",
)

# The raw data model's references: (table, column, referenced table, referenced column). Empty
# values are nulls, not violations; no deliberate dangling keys exist (seeds/EDGE_CASES.md).
FOREIGN_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("mes_lines", "site_id", "mes_sites", "site_id"),
    ("mes_lines", "route_id", "mes_route_steps", "route_id"),
    ("mes_work_orders", "line_id", "mes_lines", "line_id"),
    ("mes_shifts", "line_id", "mes_lines", "line_id"),
    ("mes_unit_events", "work_order_id", "mes_work_orders", "work_order_id"),
    ("mes_defects", "event_id", "mes_unit_events", "event_id"),
    ("oms_orders", "customer_id", "oms_customers", "customer_id"),
    ("oms_orders", "site_id", "mes_sites", "site_id"),
    ("oms_order_lines", "order_id", "oms_orders", "order_id"),
    ("oms_shipments", "order_line_id", "oms_order_lines", "order_line_id"),
    ("sd_teams", "schedule_id", "sd_business_hours", "schedule_id"),
    ("sd_agents", "team_id", "sd_teams", "team_id"),
    ("sd_tickets", "customer_id", "oms_customers", "customer_id"),
    ("sd_tickets", "team_id", "sd_teams", "team_id"),
    ("sd_tickets", "agent_id", "sd_agents", "agent_id"),
    ("sd_ticket_status_changes", "ticket_id", "sd_tickets", "ticket_id"),
    ("crm_opportunities", "customer_id", "oms_customers", "customer_id"),
    ("crm_opportunities", "rep_id", "crm_reps", "rep_id"),
    ("fin_invoices", "customer_id", "oms_customers", "customer_id"),
    ("fin_invoices", "site_id", "mes_sites", "site_id"),
    ("cx_survey_responses", "ticket_id", "sd_tickets", "ticket_id"),
    ("cx_survey_responses", "customer_id", "oms_customers", "customer_id"),
    ("qa_return_claims", "serial_number", "mes_unit_events", "serial_number"),
    ("qa_return_claims", "customer_id", "oms_customers", "customer_id"),
    ("qa_return_claims", "site_id", "mes_sites", "site_id"),
    ("cs_churn_events", "customer_id", "oms_customers", "customer_id"),
)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def _minutes(value: float) -> timedelta:
    return timedelta(seconds=round(value * 60))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _month_key(value: date | datetime) -> tuple[int, int]:
    return value.year, value.month


def _add_months(ym: tuple[int, int], delta: int) -> tuple[int, int]:
    index = ym[0] * 12 + ym[1] - 1 + delta
    return index // 12, index % 12 + 1


def _local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def _end_of_day_utc(day: date, tz: ZoneInfo) -> datetime:
    """End of ``day`` in ``tz`` (= start of the next local day) as a UTC instant."""
    return _local_to_utc(datetime.combine(day + timedelta(days=1), time()), tz)


def _is_clean_local(local: datetime, tz: ZoneInfo) -> bool:
    """False for wall-clock times that do not exist or exist twice (DST transitions)."""
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        return False
    return first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def _clean_local(local: datetime, tz: ZoneInfo) -> datetime:
    while not _is_clean_local(local, tz):
        local += timedelta(minutes=30)
    return local


def _random_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randint(0, max(span, 0)))


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


# ---------------------------------------------------------------------------------------------
# Business-hours clock (generation side; the dbt macros implement the same rule)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """Mon-Fri opening hours in one time zone; ``None`` schedules mean a calendar clock."""

    schedule_id: str
    tz: ZoneInfo
    open_hour: int
    close_hour: int
    _cache: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        if day not in self._cache:
            if day.isoweekday() > 5:
                self._cache[day] = None
            else:
                opens = _local_to_utc(datetime.combine(day, time(self.open_hour)), self.tz)
                closes = _local_to_utc(datetime.combine(day, time(self.close_hour)), self.tz)
                self._cache[day] = (opens, closes)
        return self._cache[day]

    def add(self, start: datetime, seconds: int) -> datetime:
        """The instant at which ``seconds`` of business time have elapsed after ``start``."""
        if seconds <= 0:
            return start
        day = start.astimezone(self.tz).date()
        remaining = seconds
        while True:
            window = self.window(day)
            if window is not None and window[1] > start:
                begin = max(window[0], start)
                available = int((window[1] - begin).total_seconds())
                if remaining <= available:
                    return begin + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)

    def between(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end)."""
        total = 0
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            window = self.window(day)
            if window is not None:
                lo, hi = max(window[0], start), min(window[1], end)
                if hi > lo:
                    total += int((hi - lo).total_seconds())
            day += timedelta(days=1)
        return total


def _clock_add(schedule: Schedule | None, start: datetime, seconds: int) -> datetime:
    if schedule is None:
        return start + timedelta(seconds=max(seconds, 0))
    return schedule.add(start, seconds)


SCHEDULE_OBJECTS = {
    sid: Schedule(sid, ZoneInfo(tz), open_h, close_h)
    for sid, (tz, open_h, close_h) in SCHEDULES.items()
}
TEAM_SCHEDULE = {team_id: SCHEDULE_OBJECTS[sid] for team_id, _, sid in TEAMS}


# ---------------------------------------------------------------------------------------------
# Generation context
# ---------------------------------------------------------------------------------------------
@dataclass
class Customer:
    customer_id: str
    segment: str
    region: str
    tz: ZoneInfo
    signed_up: date
    churned: date | None = None

    @property
    def home_site(self) -> str:
        return REGION_SITE[self.region]

    def active_on(self, day: date) -> bool:
        return self.signed_up <= day and (self.churned is None or day < self.churned)


@dataclass
class Context:
    seed: int
    scale: float
    tables: Tables = field(default_factory=lambda: defaultdict(list))
    customers: list[Customer] = field(default_factory=list)
    # (site, (year, month)) -> serials of good units / count started / count not first-pass
    good_serials: dict[tuple[str, tuple[int, int]], list[tuple[str, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    started: dict[tuple[str, tuple[int, int]], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    not_first_pass: dict[tuple[str, tuple[int, int]], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    # (order_id) -> list of (delivered_at, amount) for invoicing
    order_deliveries: dict[str, list[tuple[datetime, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    order_meta: dict[str, tuple[str, str]] = field(default_factory=dict)
    _active_cache: dict[date, list[Customer]] = field(default_factory=dict)

    def rng(self, domain: int) -> random.Random:
        return random.Random(self.seed * 1009 + domain)

    def active(self, day: date) -> list[Customer]:
        if day not in self._active_cache:
            self._active_cache[day] = [c for c in self.customers if c.active_on(day)]
        return self._active_cache[day]


# ---------------------------------------------------------------------------------------------
# MES
# ---------------------------------------------------------------------------------------------
@dataclass
class MesEvent:
    serial: str
    work_order_id: str
    step: str
    event_type: str
    result: str
    local: datetime
    station: str
    defects: tuple[str, ...] = ()


def _mes_reference(ctx: Context) -> None:
    t = ctx.tables
    t["mes_sites"] = [tuple(site) for site in SITES]
    t["mes_lines"] = [tuple(line) for line in LINES]
    t["mes_route_steps"] = [
        (route, step, i + 1, i == len(steps) - 1)
        for route, steps in ROUTES.items()
        for i, step in enumerate(steps)
    ]


def _pass_rates(rng: random.Random) -> dict[tuple[str, tuple[int, int]], dict[str, float]]:
    """Per site and month: the per-step probability that an inspection passes."""
    rates: dict[tuple[str, tuple[int, int]], dict[str, float]] = {}
    # Jan 2026 too: units of the last night shift start after local midnight, before as_of.
    months = sorted({_month_key(d) for d in _days(START_DATE, END_DATE + timedelta(days=1))})
    for site_id, _, _, _ in SITES:
        for ym in months:
            noise = rng.uniform(-0.03, 0.03)
            dip = 0.15 if site_id == "S2" and ym in S2_DIP_MONTHS else 0.0
            rates[(site_id, ym)] = {s: p + noise - dip for s, p in STEP_PASS.items()}
    return rates


def _defect_codes(rng: random.Random, step: str) -> tuple[str, ...]:
    count = rng.choices((0, 1, 2, 3), weights=(10, 60, 22, 8))[0]
    return tuple(rng.sample(DEFECT_POOLS[step], count))


def _simulate_unit(
    rng: random.Random,
    steps: Sequence[str],
    start: datetime,
    pass_rate: dict[str, float],
    tz: ZoneInfo,
) -> tuple[list[tuple[str, str, str, datetime, tuple[str, ...]]], bool, bool]:
    """Events (step, type, result, local, defects) of one unit; returns (events, good, fp)."""
    events: list[tuple[str, str, str, datetime, tuple[str, ...]]] = []
    moment = _clean_local(start, tz)
    first_pass = True

    def emit(step: str, kind: str, result: str, gap: tuple[float, float] | None) -> None:
        nonlocal moment
        if gap is not None:
            moment = _clean_local(moment + _minutes(rng.uniform(*gap)), tz)
        defects = _defect_codes(rng, step) if result == "fail" else ()
        events.append((step, kind, result, moment, defects))

    for index, step in enumerate(steps):
        gap = None
        if index:
            # Some units queue for the next step (test capacity, next shift): realistic WIP.
            gap = (240.0, 1200.0) if rng.random() < 0.12 else (20.0, 90.0)
        ok = rng.random() < pass_rate[step]
        emit(step, "inspection", "pass" if ok else "fail", gap)
        attempts = 0
        while not ok:
            first_pass = False
            attempts += 1
            draw = rng.random()
            if attempts >= 3 or draw < 0.08:
                emit(step, "scrap", "", (5, 30))
                return events, False, False
            if attempts == 1 and draw < 0.40:
                ok = rng.random() < 0.85  # most retests reveal a false fail
                emit(step, "retest", "pass" if ok else "fail", (5, 20))
            else:
                emit(step, "repair" if rng.random() < 0.15 else "rework", "", (15, 60))
                ok = rng.random() < 0.9
                emit(step, "inspection", "pass" if ok else "fail", (10, 30))
    return events, True, first_pass


def _shift_downtime(rng: random.Random, shift_id: str) -> tuple[int, int]:
    planned = 30 + rng.choice((0, 15, 30))
    if rng.random() < 0.08:
        planned += rng.randrange(60, 241, 30)  # maintenance window
    unplanned = 0 if rng.random() < 0.7 else rng.randrange(5, 91, 5)
    if shift_id == ZERO_OPERATING_SHIFT:
        return 720, 0
    if shift_id == UNPLANNED_120_SHIFT:
        return 30, 120  # breaks only, so the 120 unplanned minutes are the whole story
    return planned, unplanned


def _mes_bulk(ctx: Context) -> list[MesEvent]:
    rng = ctx.rng(1)
    rates = _pass_rates(rng)
    shifts: list[Row] = []
    work_orders: list[Row] = []
    events: list[MesEvent] = []
    wo_state: dict[str, list[Any]] = {}  # line -> [wo_id, remaining]
    serial_no = 0
    # One local day past END_DATE: east of UTC, the 2026-01-01 day shift starts before as_of,
    # and units started on New Year's Eve finish in it.
    for day in _days(START_DATE, END_DATE + timedelta(days=1)):
        for line_id, site_id, _, route in LINES:
            tz = SITE_TZ[site_id]
            cutoff = AS_OF.astimezone(tz).replace(tzinfo=None)
            for code, hour in (("A", 6), ("B", 18)):
                shift_id = f"{line_id}-{day.isoformat()}-{code}"
                start = datetime.combine(day, time(hour))
                end = start + timedelta(hours=12)
                if start >= cutoff:
                    continue  # the shift has not started at as_of
                planned, unplanned = _shift_downtime(rng, shift_id)
                shifts.append((shift_id, line_id, day, code, start, end, planned, unplanned))
                operating = max(720 - planned - unplanned, 0)
                count = _poisson(rng, UNITS_PER_SHIFT * ctx.scale * operating / 650)
                offsets = sorted(rng.uniform(0, 570) for _ in range(count))
                for offset in offsets:
                    unit_start = _clean_local(start + _minutes(offset), tz)
                    state = wo_state.get(line_id)
                    if state is None or state[1] <= 0:
                        wo_id = f"WO{len(work_orders) + 1:05d}"
                        quantity = rng.randint(40, 60)
                        released = _clean_local(unit_start - _minutes(rng.uniform(30, 180)), tz)
                        product = rng.choice(ROUTE_PRODUCTS[route])
                        work_orders.append((wo_id, line_id, product, quantity, released))
                        state = wo_state[line_id] = [wo_id, quantity]
                    state[1] -= 1
                    serial_no += 1
                    serial = f"SN{serial_no:06d}"
                    ym = _month_key(unit_start)
                    unit_events, good, first_pass = _simulate_unit(
                        rng, ROUTES[route], unit_start, rates[(site_id, ym)], tz
                    )
                    kept = [e for e in unit_events if e[3] < cutoff]
                    if not kept:
                        continue  # starts after as_of: never existed (leaves a serial gap)
                    if len(kept) < len(unit_events):
                        good = False  # still in progress at as_of
                    ctx.started[(site_id, ym)] += 1
                    if not first_pass:
                        ctx.not_first_pass[(site_id, ym)] += 1
                    if good:
                        ctx.good_serials[(site_id, ym)].append((serial, first_pass))
                    for step, kind, result, local, defects in kept:
                        station = (
                            f"{line_id}-RWK"
                            if kind in ("rework", "repair")
                            else f"{line_id}-{step}-{rng.randint(1, 2)}"
                        )
                        event = MesEvent(
                            serial, state[0], step, kind, result, local, station, defects
                        )
                        events.append(event)
                        if kind in ("inspection", "retest") and rng.random() < 0.005:
                            events.append(
                                MesEvent(serial, state[0], step, kind, result, local, station)
                            )
    ctx.tables["mes_shifts"] = shifts
    ctx.tables["mes_work_orders"] = work_orders
    return events


def _work_order_at(work_orders: list[Row], line_id: str, moment: datetime) -> str:
    candidates = [w for w in work_orders if w[1] == line_id and w[4] <= moment]
    return max(candidates, key=lambda w: w[4])[0]


# serial, line, [(step, type, result, local, defects)]
EDGE_UNITS: tuple[tuple[str, str, tuple[tuple[Any, ...], ...]], ...] = (
    (
        "SN-EDGE-DUPSCAN",
        "S1-L1",
        (
            ("ASM", "inspection", "pass", "2025-02-10 08:00:00", ()),
            ("FCT", "inspection", "pass", "2025-02-10 09:00:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-10 10:00:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-10 10:00:00", ()),
        ),
    ),
    (
        "SN-EDGE-REWORK",
        "S1-L1",
        (
            ("ASM", "inspection", "pass", "2025-02-11 08:00:00", ()),
            ("FCT", "inspection", "fail", "2025-02-11 09:00:00", ("SOLDER_BRIDGE",)),
            ("FCT", "rework", "", "2025-02-11 09:30:00", ()),
            ("FCT", "inspection", "pass", "2025-02-11 10:00:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-11 11:00:00", ()),
        ),
    ),
    (
        "SN-EDGE-RETEST",
        "S1-L1",
        (
            ("ASM", "inspection", "pass", "2025-02-12 08:00:00", ()),
            ("FCT", "inspection", "fail", "2025-02-12 09:00:00", ("CALIBRATION",)),
            ("FCT", "retest", "pass", "2025-02-12 09:20:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-12 10:30:00", ()),
        ),
    ),
    (
        "SN-EDGE-SCRAP",
        "S1-L1",
        (
            ("ASM", "inspection", "pass", "2025-02-13 08:00:00", ()),
            ("FCT", "inspection", "fail", "2025-02-13 09:00:00", ("SOLDER_BRIDGE",)),
            ("FCT", "scrap", "", "2025-02-13 09:15:00", ()),
        ),
    ),
    (
        "SN-EDGE-AFTERSHIFT",
        "S1-L2",
        (
            ("ASM", "inspection", "pass", "2025-02-14 17:10:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-14 18:20:00", ()),
        ),
    ),
    ("SN-EDGE-WIP", "S3-L1", (("ASM", "inspection", "pass", "2025-12-31 10:00:00", ()),)),
    # Retest at 01:10 Berlin = 00:10Z: the two inspections straddle the month boundary both
    # in site-local time and in UTC, whichever the period bucketing uses.
    (
        "SN-EDGE-TWOPERIODS",
        "S2-L1",
        (
            ("ASM", "inspection", "pass", "2025-01-31 22:30:00", ()),
            ("FCT", "inspection", "fail", "2025-01-31 23:50:00", ("CALIBRATION",)),
            ("FCT", "retest", "pass", "2025-02-01 01:10:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-01 02:00:00", ()),
        ),
    ),
    (
        "SN-EDGE-MULTIDEFECT",
        "S1-L1",
        (
            ("ASM", "inspection", "pass", "2025-02-17 08:00:00", ()),
            (
                "FCT",
                "inspection",
                "fail",
                "2025-02-17 09:00:00",
                ("SOLDER_BRIDGE", "MISSING_SCREW", "LABEL"),
            ),
            ("FCT", "rework", "", "2025-02-17 09:40:00", ()),
            ("FCT", "inspection", "pass", "2025-02-17 10:10:00", ()),
            ("FINAL", "inspection", "pass", "2025-02-17 11:00:00", ()),
        ),
    ),
)


def _mes_edge(ctx: Context) -> list[MesEvent]:
    events: list[MesEvent] = []
    for serial, line_id, rows in EDGE_UNITS:
        first = datetime.fromisoformat(rows[0][3])
        wo_id = _work_order_at(ctx.tables["mes_work_orders"], line_id, first)
        for step, kind, result, local, defects in rows:
            station = f"{line_id}-RWK" if kind == "rework" else f"{line_id}-{step}-1"
            events.append(
                MesEvent(
                    serial,
                    wo_id,
                    step,
                    kind,
                    result,
                    datetime.fromisoformat(local),
                    station,
                    defects,
                )
            )
    return events


def _mes(ctx: Context) -> None:
    bulk = _mes_bulk(ctx)
    edge = _mes_edge(ctx)
    event_rows: list[Row] = []
    defect_rows: list[Row] = []
    for prefix, width, dprefix, dwidth, events in (
        ("E", 7, "D", 7, bulk),
        ("E-EDGE-", 3, "D-EDGE-", 2, edge),
    ):
        defect_no = 0
        for number, ev in enumerate(events, start=1):
            event_id = f"{prefix}{number:0{width}d}"
            event_rows.append(
                (
                    event_id,
                    ev.serial,
                    ev.work_order_id,
                    ev.step,
                    ev.event_type,
                    ev.result,
                    ev.local,
                    ev.station,
                )
            )
            for code in ev.defects:
                defect_no += 1
                defect_rows.append((f"{dprefix}{defect_no:0{dwidth}d}", event_id, code))
    ctx.tables["mes_unit_events"] = event_rows
    ctx.tables["mes_defects"] = defect_rows


# ---------------------------------------------------------------------------------------------
# Customers and churn (churn is decided first: churned customers stop all activity)
# ---------------------------------------------------------------------------------------------
def _late_probability(segment: str, ym: tuple[int, int]) -> float:
    quarter = (ym[0], (ym[1] - 1) // 3 + 1)
    if segment == "smb" and quarter in SMB_LATE_QUARTERS:
        return SMB_LATE
    return BASE_LATE


def _churn_hazard(segment: str, ym: tuple[int, int]) -> float:
    """Monthly churn probability, driven by the previous quarter's late-delivery rate."""
    quarter_start = (ym[0], (ym[1] - 1) // 3 * 3 + 1)
    previous = _add_months(quarter_start, -3)
    excess = max(_late_probability(segment, previous) - BASE_LATE, 0.0)
    return 0.0045 + 0.085 * excess


def _customers(ctx: Context) -> None:
    rng = ctx.rng(2)
    # Customers do not shrink below 400: small scales keep the churn signal measurable.
    count = max(400, round(400 * ctx.scale))
    segments = ["enterprise"] * round(count * 0.15) + ["mid_market"] * round(count * 0.35)
    segments += ["smb"] * (count - len(segments))
    rng.shuffle(segments)
    rows: list[Row] = []
    churn_rows: list[Row] = []
    months = sorted({_month_key(d) for d in _days(START_DATE, END_DATE)})
    for number, segment in enumerate(segments, start=1):
        tz_name = rng.choice(CUSTOMER_TZS)
        region = TZ_REGION[tz_name.split("/")[0]]
        if rng.random() < 0.8:
            signed = date(2019, 1, 1) + timedelta(days=rng.randrange(5 * 365))
        else:
            signed = START_DATE + timedelta(days=rng.randrange(640))
        customer = Customer(f"C{number:04d}", segment, region, ZoneInfo(tz_name), signed)
        name = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {number:04d}"
        for ym in months:
            first_day = date(ym[0], ym[1], 1)
            if first_day < signed + timedelta(days=60):
                continue
            if rng.random() < _churn_hazard(segment, ym):
                churned = first_day + timedelta(days=rng.randrange(28))
                customer.churned = churned
                excess = _churn_hazard(segment, ym) > 0.01
                reason = "delivery" if excess and rng.random() < 0.7 else rng.choice(CHURN_REASONS)
                churn_rows.append((customer.customer_id, churned, reason))
                break
        ctx.customers.append(customer)
        rows.append((customer.customer_id, name, segment, region, tz_name, signed))
    edge = Customer("C-EDGE", "enterprise", "EMEA", ZoneInfo("Europe/Berlin"), date(2023, 3, 1))
    ctx.customers.append(edge)
    rows.append(
        ("C-EDGE", "Edge Case GmbH", "enterprise", "EMEA", "Europe/Berlin", date(2023, 3, 1))
    )
    ctx.tables["oms_customers"] = rows
    ctx.tables["cs_churn_events"] = churn_rows


def _pick_customer(
    rng: random.Random, ctx: Context, day: date, segment: str | None = None
) -> Customer | None:
    pool = [c for c in ctx.active(day) if c.customer_id != "C-EDGE"]
    if segment is not None:
        pool = [c for c in pool if c.segment == segment]
    if not pool:
        return None
    weights = [SEGMENT_ORDER_WEIGHT[c.segment] for c in pool]
    return rng.choices(pool, weights=weights)[0]


# ---------------------------------------------------------------------------------------------
# OMS
# ---------------------------------------------------------------------------------------------
@dataclass
class Line:
    order_line_id: str
    ordered_quantity: int
    first_promised: date
    revised_promised: date | None = None
    cancelled_at: datetime | None = None
    # (quantity, shipped_at, delivered_at)
    shipments: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)


def _plan_shipments(
    rng: random.Random, ordered_at: datetime, deadline: datetime, quantity: int, late: bool
) -> list[tuple[int, datetime, datetime | None]]:
    """Shipments of one line; the last one lands before/after ``deadline`` per ``late``."""
    earliest = ordered_at + timedelta(hours=20)
    if late:
        delivered = deadline + _minutes(rng.uniform(60, 6 * 24 * 60))
    else:
        delivered = _random_between(rng, min(earliest, deadline), deadline - timedelta(hours=1))
    transit = _minutes(rng.uniform(1 * 24 * 60, 5 * 24 * 60))
    shipped = max(delivered - transit, ordered_at + timedelta(hours=2))
    shipped = min(shipped, delivered - timedelta(hours=4))
    draw = rng.random()
    if draw < 0.10 and quantity >= 2:  # split shipment
        first_qty = max(1, round(quantity * rng.uniform(0.4, 0.8)))
        first_qty = min(first_qty, quantity - 1)
        first_delivered = _random_between(rng, ordered_at + timedelta(hours=8), delivered)
        first_delivered = min(first_delivered, delivered - timedelta(minutes=30))
        first_shipped = max(first_delivered - transit, ordered_at + timedelta(hours=1))
        first_shipped = min(first_shipped, first_delivered - timedelta(hours=2))
        return [
            (first_qty, first_shipped, first_delivered),
            (quantity - first_qty, shipped, delivered),
        ]
    if draw < 0.13 and quantity >= 2:  # partial, the rest never ships
        return [(max(1, round(quantity * rng.uniform(0.3, 0.8))), shipped, delivered)]
    return [(quantity, shipped, delivered)]


def _clip_to_as_of(
    shipments: list[tuple[int, datetime, datetime | None]],
) -> list[tuple[int, datetime, datetime | None]]:
    kept = []
    for quantity, shipped, delivered in shipments:
        if shipped >= AS_OF:
            continue
        kept.append((quantity, shipped, delivered if delivered and delivered < AS_OF else None))
    return kept


def _oms_bulk(ctx: Context) -> None:
    rng = ctx.rng(3)
    orders = ctx.tables["oms_orders"]
    order_no = line_no = ship_no = 0
    products = tuple(PRODUCT_PRICES)
    for day in _days(START_DATE, END_DATE):
        for _ in range(_poisson(rng, ORDERS_PER_DAY * ctx.scale)):
            customer = _pick_customer(rng, ctx, day)
            if customer is None:
                continue
            order_no += 1
            order_id = f"ORD{order_no:06d}"
            ordered_at = datetime.combine(day, time(), UTC) + timedelta(
                seconds=rng.randrange(86_400)
            )
            site = (
                customer.home_site
                if rng.random() < 0.75
                else rng.choice([s for s, _, _, _ in SITES if s != customer.home_site])
            )
            orders.append((order_id, customer.customer_id, site, ordered_at))
            ctx.order_meta[order_id] = (customer.customer_id, site)
            local_order_day = ordered_at.astimezone(customer.tz).date()
            n_lines = rng.choices((1, 2, 3), weights=(60, 28, 12))[0]
            for number in range(1, n_lines + 1):
                line_no += 1
                product = rng.choice(products)
                quantity = rng.randint(*SEGMENT_QTY[customer.segment])
                line = Line(
                    f"OL{line_no:07d}",
                    quantity,
                    local_order_day + timedelta(days=rng.randint(3, 10)),
                )
                if rng.random() < 0.08:
                    line.revised_promised = line.first_promised + timedelta(days=rng.randint(2, 10))
                if rng.random() < 0.02:
                    line.cancelled_at = ordered_at + _minutes(rng.uniform(60, 2 * 24 * 60))
                else:
                    target = line.revised_promised or line.first_promised
                    late = rng.random() < _late_probability(
                        customer.segment, _month_key(line.first_promised)
                    )
                    line.shipments = _plan_shipments(
                        rng, ordered_at, _end_of_day_utc(target, customer.tz), quantity, late
                    )
                line.shipments = _clip_to_as_of(line.shipments)
                if line.cancelled_at is not None and line.cancelled_at >= AS_OF:
                    line.cancelled_at = None
                ship_no = _emit_line(ctx, order_id, number, product, line, ship_no, "SH", 7)


def _emit_line(
    ctx: Context,
    order_id: str,
    number: int,
    product: str,
    line: Line,
    ship_no: int,
    prefix: str,
    width: int,
) -> int:
    ctx.tables["oms_order_lines"].append(
        (
            line.order_line_id,
            order_id,
            number,
            product,
            line.ordered_quantity,
            line.first_promised,
            line.revised_promised,
            line.cancelled_at,
        )
    )
    for quantity, shipped, delivered in line.shipments:
        ship_no += 1
        ship_id = f"{prefix}{ship_no:0{width}d}"
        ctx.tables["oms_shipments"].append(
            (ship_id, line.order_line_id, quantity, shipped, delivered)
        )
        if delivered is not None:
            ctx.order_deliveries[order_id].append((delivered, quantity * PRODUCT_PRICES[product]))
    return ship_no


def _z(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# order_line suffix, ordered_at, first promise, revised, cancelled_at, qty,
# shipments [(qty, shipped_at, delivered_at)]
EDGE_LINES: tuple[tuple[Any, ...], ...] = (
    (
        "BOUNDARY",
        "2025-06-02T09:00:00Z",
        "2025-06-10",
        None,
        None,
        10,
        ((10, "2025-06-08T10:00:00Z", "2025-06-10T22:00:00Z"),),
    ),
    (
        "LATE1S",
        "2025-06-02T09:00:00Z",
        "2025-06-10",
        None,
        None,
        10,
        ((10, "2025-06-08T10:00:00Z", "2025-06-10T22:00:01Z"),),
    ),
    ("OPENPASTDUE", "2025-11-05T09:00:00Z", "2025-11-15", None, None, 10, ()),
    (
        "SPLIT-ONTIME",
        "2025-06-02T09:00:00Z",
        "2025-06-10",
        None,
        None,
        10,
        (
            (6, "2025-06-04T10:00:00Z", "2025-06-06T12:00:00Z"),
            (4, "2025-06-07T10:00:00Z", "2025-06-09T12:00:00Z"),
        ),
    ),
    (
        "SPLIT-LATE",
        "2025-06-02T09:00:00Z",
        "2025-06-10",
        None,
        None,
        10,
        (
            (6, "2025-06-05T10:00:00Z", "2025-06-08T12:00:00Z"),
            (4, "2025-06-10T10:00:00Z", "2025-06-12T12:00:00Z"),
        ),
    ),
    (
        "PARTIAL",
        "2025-06-02T09:00:00Z",
        "2025-06-10",
        None,
        None,
        10,
        ((5, "2025-06-06T10:00:00Z", "2025-06-09T12:00:00Z"),),
    ),
    ("CANCELLED", "2025-06-02T09:00:00Z", "2025-06-10", None, "2025-06-03T12:00:00Z", 10, ()),
    (
        "REPROMISE",
        "2025-06-02T09:00:00Z",
        "2025-06-10",
        "2025-06-20",
        None,
        10,
        ((10, "2025-06-12T10:00:00Z", "2025-06-15T10:00:00Z"),),
    ),
    (
        "SHIPPEDONLY",
        "2025-08-25T09:00:00Z",
        "2025-09-03",
        None,
        None,
        10,
        ((10, "2025-09-01T10:00:00Z", None),),
    ),
    (
        "EARLY",
        "2025-06-02T09:00:00Z",
        "2025-06-20",
        None,
        None,
        10,
        ((10, "2025-06-07T10:00:00Z", "2025-06-10T10:00:00Z"),),
    ),
    ("NOTYETDUE", "2025-12-29T09:00:00Z", "2026-01-20", None, None, 10, ()),
)


def _oms_edge(ctx: Context) -> None:
    for suffix, ordered, first, revised, cancelled, qty, ships in EDGE_LINES:
        order_id = f"ORD-EDGE-{suffix}"
        ctx.tables["oms_orders"].append((order_id, "C-EDGE", "S2", _z(ordered)))
        ctx.order_meta[order_id] = ("C-EDGE", "S2")
        line = Line(
            f"OL-EDGE-{suffix}",
            qty,
            date.fromisoformat(first),
            date.fromisoformat(revised) if revised else None,
            _z(cancelled) if cancelled else None,
            [(q, _z(s), _z(d) if d else None) for q, s, d in ships],
        )
        _emit_line(ctx, order_id, 1, "PX-100", line, 0, f"SH-EDGE-{suffix}-", 1)


def _oms(ctx: Context) -> None:
    _oms_bulk(ctx)
    _oms_edge(ctx)


# ---------------------------------------------------------------------------------------------
# Service desk
# ---------------------------------------------------------------------------------------------
def _policy(priority: str, metric: str, on: date) -> tuple[Any, ...]:
    for policy in SLA_POLICIES:
        valid_to = policy[7] or date.max
        if policy[1] == priority and policy[2] == metric and policy[6] <= on < valid_to:
            return policy
    raise LookupError((priority, metric, on))


def _sd_reference(ctx: Context) -> None:
    t = ctx.tables
    t["sd_business_hours"] = [
        (sid, tz, weekday, f"{open_h:02d}:00", f"{close_h:02d}:00")
        for sid, (tz, open_h, close_h) in SCHEDULES.items()
        for weekday in range(1, 6)
    ]
    t["sd_teams"] = [tuple(team) for team in TEAMS]
    t["sd_sla_policies"] = [tuple(p) for p in SLA_POLICIES]
    rng = ctx.rng(4)
    agents: list[Row] = []
    for index, (team_id, _, _) in enumerate(TEAMS):
        for n in range(1, 9):
            agent_id = f"AG{index * 8 + n:03d}"
            active_from = date(2022, 1, 3) + timedelta(days=rng.randrange(600))
            active_to = None
            if n == 8:  # joins mid-period
                active_from = date(2024, 5, 6) + timedelta(days=index * 120)
            if team_id == "T1" and n == 3:  # leaves
                active_to = date(2025, 7, 1)
            agents.append((agent_id, _name(rng), team_id, active_from, active_to))
    t["sd_agents"] = agents


@dataclass
class TicketPlan:
    ticket_id: str
    customer_id: str
    team_id: str
    agent_id: str | None
    priority: str
    channel: str
    created_at: datetime
    first_replied_at: datetime | None
    statuses: list[tuple[str, datetime]]
    resolution_met: bool


def _plan_ticket(
    rng: random.Random,
    ticket_id: str,
    customer_id: str,
    team_id: str,
    agent_id: str,
    priority: str,
    created: datetime,
) -> TicketPlan:
    """Status history built backwards from the chosen SLA outcome (met or breached)."""
    on = created.date()
    fr_policy, res_policy = (
        _policy(priority, "first_reply", on),
        _policy(priority, "resolution", on),
    )
    schedule = TEAM_SCHEDULE[team_id] if fr_policy[4] == "business" else None
    pauses = bool(res_policy[5])
    fr_met = rng.random() < 0.90
    res_deadline = _clock_add(schedule, created, res_policy[3] * 60)
    dip = team_id == "T2" and _month_key(res_deadline) in T2_DIP_MONTHS
    res_met = rng.random() < (0.35 if dip else 0.88)

    def elapsed(target: int, met: bool) -> int:
        factor = rng.uniform(0.15, 0.95) if met else rng.uniform(1.05, 2.0)
        return round(target * 60 * factor)

    e_fr = elapsed(fr_policy[3], fr_met)
    e_res = max(elapsed(res_policy[3], res_met), e_fr + rng.randint(600, 3600))
    first_reply = _clock_add(schedule, created, e_fr)
    statuses: list[tuple[str, datetime]] = [("new", created)]
    opened = min(first_reply, created + _minutes(rng.uniform(1, 20)))
    statuses.append(("open", opened))
    moment, budget = first_reply, e_res - e_fr
    episodes = rng.choices((0, 1, 2), weights=(64, 28, 8))[0]
    for _ in range(episodes):
        chunk = round(budget * rng.uniform(0.1, 0.4))
        moment, budget = _clock_add(schedule, moment, chunk), budget - chunk
        statuses.append(("on_hold" if rng.random() < 0.15 else "pending", moment))
        if pauses:
            moment += _minutes(rng.uniform(30, 26 * 60))
        else:
            wait = round(budget * rng.uniform(0.1, 0.3))
            moment, budget = _clock_add(schedule, moment, wait), budget - wait
        statuses.append(("open", moment))
    if rng.random() < 0.06:  # solved, reopened, solved again
        chunk = round(budget * rng.uniform(0.3, 0.6))
        moment, budget = _clock_add(schedule, moment, chunk), budget - chunk
        statuses.append(("solved", moment))
        gap = round(budget * rng.uniform(0.2, 0.5))
        moment, budget = _clock_add(schedule, moment, gap), budget - gap
        statuses.append(("open", moment))
    solved = _clock_add(schedule, moment, budget)
    statuses.append(("solved", solved))
    statuses.append(("closed", solved + _minutes(rng.uniform(3 * 1440, 5 * 1440))))
    return TicketPlan(
        ticket_id,
        customer_id,
        team_id,
        agent_id,
        priority,
        rng.choice(CHANNELS),
        created,
        first_reply,
        statuses,
        res_met,
    )


def _ticket_created(rng: random.Random, day: date, team_id: str) -> datetime:
    schedule = TEAM_SCHEDULE[team_id]
    if day.isoweekday() <= 5 and rng.random() < 0.8:
        local = datetime.combine(day, time(schedule.open_hour)) + timedelta(
            seconds=rng.randrange((schedule.close_hour - schedule.open_hour) * 3600)
        )
    else:
        local = datetime.combine(day, time()) + timedelta(seconds=rng.randrange(86_400))
    local = _clean_local(local, schedule.tz)
    return _local_to_utc(local, schedule.tz)


def _sd_bulk(ctx: Context) -> list[TicketPlan]:
    rng = ctx.rng(5)
    agents_by_team: dict[str, list[Row]] = defaultdict(list)
    for agent in ctx.tables["sd_agents"]:
        agents_by_team[agent[2]].append(agent)
    teams, team_w = list(TEAM_SHARE), list(TEAM_SHARE.values())
    prios, prio_w = list(PRIORITY_SHARE), list(PRIORITY_SHARE.values())
    plans: list[TicketPlan] = []
    for day in _days(START_DATE, END_DATE):
        rate = TICKETS_PER_DAY * ctx.scale * (1.2 if day.isoweekday() <= 5 else 0.5)
        for _ in range(_poisson(rng, rate)):
            customer = _pick_customer(rng, ctx, day)
            team_id = rng.choices(teams, weights=team_w)[0]
            priority = rng.choices(prios, weights=prio_w)[0]
            created = _ticket_created(rng, day, team_id)
            if customer is None or not START_AT <= created < AS_OF:
                continue
            pool = [
                a[0]
                for a in agents_by_team[team_id]
                if a[3] <= day and (a[4] is None or day < a[4])
            ]
            ticket_id = f"T{len(plans) + 1:06d}"
            plans.append(
                _plan_ticket(
                    rng,
                    ticket_id,
                    customer.customer_id,
                    team_id,
                    rng.choice(pool),
                    priority,
                    created,
                )
            )
    return plans


def _ny(local: str) -> datetime:
    return _local_to_utc(datetime.fromisoformat(local), ZoneInfo("America/New_York"))


def _sd_edge() -> list[TicketPlan]:
    def plan(
        ticket: str,
        priority: str,
        created: datetime,
        reply: datetime | None,
        statuses: list[tuple[str, datetime]],
        met: bool,
    ) -> TicketPlan:
        return TicketPlan(
            f"T-EDGE-{ticket}",
            "C-EDGE",
            "T1",
            "AG001",
            priority,
            "email",
            created,
            reply,
            [("new", created), *statuses],
            met,
        )

    fr = _z("2025-05-06T14:00:00Z")
    pend = _z("2025-05-13T08:00:00Z")
    reopen = _z("2025-04-01T14:00:00Z")
    bh = _ny("2025-03-07 16:30:00")
    return [
        plan(
            "FR-BOUNDARY",
            "urgent",
            fr,
            fr + timedelta(minutes=60),
            [
                ("open", fr + timedelta(minutes=60)),
                ("solved", fr + timedelta(hours=3)),
                ("closed", fr + timedelta(days=4)),
            ],
            True,
        ),
        plan(
            "BREACHED-OPEN",
            "urgent",
            _z("2025-12-20T10:00:00Z"),
            None,
            [
                ("open", _z("2025-12-20T10:05:00Z")),
            ],
            False,
        ),
        plan("INPROGRESS", "low", _z("2025-12-31T20:00:00Z"), None, [], False),
        plan(
            "REOPEN",
            "normal",
            reopen,
            _z("2025-04-01T15:00:00Z"),
            [
                ("open", _z("2025-04-01T15:00:00Z")),
                ("solved", _z("2025-04-02T15:00:00Z")),
                ("open", _z("2025-04-03T14:00:00Z")),
                ("solved", _z("2025-04-04T16:00:00Z")),
                ("closed", _z("2025-04-08T16:00:00Z")),
            ],
            True,
        ),
        plan(
            "PENDING",
            "urgent",
            pend,
            pend + timedelta(minutes=30),
            [
                ("open", pend + timedelta(minutes=30)),
                ("pending", pend + timedelta(hours=3)),
                ("open", pend + timedelta(hours=5)),
                ("solved", pend + timedelta(hours=9)),
                ("closed", pend + timedelta(days=4)),
            ],
            True,
        ),
        plan(
            "BUSINESSHOURS",
            "high",
            bh,
            _ny("2025-03-10 09:50:00"),
            [
                ("open", _ny("2025-03-10 09:50:00")),
                ("solved", _ny("2025-03-10 15:00:00")),
                ("closed", _ny("2025-03-14 15:00:00")),
            ],
            True,
        ),
    ]


def _sd(ctx: Context) -> list[TicketPlan]:
    plans = _sd_bulk(ctx) + _sd_edge()
    tickets, changes = ctx.tables["sd_tickets"], ctx.tables["sd_ticket_status_changes"]
    for p in plans:
        replied = p.first_replied_at if p.first_replied_at and p.first_replied_at < AS_OF else None
        kept = [(s, at) for s, at in p.statuses if at < AS_OF]
        agent = p.agent_id if replied is not None or len(kept) > 1 else None
        tickets.append(
            (
                p.ticket_id,
                p.customer_id,
                p.team_id,
                agent,
                p.priority,
                p.channel,
                p.created_at,
                replied,
            )
        )
        for n, (status, at) in enumerate(kept, start=1):
            changes.append((f"{p.ticket_id}-{n:02d}", p.ticket_id, status, at))
        p.statuses = kept
    return plans


# ---------------------------------------------------------------------------------------------
# CRM
# ---------------------------------------------------------------------------------------------
def _opportunity_boost(segment: str, ym: tuple[int, int]) -> float:
    """Mid-market volume grows 10 %/month Jul-Dec 2025 (+60 % in Dec): the output trap."""
    if segment == "mid_market" and ym[0] == 2025 and ym[1] >= 7:
        return 1.0 + 0.1 * (ym[1] - 6)
    return 1.0


def _crm(ctx: Context) -> None:
    rng = ctx.rng(6)
    reps: list[Row] = []
    reps_by_segment: dict[str, list[str]] = defaultdict(list)
    regions = ("NA", "EMEA", "APAC", "NA")
    for index, (segment, team) in enumerate(SALES_TEAMS.items()):
        for n in range(4):
            rep_id = f"REP{index * 4 + n + 1:02d}"
            reps.append((rep_id, _name(rng), team, regions[n]))
            reps_by_segment[segment].append(rep_id)
    ctx.tables["crm_reps"] = reps
    opps: list[Row] = []
    invoices = ctx.tables["_sales_invoices"]
    segments, seg_w = list(OPP_SEGMENT_SHARE), list(OPP_SEGMENT_SHARE.values())
    win_credit = dict.fromkeys(segments, rng.random())
    for day in _days(START_DATE, END_DATE):
        base = OPPORTUNITIES_PER_DAY * ctx.scale * (1.25 if day.isoweekday() <= 5 else 0.4)
        weights = [
            w * _opportunity_boost(s, _month_key(day)) for s, w in zip(segments, seg_w, strict=True)
        ]
        lam = base * sum(weights)
        for _ in range(_poisson(rng, lam)):
            segment = rng.choices(segments, weights=weights)[0]
            customer = _pick_customer(rng, ctx, day, segment)
            if customer is None:
                continue
            created = datetime.combine(day, time(), UTC) + timedelta(
                seconds=rng.randrange(7 * 3600, 21 * 3600)
            )
            amount = round(SEGMENT_AMOUNT[segment] * math.exp(rng.gauss(0, 0.25) - 0.25**2 / 2), -1)
            qualified = closed = None
            stage = "prospecting"
            if rng.random() < 0.55:
                qualified = created + _minutes(rng.uniform(2 * 1440, 20 * 1440))
                # A running sum instead of a coin flip: wins track 30 % / boost without
                # sampling noise, so the output trap's flat revenue is visible month by month.
                win_credit[segment] += 0.30 / _opportunity_boost(segment, _month_key(created))
                close_at = qualified + _minutes(rng.uniform(10 * 1440, 60 * 1440))
                if win_credit[segment] >= 1.0:
                    win_credit[segment] -= 1.0
                    stage, closed = "won", close_at
                elif rng.random() < 0.71:
                    stage, closed = "lost", close_at
                else:
                    stage = rng.choice(("qualified", "proposal"))
            elif rng.random() < 0.7:
                stage, closed = "lost", created + _minutes(rng.uniform(5 * 1440, 40 * 1440))
            if qualified is not None and qualified >= AS_OF:
                qualified, closed, stage = None, None, "prospecting"
            if closed is not None and closed >= AS_OF:
                closed = None
                stage = "qualified" if qualified is not None else "prospecting"
            if closed is not None and customer.churned and closed.date() >= customer.churned:
                stage = "lost"
            opp_id = f"OPP{len(opps) + 1:06d}"
            opps.append(
                (
                    opp_id,
                    customer.customer_id,
                    rng.choice(reps_by_segment[segment]),
                    created,
                    qualified,
                    closed,
                    stage,
                    amount,
                )
            )
            if stage == "won" and closed is not None:
                invoices.append((customer.customer_id, customer.home_site, closed.date(), amount))
    edge_rep = reps_by_segment["enterprise"][0]
    opps.append(
        (
            "O-EDGE-WON-NOQUAL",
            "C-EDGE",
            edge_rep,
            _z("2025-02-03T10:00:00Z"),
            None,
            _z("2025-03-14T16:00:00Z"),
            "won",
            75_000.0,
        )
    )
    opps.append(
        (
            "O-EDGE-QUAL-LOST",
            "C-EDGE",
            edge_rep,
            _z("2025-04-07T09:00:00Z"),
            _z("2025-04-15T12:00:00Z"),
            _z("2025-05-20T15:00:00Z"),
            "lost",
            90_000.0,
        )
    )
    invoices.append(("C-EDGE", "S2", date(2025, 3, 14), 75_000.0))
    ctx.tables["crm_opportunities"] = opps


# ---------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------
def _invoices(ctx: Context) -> None:
    rng = ctx.rng(7)
    raw: list[tuple[date, str, int, str, float]] = []
    for order_id in sorted(ctx.order_deliveries):
        deliveries = ctx.order_deliveries[order_id]
        customer_id, site = ctx.order_meta[order_id]
        invoice_date = max(d for d, _ in deliveries).date()
        amount = round(sum(a for _, a in deliveries), 2)
        raw.append((invoice_date, customer_id, 0, site, amount))
        if rng.random() < 0.015:  # credit note
            credit_date = invoice_date + timedelta(days=rng.randint(5, 30))
            if credit_date <= END_DATE:
                credit = -round(amount * rng.uniform(0.1, 1.0), 2)
                raw.append((credit_date, customer_id, 1, site, credit))
    for customer_id, site, invoice_date, amount in ctx.tables.pop("_sales_invoices"):
        raw.append((invoice_date, customer_id, 2, site, amount))
    raw.sort()
    ctx.tables["fin_invoices"] = [
        (f"INV{n:06d}", cust, site, day, amount)
        for n, (day, cust, _, site, amount) in enumerate(raw, start=1)
    ]


def _csat_score(rng: random.Random, met: bool) -> int:
    weights = (2, 3, 10, 30, 55) if met else (25, 25, 25, 15, 10)
    return rng.choices((1, 2, 3, 4, 5), weights=weights)[0]


def _surveys(ctx: Context, plans: list[TicketPlan]) -> None:
    rng = ctx.rng(8)
    raw: list[tuple[datetime, str, str | None, str, int]] = []
    for plan in plans:
        solves = [at for status, at in plan.statuses if status == "solved"]
        reopened = plan.statuses and plan.statuses[-1][0] not in ("solved", "closed")
        edge = plan.ticket_id.startswith("T-EDGE")
        if edge or not solves or reopened or rng.random() >= 0.30:
            continue
        responded = solves[-1] + _minutes(rng.uniform(10, 36 * 60))
        if responded < AS_OF:
            raw.append(
                (
                    responded,
                    "csat",
                    plan.ticket_id,
                    plan.customer_id,
                    _csat_score(rng, plan.resolution_met),
                )
            )
    for ym in sorted({_month_key(d) for d in _days(START_DATE, END_DATE)}):
        first = date(ym[0], ym[1], 1)
        for customer in ctx.customers:
            if customer.customer_id == "C-EDGE" or not customer.active_on(first):
                continue
            if rng.random() >= 0.15:
                continue
            mean = 7.6
            if customer.segment == "smb":
                mean -= 4 * (_late_probability("smb", ym) - BASE_LATE)
            score = min(10, max(0, round(rng.gauss(mean, 1.8))))
            responded = datetime.combine(first, time(), UTC) + timedelta(
                seconds=rng.randrange(27 * 86_400)
            )
            if customer.churned and responded.date() >= customer.churned:
                continue
            raw.append((responded, "nps", None, customer.customer_id, score))
    raw.sort(key=lambda r: (r[0], r[1], r[3]))
    ctx.tables["cx_survey_responses"] = [
        (f"SR{n:06d}", kind, ticket, cust, score, at)
        for n, (at, kind, ticket, cust, score) in enumerate(raw, start=1)
    ]


def _claims(ctx: Context) -> None:
    """Claims in month m ~ units of m-2 that were not first-pass (the planted lag)."""
    rng = ctx.rng(9)
    raw: list[tuple[date, str, str, str | None, str, int]] = []
    months = sorted({_month_key(d) for d in _days(START_DATE, END_DATE)})
    for site_id, _, _, _ in SITES:
        for ym in months:
            source = _add_months(ym, -2)
            if source < months[0]:
                # Units built before the data window: baseline rate, no traceable serial.
                baseline = [ctx.not_first_pass.get((site_id, m), 0) for m in months[:3]]
                expected = CLAIMS_PER_NOT_FIRST_PASS * sum(baseline) / len(baseline)
            else:
                expected = CLAIMS_PER_NOT_FIRST_PASS * ctx.not_first_pass.get((site_id, source), 0)
            good = ctx.good_serials.get((site_id, source), [])
            reworked = [s for s, fp in good if not fp]
            clean = [s for s, fp in good if fp]
            first = date(*ym, 1)
            days_in_month = (date(*_add_months(ym, 1), 1) - first).days
            for _ in range(_poisson(rng, expected)):
                claim_day = first + timedelta(days=rng.randrange(days_in_month))
                pool = reworked if reworked and (rng.random() < 0.7 or not clean) else clean
                customer = _pick_customer(rng, ctx, claim_day)
                if customer is None:
                    continue
                kind = "return" if rng.random() < 0.6 else "warranty"
                if not pool:
                    raw.append((claim_day, site_id, kind, None, customer.customer_id, 1))
                    continue
                if rng.random() < 0.05:
                    raw.append(
                        (claim_day, site_id, kind, None, customer.customer_id, rng.randint(2, 6))
                    )
                    continue
                serial = pool.pop(rng.randrange(len(pool)))
                raw.append((claim_day, site_id, kind, serial, customer.customer_id, 1))
    raw.sort(key=lambda r: (r[0], r[1], r[3] or "", r[4]))
    ctx.tables["qa_return_claims"] = [
        (f"CL{n:06d}", kind, serial, cust, site, day, qty)
        for n, (day, site, kind, serial, cust, qty) in enumerate(raw, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# Orchestration and output
# ---------------------------------------------------------------------------------------------
def generate(seed: int = 42, scale: float = 1.0, progress: bool = True) -> Tables:
    """All raw tables as lists of rows (python values), sorted by primary key."""
    ctx = Context(seed=seed, scale=scale)
    plans: list[TicketPlan] = []

    def run_sd() -> None:
        plans.extend(_sd(ctx))

    steps: list[tuple[str, Callable[[], None]]] = [
        ("mes reference", lambda: _mes_reference(ctx)),
        ("mes shifts, units, events", lambda: _mes(ctx)),
        ("customers and churn", lambda: _customers(ctx)),
        ("oms orders and shipments", lambda: _oms(ctx)),
        ("sd reference", lambda: _sd_reference(ctx)),
        ("sd tickets", run_sd),
        ("crm opportunities", lambda: _crm(ctx)),
        ("invoices", lambda: _invoices(ctx)),
        ("surveys", lambda: _surveys(ctx, plans)),
        ("return claims", lambda: _claims(ctx)),
    ]
    with tqdm(total=len(steps), desc="demo data", unit="step", disable=not progress) as bar:
        for label, step in steps:
            bar.set_postfix_str(label)
            step()
            bar.update(1)
    tables: Tables = {}
    for name, columns in COLUMNS.items():
        key_idx = [columns.index(c) for c in PRIMARY_KEYS.get(name, columns[:1])]
        tables[name] = sorted(ctx.tables[name], key=lambda r: [r[i] for i in key_idx])
    return tables


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def write_tables(tables: Tables, out_dir: Path) -> dict[str, int]:
    """Write ``<table>.csv`` files; returns row counts."""
    return write_csv_tables(tables, COLUMNS, out_dir, _format)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.demo.data",
        description="Generate the deterministic demo raw data (one CSV per raw table).",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("seeds/raw"), help="output directory (default: seeds/raw)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="volume multiplier; 1.0 = ~290k rows (default: 1.0)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    started = wall_time.perf_counter()  # only for the summary line, never for the data
    counts = write_tables(generate(args.seed, args.scale, progress=not args.quiet), args.out)
    # The declared units' team tables (marketing, HR, engineering, R&D): same seed, no scale.
    counts |= demo_teams.write(args.out, args.seed)
    if not args.quiet:
        for name, count in counts.items():
            print(f"{name:28s} {count:>8d}")
        elapsed = wall_time.perf_counter() - started
        print(f"{'total':28s} {sum(counts.values()):>8d}  ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
