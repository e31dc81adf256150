"""One GE suite per declared unit of output, generated from the dbt manifest alone.

A unit declared in YAML (docs/adding_a_kpi.md) rides, normalised, in the manifest under
``nodes['model.output_kpis.int_units__declared_units'].config.meta.output_kpis_units``. For
each unit this module writes suite ``units__<unit_id>`` on model ``int_units__declared_units``:
SQL rules (``unexpected_rows_expectation``, pushed down) filtered to the unit's rows that
re-derive the definition row by row from the RAW relation the declaration names (joined on the
key as trimmed text), independently of the model's SQL: every raw row accounted for, reasons,
the counting rule, quality, the as_of rule, the local completion date and the deadline.

Queries avoid ``{`` ``}`` other than ``{batch}`` (GE formats them with ``str.format``). A query
that joins aliases the batch itself (``{batch} as m``); one that does not lets GE alias it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpi_tooling.errors import DeclarationError
from kpi_tooling.ge.suites import SuiteSpec

UNITS_MODEL = "int_units__declared_units"
UNITS_NODE = f"model.output_kpis.{UNITS_MODEL}"
SUITE_PREFIX = "units__"
UNEXPECTED_ROWS = "unexpected_rows_expectation"
DIALECTS = ("duckdb", "postgres", "spark")

PACKAGE_REASONS = ("not_completed", "after_as_of", "not_counted")
KEY_QUARANTINE = ("conflicting_duplicate_key", "duplicate_row")

# Shapes the checks read (no braces: GE formats the query). A text matching none of them is
# left to the model's quarantine and not re-derived here.
_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_WALL = _DAY + "[ T][0-9][0-9]:[0-9][0-9](:[0-9][0-9]([.][0-9]+)?)?"
_OFFSET = "(Z|[+-][0-9][0-9](:?[0-9][0-9])?)"
_JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str, quote: str = '"') -> str:
    return quote + name.replace(quote, quote * 2) + quote


def _in_list(values: list[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(value) for value in values) + ")"


@dataclass(frozen=True)
class _Dialect:
    """The few expressions that differ between DuckDB, Postgres and Spark SQL.

    Spark has no time zone in its timestamps: an instant is a ``timestamp`` read in the
    session zone, which the spark target of the profile sets to UTC, so a "timestamp with time
    zone" below is a UTC timestamp there (``to_utc_timestamp`` / ``from_utc_timestamp``)."""

    name: str

    @property
    def quote(self) -> str:
        """The identifier quote: a backtick on Spark (a double quote is a string there)."""
        return "`" if self.name == "spark" else '"'

    @property
    def text_type(self) -> str:
        # Spark has no varchar without a length.
        return "string" if self.name == "spark" else "varchar"

    def matches(self, text: str, pattern: str) -> str:
        anchored = _quote("^(?:" + pattern + ")$")
        if self.name == "duckdb":
            return f"regexp_matches({text}, {anchored})"
        if self.name == "spark":
            return f"({text} rlike {anchored})"
        return f"({text} ~ {anchored})"

    def cast(self, text: str, type_name: str) -> str:
        # Postgres has no try_cast; every cast sits behind a shape check in a case. Spark's
        # ANSI mode raises on a bad cast, so it gets try_cast too.
        if self.name == "spark" and type_name == "timestamptz":
            type_name = "timestamp"  # an instant, in the session's UTC
        function = "cast" if self.name == "postgres" else "try_cast"
        return f"{function}({text} as {type_name})"

    def wall_in_zone(self, wall: str, zone: str) -> str:
        """A wall time (timestamp) read in a zone (SQL: a quoted name or a column) ->
        timestamp with time zone."""
        if self.name == "duckdb":
            return f"timezone({zone}, {wall})"
        if self.name == "spark":
            return f"to_utc_timestamp({wall}, {zone})"
        return f"({wall} at time zone {zone})"

    def local_wall(self, instant: str, zone: str) -> str:
        """A timestamp with time zone -> the wall time in a zone (SQL) (timestamp)."""
        if self.name == "duckdb":
            return f"timezone({zone}, {instant})"
        if self.name == "spark":
            return f"from_utc_timestamp({instant}, {zone})"
        return f"({instant} at time zone {zone})"

    def plus_ms(self, timestamp: str, milliseconds: int) -> str:
        if self.name == "spark":
            return f"timestamp_millis(unix_millis({timestamp}) + {milliseconds})"
        return f"({timestamp} + interval '{milliseconds} milliseconds')"

    def whole_row(self, alias: str) -> str:
        """The whole row of a table alias as one value (for count(distinct ...))."""
        return f"struct({alias}.*)" if self.name == "spark" else alias

    def raw_text(self, column: str) -> str:
        """A raw value as the model reads it: trimmed text, null when blank."""
        return f"nullif(trim(cast({_ident(column, self.quote)} as {self.text_type})), '')"


