"""Deterministic demo data for the declared units of output (issue 17): four team families.

Writes eight small CSV seeds (``seeds/raw``) covering 2024-01-01 .. 2025-12-31 with ``as_of`` =
2026-01-01T00:00:00Z: nothing happens at or after ``as_of`` except deadlines of open work
(drafts, requisitions, features and filings due in January 2026). The declarations that read
them are var ``output_kpis_demo_units`` in ``dbt_project.yml``; ``docs/DEMO_TEAMS.md`` tells
the story and lists the edge rows.

Usage (``make demo-data`` runs it through ``kpi_tooling.demo.data`` with the same seed)::

    python -m kpi_tooling.demo.teams --out seeds/raw --seed 42

Every draw comes from ``random.Random`` instances derived from ``--seed`` (one per family, so
changing one family does not reshuffle the others); the wall clock is never read. Rows are
sorted by key, so a seed gives byte-identical files. The volumes do not scale.

=================  =================================  ===========================================
family             unit of output (table)             outcome (table)
=================  =================================  ===========================================
marketing          content piece (mkt_content_pieces)  organic leads (mkt_leads)
HR                 hire (hr_hires)                      departures (hr_departures)
engineering        feature deployment (eng_deployments) feature adoption (eng_feature_adoption)
R&D / compliance   filing (rd_submissions)              approvals and grants (rd_approvals)
=================  =================================  ===========================================

Planted signals (measured by ``tests/python/test_demo_teams.py``):

1. LEAD, marketing, lag 1 month. The first-time-right share of content (published, not
   intranet, ``revision_count = 0``, by Europe/London month of ``published_at``) follows the
   fixed monthly plan ``FIRST_TIME_RIGHT`` (two single-month dips, Apr 2024 and Nov 2024, and
   little month-to-month persistence); each month's share is stratified (exactly
   round(share x pieces) pieces need no revision). Organic leads of month m (London month of
   ``created_at``, ``source = 'organic'``, not test leads) are ``LEADS_BASE + LEADS_PER_SHARE x
   (realised first-time-right share of m-1) + N(0, LEADS_NOISE)``, so the lag-1 correlation is
   strong and lags 0 and 2 are weak (the share has almost no autocorrelation).
2. TRAP, marketing. Published pieces per month ramp from ~30 (Apr-Jun 2025) to 36, 40, 44,
   50, 56, 62 (Jul-Dec 2025) while the first-time-right share slips a little, so organic leads
   stay flat (within +-10 %) over the same window: Jul-Dec vs Apr-Jun, and Oct-Dec vs Jul-Sep
   (the package's trailing-window test).
3. HR, negative. Hires made (``hired_on``) in Apr-Jun 2025 leave within 90 days 30 % of the
   time (8 % otherwise); every leaver is also a row of ``hr_departures``, so departures rise
   in May-Sep 2025 as 90-day retention falls.
4. Engineering, positive. Squad ``checkout`` has incidents on 40 % of its deployments in
   Sep-Oct 2024 (8 % otherwise). Each clean production deployment brings Poisson(4) adoption
   events within 60 days, a deployment with an incident or a rollback Poisson(1), so adoption
   follows the bug-free release rate at lags 0-1.
5. R&D, positive. Regulatory filings of team ``devices`` due in Jan-Jun 2025 pass the first
   review 45 % of the time (82 % otherwise). A filing that passed is approved (or granted) with
   probability 0.9 after 60-150 days, one that did not with 0.5 after 150-300 days, so
   approvals dip three to six months after the first-review rate.

Edge rows (ids ``*-EDGE-*``, written at every seed) are listed in ``EDGE_ROWS`` below and in
``docs/DEMO_TEAMS.md``: per family an excluded row, a row not completed with its deadline past
(late), rows completed exactly at and just past the deadline boundary, and a row whose deadline
lies after ``as_of`` (not yet due).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kpi_tooling.config import DEMO_AS_OF
from kpi_tooling.core import raw_tables
from kpi_tooling.demo.csv_tables import write_csv_tables

START_DATE = date(2024, 1, 1)
END_DATE = date(2025, 12, 31)
AS_OF = datetime.fromisoformat(DEMO_AS_OF).replace(tzinfo=UTC)
MONTHS: tuple[tuple[int, int], ...] = tuple((y, m) for y in (2024, 2025) for m in range(1, 13))

LONDON = ZoneInfo("Europe/London")
ZURICH = ZoneInfo("Europe/Zurich")

Row = tuple[Any, ...]
Tables = dict[str, list[Row]]

# Column order is binding (dbt_project.yml declarations); kpi_tooling/core/raw_tables.yml states it.
COLUMNS: dict[str, tuple[str, ...]] = raw_tables.demo_columns(team=True)

# Marketing plan. FIRST_TIME_RIGHT[0] is Dec 2023 (it drives Jan 2024 leads), then Jan 2024 ..
# Dec 2025. Two dips (Apr and Nov 2024); lag-1 autocorrelation of the series is ~0.
FIRST_TIME_RIGHT: tuple[float, ...] = (
    0.76,
    0.74, 0.78, 0.70, 0.46, 0.72, 0.76, 0.78, 0.71, 0.75, 0.79, 0.50, 0.70,
    0.74, 0.80, 0.72, 0.77, 0.73, 0.75, 0.72, 0.74, 0.71, 0.73, 0.69, 0.72,
)  # fmt: skip
# Published pieces (bulk) per month of 2025 H2: the trap's ramp; earlier months draw 27..33.
CONTENT_RAMP = {(2025, 7): 36, (2025, 8): 40, (2025, 9): 44, (2025, 10): 50, (2025, 11): 56,
                (2025, 12): 62}  # fmt: skip
LEADS_BASE = 10.0
LEADS_PER_SHARE = 300.0
LEADS_NOISE = 6.0
PAID_LEADS_PER_MONTH = 55

AUTHORS: tuple[tuple[str, str], ...] = (
    ("amara.okafor", "brand"),
    ("ben.hughes", "brand"),
    ("chloe.martin", "growth"),
    ("dev.patel", "growth"),
    ("elin.larsen", "growth"),
    ("farid.haddad", "product_marketing"),
    ("grace.wu", "product_marketing"),
    ("hugo.silva", "product_marketing"),
    ("isla.reid", "brand"),
    ("jonas.weber", "growth"),
)
CHANNELS = (("blog", 0.40), ("video", 0.15), ("newsletter", 0.15), ("social", 0.25),
            ("intranet", 0.05))  # fmt: skip
ORGANIC_CHANNELS = (("organic_search", 0.55), ("social", 0.20), ("direct", 0.15),
                    ("referral", 0.10))  # fmt: skip
PAID_CHANNELS = (("paid_search", 0.6), ("paid_social", 0.4))
COUNTRIES = (("GB", 0.5), ("IE", 0.1), ("DE", 0.15), ("FR", 0.1), ("NL", 0.15))

RECRUITERS = ("rec.alvarez", "rec.brennan", "rec.chen", "rec.dubois", "rec.eze")
DEPARTMENTS = ("engineering", "sales", "support", "finance", "operations")
HR_EARLY_LEAVE = 0.08
HR_EARLY_LEAVE_DIP = 0.40  # hires made Sep-Oct 2024 and Apr-Jun 2025
HR_DIP_MONTHS = ((2024, 9), (2024, 10), (2025, 4), (2025, 5), (2025, 6))

SQUADS: tuple[tuple[str, str], ...] = (
    ("payments", "checkout"),
    ("payments", "billing"),
    ("growth", "onboarding"),
    ("growth", "search"),
    ("platform", "infra"),
)
ENG_INCIDENT = 0.08
ENG_INCIDENT_DIP = 0.45
# (team, month of the sprint end) with the incident dip.
ENG_DIP = {("payments", (2024, 9)), ("payments", (2024, 10)), ("growth", (2025, 4)),
           ("growth", (2025, 5))}  # fmt: skip
ENG_ADOPTION_CLEAN = 5.0
ENG_ADOPTION_FAULTY = 0.5

RD_TEAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("patent", "ip_office", ("EP", "US", "CH")),
    ("regulatory", "devices", ("FDA", "EU-MDR", "Swissmedic")),
    ("regulatory", "diagnostics", ("FDA", "EU-IVDR")),
)
PRODUCTS = ("P-AX10", "P-BX20", "P-CX30", "P-DX40", "P-EX50")
RD_PASS = 0.82
RD_PASS_DIP = 0.35
# (team, month due) with the first-review dip.
RD_DIP = {(team, (y, m)) for team in ("devices", "diagnostics") for y, m in
          ((2025, 2), (2025, 3), (2025, 4), (2025, 5))} | {("ip_office", (2024, 7)),
                                                           ("ip_office", (2024, 8))}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _month_days(ym: tuple[int, int], weekdays_only: bool = False) -> list[date]:
    first = date(ym[0], ym[1], 1)
    days = []
    day = first
    while day.month == first.month:
        if not weekdays_only or day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant (working hours: never a DST gap)."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def _working_time(rng: random.Random, day: date, tz: ZoneInfo) -> datetime:
    return _at(day, rng.randint(8, 17), rng.randint(0, 59), tz) + timedelta(
        seconds=rng.randint(0, 59)
    )


def _month_index(ym: tuple[int, int]) -> int:
    return (ym[0] - 2024) * 12 + ym[1] - 1


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _seed_rng(seed: int, family: int) -> random.Random:
    return random.Random(seed * 7919 + family)


# ---------------------------------------------------------------------------------------------
# Marketing
# ---------------------------------------------------------------------------------------------
def _marketing(seed: int, tables: Tables) -> None:
    rng = _seed_rng(seed, 1)
    pieces: list[list[Any]] = []  # [author, team, channel, status, revisions, scheduled, at]
    for ym in MONTHS:
        n = CONTENT_RAMP.get(ym, rng.randint(27, 33))
        share = FIRST_TIME_RIGHT[_month_index(ym) + 1]
        # Stratified: exactly round(share x n) of the month's counted pieces need no revision.
        counted = [_pick(rng, CHANNELS[:-1]) for _ in range(n)]
        good = round(share * n)
        flags = [True] * good + [False] * (n - good)
        rng.shuffle(flags)
        days = _month_days(ym, weekdays_only=True)
        channels = counted + ["intranet"] * rng.randint(1, 3)
        flags += [rng.random() < 0.5 for _ in range(len(channels) - n)]
        for channel, first_time in zip(channels, flags, strict=True):
            author, team = rng.choice(AUTHORS)
            day = rng.choice(days)
            at = _working_time(rng, day, LONDON)
            revisions = 0 if first_time else rng.choice((1, 1, 1, 2, 2, 3))
            roll = rng.random()
            if channel == "intranet" or roll < 0.08:
                scheduled = None
            elif roll < 0.88:
                scheduled = day + timedelta(days=rng.choice((0, 0, 0, 1, 2, 3, 5)))
            else:
                scheduled = day - timedelta(days=rng.randint(1, 6))  # published late
                scheduled = max(scheduled, START_DATE)
            pieces.append([author, team, channel, "published", revisions, scheduled, at])
        # Not published: a cancelled piece and, some months, a stalled draft (late once due).
        for status in ("cancelled", "draft") if rng.random() < 0.6 else ("cancelled",):
            author, team = rng.choice(AUTHORS)
            day = rng.choice(days)
            pieces.append(
                [author, team, _pick(rng, CHANNELS[:-1]), status, rng.randint(0, 2), day, None]
            )
    # Drafts scheduled in January 2026: open, not yet due at as_of.
    for day in (date(2026, 1, 6), date(2026, 1, 8), date(2026, 1, 12), date(2026, 1, 20)):
        author, team = rng.choice(AUTHORS)
        pieces.append([author, team, _pick(rng, CHANNELS[:-1]), "draft", 1, day, None])
    pieces.sort(key=lambda p: (p[6] or AS_OF, p[5] or END_DATE, p[0]))
    rows: list[Row] = [(f"CP-{i:05d}", *p[:6], p[6]) for i, p in enumerate(pieces, start=1)]
    rows += [
        # excluded (cancelled): has a deadline, never due (a declared exclusion)
        ("CP-EDGE-CANCELLED", "ben.hughes", "brand", "blog", "cancelled", 1,
         date(2025, 5, 20), None),
        # excluded (internal_only): published, first time right, not counted
        ("CP-EDGE-INTRANET", "grace.wu", "product_marketing", "intranet", "published", 0,
         date(2025, 3, 4), _z("2025-03-04T08:00:00Z")),
        # not published, scheduled 2025-11-14: due and late
        ("CP-EDGE-LATEDRAFT", "dev.patel", "growth", "video", "draft", 2, date(2025, 11, 14),
         None),
        # scheduled 2025-06-10, published 23:59:59 BST that day: on time (boundary)
        ("CP-EDGE-ONBOUNDARY", "chloe.martin", "growth", "blog", "published", 0,
         date(2025, 6, 10), _z("2025-06-10T22:59:59Z")),
        # one second later = 00:00:00 BST on 11 June: late; its London date is 11 June
        ("CP-EDGE-PASTBOUNDARY", "chloe.martin", "growth", "blog", "published", 1,
         date(2025, 6, 10), _z("2025-06-10T23:00:00Z")),
        # scheduled 2026-01-15, still a draft: not yet due
        ("CP-EDGE-NOTYETDUE", "isla.reid", "brand", "newsletter", "draft", 0, date(2026, 1, 15),
         None),
    ]  # fmt: skip
    tables["mkt_content_pieces"] = rows
    _leads(rng, rows, tables)


def first_time_right_by_month(rows: Sequence[Row]) -> dict[tuple[int, int], float]:
    """Realised share of counted content (published, not intranet) with no revision."""
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for _, _, _, channel, status, revisions, _, at in rows:
        if status != "published" or channel == "intranet" or at is None or at >= AS_OF:
            continue
        local = at.astimezone(LONDON)
        counts[(local.year, local.month)][0] += revisions == 0
        counts[(local.year, local.month)][1] += 1
    return {ym: good / total for ym, (good, total) in counts.items()}


def _leads(rng: random.Random, content: Sequence[Row], tables: Tables) -> None:
    shares = first_time_right_by_month(content)
    leads: list[tuple[datetime, str, str, str, bool]] = []
    for ym in MONTHS:
        index = _month_index(ym)
        previous = shares.get(MONTHS[index - 1]) if index else FIRST_TIME_RIGHT[0]
        organic = round(LEADS_BASE + LEADS_PER_SHARE * previous + rng.gauss(0, LEADS_NOISE))
        paid = PAID_LEADS_PER_MONTH + rng.randint(-8, 8)
        start = datetime(ym[0], ym[1], 1, tzinfo=LONDON)
        end = datetime(ym[0] + ym[1] // 12, ym[1] % 12 + 1, 1, tzinfo=LONDON)
        span = int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
        for source, n in (("organic", organic), ("paid", paid)):
            for _ in range(n):
                at = start.astimezone(UTC) + timedelta(seconds=rng.randrange(span))
                channel = _pick(rng, ORGANIC_CHANNELS if source == "organic" else PAID_CHANNELS)
                leads.append((at, channel, source, _pick(rng, COUNTRIES), False))
        # One test lead a quarter (excluded): the CRM's own smoke test.
        if ym[1] % 3 == 0:
            at = _working_time(rng, date(ym[0], ym[1], 15), LONDON)
            leads.append((at, "direct", "organic", "GB", True))
    leads.sort()
    tables["mkt_leads"] = [(f"LD-{i:06d}", *lead) for i, lead in enumerate(leads, start=1)]


# ---------------------------------------------------------------------------------------------
# HR
# ---------------------------------------------------------------------------------------------
def _hr(seed: int, tables: Tables) -> None:
    rng = _seed_rng(seed, 2)
    hires: list[list[Any]] = []
    departures: list[tuple[str, str, date, str]] = []
    employee = 0
    for ym in MONTHS:
        for _ in range(rng.randint(18, 26)):
            day = rng.choice(_month_days(ym, weekdays_only=True))
            department = rng.choice(DEPARTMENTS)
            employment = "contractor" if rng.random() < 0.08 else "permanent"
            roll = rng.random()
            hired = None
            if roll < 0.05:
                status = "withdrawn"
                target = day + timedelta(days=rng.randint(0, 30))
            elif roll < 0.97:
                status = "filled"
                hired = day  # 18 % after the target start date
                late = rng.random() < 0.18
                target = day - timedelta(days=rng.randint(1, 25) if late else -rng.randint(0, 20))
            else:
                status = "open"  # late once its target start date has passed
                target = day + timedelta(days=rng.randint(0, 30))
            opened = target - timedelta(days=rng.randint(45, 75))
            left = None
            employee_id = None
            if hired is not None:
                employee += 1
                employee_id = f"E{100000 + employee}"
                dip = (hired.year, hired.month) in HR_DIP_MONTHS
                if rng.random() < (HR_EARLY_LEAVE_DIP if dip else HR_EARLY_LEAVE):
                    left = hired + timedelta(days=rng.randint(25, 75))
                    reason = "end_of_probation" if rng.random() < 0.4 else "resignation"
                elif rng.random() < 0.12:
                    left = hired + timedelta(days=rng.randint(120, 600))
                    reason = "resignation"
                if left is not None and left >= AS_OF.date():
                    left = None
                if left is not None:
                    departures.append((employee_id, department, left, reason))
            recruiter = rng.choice(RECRUITERS)
            hires.append(
                [recruiter, department, employment, status, opened, target, hired, employee_id,
                 left]
            )  # fmt: skip
    hires.sort(key=lambda h: (h[4], h[5], h[0], h[1]))
    rows: list[Row] = [
        (f"H-{i:05d}", f"REQ-{i + 4000:05d}", *h) for i, h in enumerate(hires, start=1)
    ]
    rows += [
        # excluded (requisition_withdrawn): past target, never late
        ("H-EDGE-WITHDRAWN", "REQ-EDGE-1", "rec.chen", "sales", "permanent", "withdrawn",
         date(2025, 2, 3), date(2025, 4, 1), None, None, None),
        # still open, target start 2025-10-01: due and late
        ("H-EDGE-OPENLATE", "REQ-EDGE-2", "rec.eze", "engineering", "permanent", "open",
         date(2025, 7, 14), date(2025, 10, 1), None, None, None),
        # hired on the target start date: on time (boundary)
        ("H-EDGE-ONTARGET", "REQ-EDGE-3", "rec.alvarez", "support", "permanent", "filled",
         date(2025, 3, 3), date(2025, 5, 5), date(2025, 5, 5), "E-EDGE-3", None),
        # hired the day after the target: late
        ("H-EDGE-DAYLATE", "REQ-EDGE-4", "rec.alvarez", "support", "permanent", "filled",
         date(2025, 3, 3), date(2025, 5, 5), date(2025, 5, 6), "E-EDGE-4", None),
        # left on day 90 exactly: not retained (left_on > hired_on + 90 fails)
        ("H-EDGE-LEFTDAY90", "REQ-EDGE-5", "rec.brennan", "finance", "permanent", "filled",
         date(2024, 8, 1), date(2024, 10, 1), date(2024, 9, 30), "E-EDGE-5",
         date(2024, 12, 29)),
        # excluded (contractor)
        ("H-EDGE-CONTRACTOR", "REQ-EDGE-6", "rec.dubois", "operations", "contractor", "filled",
         date(2025, 1, 6), date(2025, 3, 1), date(2025, 2, 24), "E-EDGE-6", None),
        # open, target 2026-02-02: not yet due
        ("H-EDGE-NOTYETDUE", "REQ-EDGE-7", "rec.chen", "engineering", "permanent", "open",
         date(2025, 11, 17), date(2026, 2, 2), None, None, None),
    ]  # fmt: skip
    departures.append(("E-EDGE-5", "finance", date(2024, 12, 29), "resignation"))
    # Tenured staff leaving (not in hr_hires): ~12 a month, plus internal transfers (excluded).
    staff = 0
    for ym in MONTHS:
        days = _month_days(ym, weekdays_only=True)
        for _ in range(_poisson(rng, 12.0)):
            staff += 1
            reason = _pick(rng, (("resignation", 0.7), ("dismissal", 0.1), ("retirement", 0.2)))
            departures.append((f"E{10000 + staff:06d}", rng.choice(DEPARTMENTS),
                               rng.choice(days), reason))  # fmt: skip
        if rng.random() < 0.4:
            staff += 1
            departures.append((f"E{10000 + staff:06d}", rng.choice(DEPARTMENTS),
                               rng.choice(days), "internal_transfer"))  # fmt: skip
    departures.sort(key=lambda d: (d[2], d[0]))
    tables["hr_hires"] = rows
    tables["hr_departures"] = [(f"LV-{i:05d}", *d) for i, d in enumerate(departures, start=1)]


# ---------------------------------------------------------------------------------------------
# Engineering
# ---------------------------------------------------------------------------------------------
def _engineering(seed: int, tables: Tables) -> None:
    rng = _seed_rng(seed, 3)
    deployments: list[list[Any]] = []
    feature = 0
    sprint_start = START_DATE
    sprint = 0
    while sprint_start <= END_DATE:
        sprint += 1
        sprint_id = f"SPR-{sprint:03d}"
        sprint_end = sprint_start + timedelta(days=11)  # Friday of the second week
        for team, squad in SQUADS:
            for _ in range(rng.randint(1, 4)):
                feature += 1
                key = f"FEAT-{1000 + feature}"
                roll = rng.random()
                at = None
                status = "pending"
                if roll < 0.02:
                    status = "cancelled"
                elif roll < 0.95:
                    if roll < 0.80:
                        day = sprint_start + timedelta(days=rng.randint(2, 11))
                    else:
                        day = sprint_end + timedelta(days=rng.randint(1, 6))
                    while day.weekday() >= 5:
                        day += timedelta(days=1)
                    at = _working_time(rng, day, ZoneInfo("UTC"))
                    status = "succeeded" if at < AS_OF else "pending"
                    at = at if status == "succeeded" else None
                dip = (team, (sprint_end.year, sprint_end.month)) in ENG_DIP
                incident = at is not None and rng.random() < (
                    ENG_INCIDENT_DIP if dip else ENG_INCIDENT
                )
                rolled_back = at is not None and rng.random() < (0.5 if incident else 0.02)
                environment = "production"
                deployments.append(
                    [key, team, squad, sprint_id, sprint_end, environment, status, at, incident,
                     rolled_back]
                )  # fmt: skip
                if at is not None and rng.random() < 0.06:
                    # The same feature on staging first (excluded: non_production).
                    staging = at - timedelta(hours=rng.randint(4, 48))
                    deployments.append(
                        [key, team, squad, sprint_id, sprint_end, "staging", "succeeded", staging,
                         False, False]
                    )  # fmt: skip
        sprint_start += timedelta(days=14)
    deployments.sort(key=lambda d: (d[4], d[0], d[5]))
    rows: list[Row] = [(f"DEP-{i:05d}", *d) for i, d in enumerate(deployments, start=1)]
    rows += [
        # excluded (cancelled)
        ("DEP-EDGE-CANCELLED", "FEAT-EDGE-1", "growth", "search", "SPR-036",
         date(2025, 5, 16), "production", "cancelled", None, False, False),
        # not deployed, sprint ended 2025-11-14: due and late
        ("DEP-EDGE-CARRYOVER", "FEAT-EDGE-2", "payments", "billing", "SPR-049",
         date(2025, 11, 14), "production", "pending", None, False, False),
        # deployed 23:59:59 UTC on the sprint end date: on time (boundary)
        ("DEP-EDGE-ONBOUNDARY", "FEAT-EDGE-3", "platform", "infra", "SPR-040",
         date(2025, 7, 11), "production", "succeeded", _z("2025-07-11T23:59:59Z"), False,
         False),
        # one second later, 00:00:00 UTC the next day: late
        ("DEP-EDGE-PASTBOUNDARY", "FEAT-EDGE-4", "platform", "infra", "SPR-040",
         date(2025, 7, 11), "production", "succeeded", _z("2025-07-12T00:00:00Z"), True,
         True),
        # excluded (non_production)
        ("DEP-EDGE-STAGING", "FEAT-EDGE-3", "platform", "infra", "SPR-040",
         date(2025, 7, 11), "staging", "succeeded", _z("2025-07-10T10:00:00Z"), False, False),
        # sprint ends 2026-01-09: not yet due
        ("DEP-EDGE-NOTYETDUE", "FEAT-EDGE-5", "growth", "onboarding", "SPR-053",
         date(2026, 1, 9), "production", "pending", None, False, False),
    ]  # fmt: skip
    tables["eng_deployments"] = rows
    _adoption(rng, rows, tables)


def _adoption(rng: random.Random, deployments: Sequence[Row], tables: Tables) -> None:
    events: list[tuple[datetime, str, str, str, bool]] = []
    for row in deployments:
        _, key, _, _, _, _, environment, status, at, incident, rolled_back = row
        if environment != "production" or status != "succeeded":
            continue
        n = _poisson(rng, ENG_ADOPTION_FAULTY if incident or rolled_back else ENG_ADOPTION_CLEAN)
        for _ in range(n):
            used = at + timedelta(seconds=rng.randrange(60 * 86400))
            if used >= AS_OF:
                continue
            tier = _pick(rng, (("free", 0.5), ("pro", 0.35), ("enterprise", 0.15)))
            internal = rng.random() < 0.03
            account = f"ACC-{rng.randint(1, 4000):05d}"
            events.append((used, key, account, tier, internal))
    # The tail of features deployed before 2024 (not in the export): fading over 60 days.
    for offset in range(60):
        day = START_DATE + timedelta(days=offset)
        for _ in range(_poisson(rng, 3.6 * (60 - offset) / 60)):
            used = datetime.combine(day, time(), tzinfo=UTC) + timedelta(
                seconds=rng.randrange(86400)
            )
            tier = _pick(rng, (("free", 0.5), ("pro", 0.35), ("enterprise", 0.15)))
            key = f"FEAT-0{rng.randint(850, 999)}"
            events.append((used, key, f"ACC-{rng.randint(1, 4000):05d}", tier, False))
    events.sort()
    tables["eng_feature_adoption"] = [
        (f"ADP-{i:06d}", key, account, tier, internal, used)
        for i, (used, key, account, tier, internal) in enumerate(events, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# R&D and compliance
# ---------------------------------------------------------------------------------------------
def _rd(seed: int, tables: Tables) -> None:
    rng = _seed_rng(seed, 4)
    filings: list[list[Any]] = []
    for ym in MONTHS:
        days = _month_days(ym, weekdays_only=True)
        for kind, team, jurisdictions in RD_TEAMS:
            for _ in range(rng.randint(4, 7)):
                due = rng.choice(days)
                roll = rng.random()
                lodged = None
                status = "in_preparation"
                if roll < 0.03:
                    status = "withdrawn"
                elif roll < 0.96:
                    offset = -rng.randint(0, 20) if roll < 0.84 else rng.randint(1, 15)
                    day = max(due + timedelta(days=offset), START_DATE)
                    while day.weekday() >= 5:
                        day += timedelta(days=1)
                    lodged = _working_time(rng, day, ZURICH)
                    status = "lodged" if lodged < AS_OF else "in_preparation"
                    lodged = lodged if status == "lodged" else None
                passed = None
                if lodged is not None:
                    dip = (team, ym) in RD_DIP
                    passed = rng.random() < (RD_PASS_DIP if dip else RD_PASS)
                filings.append(
                    [kind, team, rng.choice(jurisdictions), rng.choice(PRODUCTS), status, due,
                     lodged, passed]
                )  # fmt: skip
    filings.sort(key=lambda f: (f[5], f[1], f[6] or AS_OF, f[2]))
    rows: list[Row] = [(f"SUB-{i:05d}", *f) for i, f in enumerate(filings, start=1)]
    rows += [
        # excluded (withdrawn)
        ("SUB-EDGE-WITHDRAWN", "regulatory", "devices", "FDA", "P-BX20", "withdrawn",
         date(2025, 4, 30), None, None),
        # not lodged, due 2025-10-15: due and late
        ("SUB-EDGE-OVERDUE", "patent", "ip_office", "EP", "P-CX30", "in_preparation",
         date(2025, 10, 15), None, None),
        # lodged 23:59:59 Zurich (CEST) on the due date: on time (boundary)
        ("SUB-EDGE-ONBOUNDARY", "regulatory", "diagnostics", "EU-IVDR", "P-DX40", "lodged",
         date(2025, 9, 30), _z("2025-09-30T21:59:59Z"), True),
        # 00:00:00 Zurich the next day: late
        ("SUB-EDGE-PASTBOUNDARY", "regulatory", "diagnostics", "EU-IVDR", "P-DX40", "lodged",
         date(2025, 9, 30), _z("2025-09-30T22:00:00Z"), False),
        # lodged, first review not yet known: counted, not first-time pass (null is not met)
        ("SUB-EDGE-REVIEWPENDING", "patent", "ip_office", "US", "P-EX50", "lodged",
         date(2025, 12, 19), _z("2025-12-18T09:30:00Z"), None),
        # due 2026-01-30, in preparation: not yet due
        ("SUB-EDGE-NOTYETDUE", "regulatory", "devices", "Swissmedic", "P-AX10",
         "in_preparation", date(2026, 1, 30), None, None),
    ]  # fmt: skip
    tables["rd_submissions"] = rows
    approvals: list[tuple[datetime, str, str, str, str]] = []
    authority = {"EP": "EPO", "US": "USPTO", "CH": "IGE"}
    for row in rows:
        sub_id, kind, _, jurisdiction, product, status, _, lodged, passed = row
        if status != "lodged" or lodged is None:
            continue
        if passed:
            if rng.random() >= 0.9:
                continue
            at = lodged + timedelta(days=rng.randint(75, 105), minutes=rng.randint(0, 600))
        else:
            if rng.random() >= 0.4:
                continue
            at = lodged + timedelta(days=rng.randint(200, 300), minutes=rng.randint(0, 600))
        if at >= AS_OF:
            continue
        decision = "grant" if kind == "patent" else "approval"
        approvals.append((at, sub_id, product, authority.get(jurisdiction, jurisdiction),
                          decision))  # fmt: skip
    # Decisions on filings lodged before 2024 (their submissions are not in the export).
    for ym in MONTHS[:9]:
        for _ in range(rng.randint(10, 13) if ym <= (2024, 3) else rng.randint(0, 2)):
            at = _working_time(rng, rng.choice(_month_days(ym, weekdays_only=True)), ZURICH)
            approvals.append((at, "", rng.choice(PRODUCTS), "FDA", "approval"))
    approvals.sort()
    tables["rd_approvals"] = [
        (f"APR-{i:05d}", sub or None, product, auth, decision, at)
        for i, (at, sub, product, auth, decision) in enumerate(approvals, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
def generate(seed: int = 42) -> Tables:
    """All team tables as lists of rows (python values), sorted by key."""
    tables: Tables = {}
    _marketing(seed, tables)
    _hr(seed, tables)
    _engineering(seed, tables)
    _rd(seed, tables)
    return {name: sorted(tables[name], key=lambda r: r[0]) for name in COLUMNS}


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write(out_dir: Path, seed: int = 42) -> dict[str, int]:
    """Write ``<table>.csv`` for every team table; returns row counts."""
    return write_csv_tables(generate(seed), COLUMNS, out_dir, _format)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.demo.teams",
        description="Generate the deterministic demo tables of the declared team units.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("seeds/raw"), help="output directory (default: seeds/raw)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--quiet", action="store_true", help="no summary")
    args = parser.parse_args(argv)
    counts = write(args.out, args.seed)
    if not args.quiet:
        for name, count in counts.items():
            print(f"{name:28s} {count:>8d}")
        print(f"{'total':28s} {sum(counts.values()):>8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