def _predicate(condition: str | None) -> str:
    """A declared condition, null as false; braces doubled (GE formats the query)."""
    text = (condition or "true").replace("{", "{{").replace("}", "}}")
    return f"coalesce(({text}), false)"


@dataclass(frozen=True)
class _Unit:
    """One normalised declaration, with the SQL pieces its rules share."""

    decl: dict[str, Any]
    raw_sql: str
    sql: _Dialect

    @property
    def unit_id(self) -> str:
        return self.decl["unit_id"]

    @property
    def zone(self) -> str:
        """The unit's zone as SQL: its name, or each raw row's zone column (the declared
        default when the row has none)."""
        default = _quote(self.decl.get("time_zone") or "UTC")
        if self.decl.get("time_zone_column"):
            return f"coalesce(r.raw__zone, {default})"
        return default

    @property
    def zone_words(self) -> str:
        column = self.decl.get("time_zone_column")
        name = self.decl.get("time_zone") or "UTC"
        return f"the row's {column} (default {name})" if column else name

    @property
    def naive(self) -> str:
        return self.decl.get("naive_timestamps") or "quarantine"

    @property
    def where_unit(self) -> str:
        return f"unit_id = {_quote(self.unit_id)}"

    def kpi(self, measure: str | None = None) -> str:
        kpis = self.decl.get("kpis") or []
        for kpi in kpis:
            if measure and kpi.get("measure") == measure:
                return kpi["kpi_id"]
        return kpis[0]["kpi_id"] if kpis else ""

    # -- raw side ---------------------------------------------------------------------------

    def raw_subquery(self) -> str:
        """The raw relation, one row per raw row: key, texts and the declared predicates."""
        decl = self.decl
        declared = "case"
        for item in decl.get("excluded") or []:
            declared += f" when {_predicate(item['when'])} then {_quote(item['reason'])}"
        declared += " end" if decl.get("excluded") else " when false then '' end"
        deadline = decl.get("deadline")
        quality = decl.get("quality")
        zone_column = decl.get("time_zone_column")
        text = self.sql.raw_text
        no_text = f"cast(null as {self.sql.text_type})"
        zone_text = text(zone_column) if zone_column else no_text
        columns = [
            f"{text(decl['key'])} as raw__key",
            f"{text(decl['completed_at'])} as raw__completed",
            f"{text(deadline['column']) if deadline else no_text} as raw__deadline",
            f"{_predicate(decl.get('counts_when'))} as raw__counts",
            f"{_predicate(quality['when'] if quality else 'false')} as raw__quality",
            f"{declared} as raw__declared_reason",
            f"{zone_text} as raw__zone",
        ]
        return f"(select {', '.join(columns)} from {self.raw_sql})"

    def instant(self, text: str) -> str:
        """Raw completion/deadline text -> timestamp with time zone, by its shape: a date is
        its local midnight, an offset names the instant, a wall time without one is read as
        naive_timestamps says (utc, local; null when quarantined)."""
        sql = self.sql
        day = sql.cast(sql.cast(text, "date"), "timestamp")
        lines = [
            f"when {sql.matches(text, _DAY)} then {sql.wall_in_zone(day, self.zone)}",
            f"when {sql.matches(text, _WALL + _OFFSET)} then {sql.cast(text, 'timestamptz')}",
        ]
        if self.naive in ("utc", "local"):
            zone = _quote("UTC") if self.naive == "utc" else self.zone
            wall = sql.cast(text, "timestamp")
            lines.append(f"when {sql.matches(text, _WALL)} then {sql.wall_in_zone(wall, zone)}")
        return "case " + " ".join(lines) + " end"

    def local_date(self, text: str) -> str:
        """Raw text -> its local date: a date as written, an instant read in the unit's zone."""
        sql = self.sql
        local = sql.local_wall(self.instant(text), self.zone)
        return (
            f"case when {sql.matches(text, _DAY)} then {sql.cast(text, 'date')}"
            f" else cast({local} as date) end"
        )

    def checkable(self, text: str) -> str:
        """The shapes re-derived: a date, a timestamp with an offset (and a wall time without
        one when naive_timestamps is utc or local)."""
        sql = self.sql
        shapes = [sql.matches(text, _DAY), sql.matches(text, _WALL + _OFFSET)]
        if self.naive in ("utc", "local"):
            shapes.append(sql.matches(text, _WALL))
        return "(" + " or ".join(shapes) + ")"

    def checkable_words(self) -> str:
        words = "a date or a timestamp with a UTC offset (Z or +HH:MM)"
        if self.naive in ("utc", "local"):
            read = "UTC" if self.naive == "utc" else f"local time in {self.zone_words}"
            words += f", or a timestamp without one (read as {read}: naive_timestamps)"
        return words

    def joined(self) -> str:
        """The unit's model rows joined to their raw row (trimmed-text key), with the values
        re-derived from it. Every cast sits in a case on a non-quarantined row, so a raw value
        the model quarantined never reaches a Postgres cast."""
        sql = self.sql
        live = "m.disposition <> 'quarantined'"
        as_of = sql.wall_in_zone("m.as_of_at", _quote("UTC"))
        as_of_day = f"cast({sql.local_wall(as_of, self.zone)} as date)"
        completion = "r.raw__completed"
        after = (
            f"case when {sql.matches(completion, _DAY)} then {sql.cast(completion, 'date')} > "
            f"{as_of_day} else {self.instant(completion)} > {as_of} end"
        )
        tolerance_ms = 0
        if self.decl.get("deadline"):
            tolerance_ms = round(float(self.decl["deadline"].get("tolerance_minutes") or 0) * 60000)
        deadline = "r.raw__deadline"
        next_midnight = sql.wall_in_zone(
            f"cast({sql.cast(deadline, 'date')} + 1 as timestamp)", self.zone
        )
        closes = (
            f"case when {sql.matches(deadline, _DAY)} then {next_midnight} "
            f"else {self.instant(deadline)} end"
        )
        checks = {
            "expected_completed_at": sql.local_wall(self.instant(completion), _quote("UTC")),
            "expected_completed_date": self.local_date(completion),
            "completion_checkable": self.checkable(completion),
            "expected_after_as_of": after,
            "expected_deadline_at": sql.plus_ms(
                sql.local_wall(closes, _quote("UTC")), tolerance_ms
            ),
            "expected_deadline_date": self.local_date(deadline),
            "deadline_checkable": self.checkable(deadline),
            "deadline_is_date": sql.matches(deadline, _DAY),
        }
        guarded = ", ".join(
            f"case when {live} then {expr} end as {name}" for name, expr in checks.items()
        )
        return (
            "(select m.*, r.raw__completed, r.raw__deadline, r.raw__counts, r.raw__quality, "
            f"r.raw__declared_reason, {guarded} from {{batch}} as m inner join "
            f"{self.raw_subquery()} as r on r.raw__key = m.unit_key "
            f"where m.{self.where_unit}) as checked"
        )


def _rule(query: str, rule: str, kpi: str) -> dict[str, Any]:
    joins = bool(_JOIN.search(query))
    if joins != ("{batch} as m" in query):
        raise AssertionError(f"a query joins exactly when it aliases the batch: {query}")
    return {
        "type": UNEXPECTED_ROWS,
        "kwargs": {"unexpected_rows_query": query},
        "meta": {"rule": rule, "kpi": kpi},
    }


def _key_rules(unit: _Unit) -> list[dict[str, Any]]:
    key = unit.sql.raw_text(unit.decl["key"])
    kpi = unit.kpi()
    uid = unit.unit_id
    accounted = (
        "select * from (select count(*) as unit_rows, "
        "count(case when disposition = 'counted' then 1 end) as counted_rows, "
        "count(case when disposition = 'excluded' then 1 end) as excluded_rows, "
        "count(case when disposition = 'quarantined' then 1 end) as quarantined_rows, "
        "count(case when reason = 'null_key' then 1 end) as null_key_rows, "
        f"(select count(*) from {unit.raw_sql}) as raw_rows, "
        f"(select count(*) from {unit.raw_sql} where {key} is null) as raw_null_key_rows "
        f"from {{batch}} where {unit.where_unit}) as accounted "
        "where unit_rows <> raw_rows "
        "or counted_rows + excluded_rows + quarantined_rows <> raw_rows "
        "or null_key_rows <> raw_null_key_rows"
    )
    # raw copies of a key, and how many of them differ (the whole raw row compared, nulls
    # alike: no text fingerprint)
    copies = (
        "select m.unit_key from {batch} as m inner join "
        f"(select {key} as raw__key, count(*) as raw__copies, "
        f"count(distinct {unit.sql.whole_row('raw__row')}) as raw__versions "
        f"from {unit.raw_sql} as raw__row "
        f"group by {key}) as r on r.raw__key = m.unit_key where m.{unit.where_unit} "
        "group by m.unit_key having count(*) <> max(r.raw__copies) "
        "or count(case when m.disposition <> 'quarantined' then 1 end) > 1 "
        "or (max(r.raw__versions) > 1 and count(case when m.reason = "
        "'conflicting_duplicate_key' then 1 end) <> max(r.raw__copies)) "
        "or (max(r.raw__versions) = 1 and count(case when m.reason = 'duplicate_row' then 1 end) "
        "<> max(r.raw__copies) - 1) "
        "or (max(r.raw__versions) = 1 and count(case when m.reason = "
        "'conflicting_duplicate_key' then 1 end) > 0)"
    )
    unique = (
        f"select unit_key from {{batch}} where {unit.where_unit} and disposition <> 'quarantined' "
        "group by unit_key having count(*) > 1"
    )
    return [
        _rule(
            unique,
            f"{uid}: unit_key is unique among the rows not quarantined (one unit per "
            f"{unit.decl['key']})",
            kpi,
        ),
        _rule(
            accounted,
            f"{uid}: every raw row of {unit.decl['relation'].get('text', '')} is accounted for: "
            "as many unit rows as raw rows, counted + excluded + quarantined = raw rows, and "
            f"the raw rows with a blank {unit.decl['key']} are the rows quarantined null_key",
            kpi,
        ),
        _rule(
            copies,
            f"{uid}: a raw {unit.decl['key']} written n times has n unit rows and at most one "
            "not quarantined; when the n raw rows are not all identical every copy is "
            "quarantined conflicting_duplicate_key, when they are n - 1 are duplicate_row (a "
            "key written once: none)",
            kpi,
        ),
    ]


def _reason_rules(unit: _Unit) -> list[dict[str, Any]]:
    kpi = unit.kpi()
    uid = unit.unit_id
    declared = [item["reason"] for item in unit.decl.get("excluded") or []]
    quarantine = ["null_key", *KEY_QUARANTINE, "uncastable_value", "implausible_date"]
    if unit.naive == "quarantine":
        quarantine.append("timestamp_without_time_zone")
    excluded = [*declared, *PACKAGE_REASONS]
    presence = (
        f"select * from {{batch}} where {unit.where_unit} and (case when disposition = "
        "'counted' then reason is not null else reason is null end "
        "or is_counted is distinct from (disposition = 'counted'))"
    )
    allowed = (
        f"select * from {{batch}} where {unit.where_unit} and not coalesce("
        "(disposition = 'counted' and reason is null) "
        f"or (disposition = 'excluded' and reason in {_in_list(excluded)}) "
        f"or (disposition = 'quarantined' and reason in {_in_list(quarantine)}), false)"
    )
    return [
        _rule(
            presence,
            f"{uid}: every row not counted has a reason, every counted row none, and is_counted "
            "is true exactly on the counted rows",
            kpi,
        ),
        _rule(
            allowed,
            f"{uid}: disposition is counted, excluded or quarantined; an excluded row's reason "
            f"is one of {', '.join(excluded)}; a quarantined row's one of {', '.join(quarantine)}",
            kpi,
        ),
    ]


def _counting_rules(unit: _Unit) -> list[dict[str, Any]]:
    kpi = unit.kpi()
    uid = unit.unit_id
    decl = unit.decl
    counts = decl.get("counts_when") or "true"
    declared = [item["reason"] for item in decl.get("excluded") or []]
    base = f"select * from {unit.joined()} where disposition <> 'quarantined' and "
    should_count = (
        "raw__counts and raw__declared_reason is null and raw__completed is not null "
        "and not coalesce(expected_after_as_of, false)"
    )
    rules = [
        _rule(
            base + f"(disposition = 'counted') <> ({should_count})",
            f"{uid}: a row not quarantined is counted exactly when its raw row has counts_when "
            f"({counts}) true, no declared exclusion true, a non-blank {decl['completed_at']} "
            "and a completion no later than as_of",
            kpi,
        )
    ]
    if declared:
        rules.append(
            _rule(
                base + f"(raw__declared_reason is not null or reason in {_in_list(declared)}) "
                "and reason is distinct from raw__declared_reason",
                f"{uid}: a row is excluded with declared reason r exactly when r's predicate is "
                "true on its raw row and no earlier declared one is ("
                + "; ".join(f"{item['reason']}: {item['when']}" for item in decl["excluded"])
                + ")",
                kpi,
            )
        )
    readable = (
        "(raw__completed is not null and not coalesce(completion_checkable "
        "and expected_completed_at is not null, false)) or (raw__deadline is not null and not "
        "coalesce(deadline_checkable and expected_deadline_at is not null, false))"
    )
    deadline = decl.get("deadline")
    rules += [
        _rule(
            base + f"({readable})",
            f"{uid}: a row not quarantined has a raw {decl['completed_at']}"
            + (f" and {deadline['column']}" if deadline else "")
            + f" that is blank or {unit.checkable_words()}, and readable as such (anything "
            "else is quarantined uncastable_value or timestamp_without_time_zone)",
            kpi,
        ),
        _rule(
            base + "raw__declared_reason is null and "
            "coalesce(reason = 'not_completed', false) <> (raw__completed is null)",
            f"{uid}: a row with no declared exclusion is excluded not_completed exactly when "
            f"its raw {decl['completed_at']} is null or blank",
            kpi,
        ),
        _rule(
            base + "reason = 'not_counted' and raw__counts",
            f"{uid}: a row excluded not_counted has counts_when ({counts}) not true on its raw row",
            kpi,
        ),
    ]
    return rules


def _quality_rules(unit: _Unit) -> list[dict[str, Any]]:
    quality = unit.decl.get("quality")
    if not quality:
        return []
    query = (
        f"select * from {unit.joined()} where (disposition = 'counted' "
        "and meets_quality is distinct from raw__quality) "
        "or (disposition <> 'counted' and meets_quality is not null)"
    )
    rule = (
        f"{unit.unit_id}: a counted row meets_quality exactly when the quality rule "
        f"({quality['when']}: {quality.get('means', '')}) is true on its raw row (null counts "
        "as false); a row not counted has meets_quality null"
    )
    return [_rule(query, rule, unit.kpi("quality_rate"))]


def _as_of_rules(unit: _Unit) -> list[dict[str, Any]]:
    kpi = unit.kpi()
    uid = unit.unit_id
    completed = unit.decl["completed_at"]
    counted = (
        f"select * from {unit.joined()} where disposition = 'counted' and "
        "(coalesce(expected_after_as_of, false) or completed_at > as_of_at or as_of_at is null)"
    )
    after = (
        f"select * from {unit.joined()} where disposition <> 'quarantined' and "
        "raw__declared_reason is null and raw__completed is not null and "
        "coalesce(reason = 'after_as_of', false) <> coalesce(expected_after_as_of, false)"
    )
    return [
        _rule(
            counted,
            f"{uid}: no counted row completes after as_of (its raw {completed}, or its "
            "completed_at, is no later than as_of_at; a date no later than as_of's local date)",
            kpi,
        ),
        _rule(
            after,
            f"{uid}: a completed row with no declared exclusion is excluded after_as_of exactly "
            f"when its raw {completed} is after as_of (a date: after as_of's date in "
            f"{unit.zone_words})",
            kpi,
        ),
    ]


def _date_rules(unit: _Unit) -> list[dict[str, Any]]:
    kpi = unit.kpi()
    uid = unit.unit_id
    completed = unit.decl["completed_at"]
    base = (
        f"select * from {unit.joined()} where disposition <> 'quarantined' and "
        "raw__completed is not null and completion_checkable and "
    )
    rows = f"checked on rows whose raw {completed} is {unit.checkable_words()}"
    return [
        _rule(
            base + "completed_date is distinct from expected_completed_date",
            f"{uid}: completed_date is the raw {completed} read in time zone {unit.zone_words} (a "
            f"date as written); {rows}",
            kpi,
        ),
        _rule(
            base + "completed_at is distinct from expected_completed_at",
            f"{uid}: completed_at is the instant of the raw {completed} in UTC (a date: its "
            f"local midnight in {unit.zone_words}); {rows}",
            kpi,
        ),
    ]


def _deadline_rules(unit: _Unit) -> list[dict[str, Any]]:
    deadline = unit.decl.get("deadline")
    if not deadline:
        return []
    kpi = unit.kpi("on_time_rate")
    uid = unit.unit_id
    column = deadline["column"]
    tolerance = deadline.get("tolerance_minutes") or 0
    dates = (
        f"select * from {unit.joined()} where disposition <> 'quarantined' and "
        "((raw__deadline is null and (deadline_at is not null or deadline_date is not null)) "
        "or (deadline_checkable and (deadline_at is distinct from expected_deadline_at "
        "or deadline_date is distinct from expected_deadline_date)))"
    )
    on_time = (
        "completed_at <= as_of_at and (completed_at < deadline_at "
        "or (not deadline_is_date and completed_at = deadline_at))"
    )
    due = (
        "disposition <> 'quarantined' and raw__declared_reason is null "
        "and coalesce(deadline_at <= as_of_at, false)"
    )
    timing = (
        f"select * from {unit.joined()} where is_due is distinct from ({due}) "
        f"or (is_due and is_on_time is distinct from coalesce({on_time}, false)) "
        "or (not is_due and is_on_time is not null)"
    )
    return [
        _rule(
            dates,
            f"{uid}: deadline_at is the raw {column} plus {tolerance} minutes of tolerance (a "
            f"date closes at the next local midnight in {unit.zone_words}) and deadline_date "
            f"the raw "
            f"date, or the raw instant's local date; a blank {column} has neither; checked on "
            f"rows whose raw {column} is {unit.checkable_words()}",
            kpi,
        ),
        _rule(
            timing,
            f"{uid}: a row not quarantined nor excluded by a declared reason is due exactly "
            "when deadline_at <= as_of_at; a due row is_on_time exactly when it completed by "
            "as_of and completed_at <= deadline_at (< for a date deadline); a row not due has "
            "is_on_time null",
            kpi,
        ),
    ]


def unit_rules(unit: _Unit) -> list[dict[str, Any]]:
    return [
        *_key_rules(unit),
        *_reason_rules(unit),
        *_counting_rules(unit),
        *_quality_rules(unit),
        *_as_of_rules(unit),
        *_date_rules(unit),
        *_deadline_rules(unit),
    ]


def declarations(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The normalised declarations in the manifest; none when the model is absent/disabled."""
    node = manifest.get("nodes", {}).get(UNITS_NODE)
    if not node or not (node.get("config") or {}).get("enabled", True):
        return []
    return list(((node.get("config") or {}).get("meta") or {}).get("output_kpis_units") or [])


def raw_relation_sql(manifest: dict[str, Any], relation: dict[str, Any], quote: str = '"') -> str:
    """``"schema"."table"`` of a declaration's relation (quoted with ``quote``): a ref is a
    model or seed node (schema, alias), a source the sources entry (schema, identifier)."""
    args = list(relation.get("args") or [])
    if relation.get("kind") == "source":
        for source in manifest.get("sources", {}).values():
            if [source.get("source_name"), source.get("name")] == args:
                name = source.get("identifier") or source["name"]
                return f"{_ident(source['schema'], quote)}.{_ident(name, quote)}"
        raise DeclarationError(f"source {args} is not in the manifest")
    name = args[-1]
    package = args[0] if len(args) == 2 else None
    project = manifest.get("metadata", {}).get("project_name")
    found = [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in ("model", "seed")
        and node.get("name") == name
        and (package is None or node.get("package_name") == package)
    ]
    found.sort(key=lambda node: node.get("package_name") != project)
    if not found:
        raise DeclarationError(f"ref {args} is not a model or seed of the manifest")
    node = found[0]
    return f"{_ident(node['schema'], quote)}.{_ident(node.get('alias') or node['name'], quote)}"


def declared_suites(
    manifest: dict[str, Any], dialect: str = "duckdb", path: Path | None = None
) -> list[SuiteSpec]:
    """One SuiteSpec per declared unit (``units__<unit_id>``), in declaration order."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}; got {dialect!r}")
    specs = []
    for decl in declarations(manifest):
        sql = _Dialect(dialect)
        unit = _Unit(decl, raw_relation_sql(manifest, decl["relation"], sql.quote), sql)
        specs.append(
            SuiteSpec(
                name=SUITE_PREFIX + unit.unit_id,
                model=UNITS_MODEL,
                key_column="unit_key",
                kpis=[kpi["kpi_id"] for kpi in decl.get("kpis") or []],
                unit_of_output=decl.get("description") or unit.unit_id,
                expectations=unit_rules(unit),
                path=path or Path("manifest.json"),
                row_filter=unit.where_unit,
            )
        )
    return specs


def load_declared_suites(manifest_path: Path, dialect: str = "duckdb") -> list[SuiteSpec]:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return declared_suites(manifest, dialect, manifest_path)
