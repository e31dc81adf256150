"""The GE suites generated from the declared units in the manifest (kpi_tooling.ge.declared).

Pure tests of the generator on a handmade manifest, then end to end: a small raw table and a
handmade int_units__declared_units (every row worked out by hand from the rules of
models/intermediate/units/int_units__declared_units.sql) in a temporary DuckDB, a minimal
manifest, one validate run with a hand-written suite beside the generated one. Clean rows pass;
each corrupted row is caught by the rule that names it. The same on Postgres when reachable.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kpi_tooling.core.pg import PgSettings
from kpi_tooling.errors import DeclarationError, SetupError
from kpi_tooling.ge.declared import (
    declared_suites,
    raw_relation_sql,
)
from kpi_tooling.ge.plan import Target, plan_suites
from kpi_tooling.ge.results import Report
from kpi_tooling.ge.validate import EXIT_FAILED, main, run_suites

UNITS = "int_units__declared_units"
UNITS_SCHEMA = "units"
RAW_SCHEMA = "crm_raw"
AS_OF = datetime(2026, 1, 1)

TICKET: dict[str, Any] = {
    "unit_id": "ticket",
    "description": "A support ticket closed as done.",
    "relation": {"kind": "source", "args": ["crm", "tickets"], "text": "source('crm', 'tickets')"},
    "key": "ticket_id",
    "completed_at": "closed_at",
    "time_zone": "Europe/London",
    "naive_timestamps": "local",
    "counts_when": "status = 'done'",
    "excluded": [
        {"reason": "spam", "when": "is_spam"},
        {"reason": "test_ticket", "when": "ticket_id like 'T%'"},
    ],
    "dimensions": [],
    "quality": {"when": "score >= 3", "means": "well rated"},
    "deadline": {"column": "due", "tolerance_minutes": 30},
    "actor": None,
    "kpis": [
        {"kpi_id": "tickets_closed", "measure": "count"},
        {"kpi_id": "ticket_quality", "measure": "quality_rate"},
        {"kpi_id": "tickets_on_time", "measure": "on_time_rate"},
    ],
}
PLAIN: dict[str, Any] = {
    "unit_id": "plain",
    "relation": {"kind": "ref", "args": ["raw_plain"]},
    "key": "id",
    "completed_at": "done_at",
    "time_zone": "UTC",
    "naive_timestamps": "utc",
    "counts_when": None,
    "excluded": [],
    "dimensions": [],
    "quality": None,
    "deadline": None,
    "actor": None,
    "kpis": [{"kpi_id": "plain_count", "measure": "count"}],
}


def manifest_of(units: list[dict[str, Any]], enabled: bool = True) -> dict[str, Any]:
    node = {
        "resource_type": "model",
        "name": UNITS,
        "package_name": "output_kpis",
        "database": "warehouse",
        "schema": UNITS_SCHEMA,
        "alias": UNITS,
        "config": {"enabled": enabled, "meta": {"output_kpis_units": units}},
    }
    nodes = {
        "seed.consumer.raw_plain": {
            "resource_type": "seed",
            "name": "raw_plain",
            "package_name": "consumer",
            "schema": "seeds",
            "alias": "raw_plain_v2",
        },
        "model.other.raw_plain": {
            "resource_type": "model",
            "name": "raw_plain",
            "package_name": "other",
            "schema": "other_schema",
            "alias": "raw_plain",
        },
    }
    manifest: dict[str, Any] = {
        "metadata": {"project_name": "consumer"},
        "nodes": nodes,
        "sources": {
            "source.consumer.crm.tickets": {
                "source_name": "crm",
                "name": "tickets",
                "schema": RAW_SCHEMA,
                "identifier": "tickets",
            }
        },
        "disabled": {},
    }
    if enabled:
        nodes[f"model.output_kpis.{UNITS}"] = node
    else:
        manifest["disabled"] = {f"model.output_kpis.{UNITS}": [node]}
    return manifest


def queries(spec) -> list[str]:
    return [item["kwargs"]["unexpected_rows_query"] for item in spec.expectations]


# --- the generator alone ---------------------------------------------------------------------


def test_one_suite_per_unit_named_on_the_units_model_with_its_kpis() -> None:
    specs = declared_suites(manifest_of([TICKET, PLAIN]))
    assert [spec.name for spec in specs] == ["units__ticket", "units__plain"]
    assert {spec.model for spec in specs} == {UNITS}
    assert {spec.key_column for spec in specs} == {"unit_key"}
    assert specs[0].kpis == ["tickets_closed", "ticket_quality", "tickets_on_time"]
    assert specs[0].unit_of_output == "A support ticket closed as done."


def test_rules_follow_the_declaration() -> None:
    ticket, plain = declared_suites(manifest_of([TICKET, PLAIN]))
    # exclusions, quality and deadline each add their rules
    assert len(plain.expectations) == 13
    assert len(ticket.expectations) == 13 + 1 + 1 + 2
    rules = [item["meta"]["rule"] for item in ticket.expectations]
    assert len(set(rules)) == len(rules)
    by_kpi = {item["meta"]["rule"]: item["meta"]["kpi"] for item in ticket.expectations}
    assert {by_kpi[rule] for rule in rules if "meets_quality" in rule} == {"ticket_quality"}
    assert {by_kpi[rule] for rule in rules if "is_on_time" in rule} == {"tickets_on_time"}
    assert set(by_kpi.values()) <= set(ticket.kpis)
    assert not [rule for rule in rules if not rule.startswith("ticket: ")]
    assert any("spam: is_spam; test_ticket: ticket_id like 'T%'" in rule for rule in rules)
    assert any("timestamp with a UTC offset" in rule for rule in rules)


def test_every_rule_is_pushed_down_sql_on_the_unit_rows_and_the_raw_relation() -> None:
    for spec in declared_suites(manifest_of([TICKET, PLAIN])):
        unit = spec.name.removeprefix("units__")
        for item in spec.expectations:
            assert item["type"] == "unexpected_rows_expectation"
            query = item["kwargs"]["unexpected_rows_query"]
            assert f"unit_id = '{unit}'" in query, query
            assert "{batch}" in query
            query.format(batch="(select 1)")  # GE formats it: no stray braces
    ticket = declared_suites(manifest_of([TICKET]))[0]
    joined = [query for query in queries(ticket) if '"crm_raw"."tickets"' in query]
    # all but three on the model alone: unique key, reason present, reasons in the set
    assert len(joined) == len(ticket.expectations) - 3
    assert all("""nullif(trim(cast("ticket_id" as varchar)), '')""" in q for q in joined)
    assert all("raw__key = m.unit_key" in q for q in joined if " join " in q)


def test_sql_per_dialect() -> None:
    duck = "\n".join(queries(declared_suites(manifest_of([TICKET]), "duckdb")[0]))
    pg = "\n".join(queries(declared_suites(manifest_of([TICKET]), "postgres")[0]))
    assert "timezone('Europe/London', " in duck and "try_cast(" in duck
    assert "at time zone" not in duck
    assert "at time zone 'Europe/London'" in pg and "(m.as_of_at at time zone 'UTC')" in pg
    assert "timezone(" not in pg and "try_cast" not in pg and "regexp_matches" not in pg
    with pytest.raises(ValueError, match="dialect"):
        declared_suites(manifest_of([TICKET]), "oracle")


def test_raw_relation_resolution() -> None:
    manifest = manifest_of([])
    source = {"kind": "source", "args": ["crm", "tickets"]}
    assert raw_relation_sql(manifest, source) == '"crm_raw"."tickets"'
    # one argument: the root project's node first (a seed here, by its alias)
    assert raw_relation_sql(manifest, PLAIN["relation"]) == '"seeds"."raw_plain_v2"'
    other = {"kind": "ref", "args": ["other", "raw_plain"]}
    assert raw_relation_sql(manifest, other) == '"other_schema"."raw_plain"'
    for missing in ({"kind": "ref", "args": ["nope"]}, {"kind": "source", "args": ["crm", "x"]}):
        with pytest.raises(DeclarationError):
            raw_relation_sql(manifest, missing)


def test_no_suites_without_declarations_or_when_the_model_is_disabled() -> None:
    assert declared_suites(manifest_of([])) == []
    assert declared_suites(manifest_of([TICKET], enabled=False)) == []
    assert declared_suites({"nodes": {}}) == []


def test_declared_predicates_with_braces_survive_gex_formatting() -> None:
    unit = copy.deepcopy(TICKET)
    unit["counts_when"] = "status <> '{draft}'"
    for query in queries(declared_suites(manifest_of([unit]))[0]):
        query.format(batch="b")
    formatted = [q.format(batch="b") for q in queries(declared_suites(manifest_of([unit]))[0])]
    assert any("status <> '{draft}'" in query for query in formatted)


# --- end to end on a small warehouse --------------------------------------------------------

RAW_COLUMNS = ("ticket_id", "closed_at", "due", "status", "is_spam", "score")
RAW_ROWS: list[tuple] = [
    ("1", "2025-07-01 23:30:00+00", "2025-07-01", "done", False, 4),
    ("2", "2025-03-10", "2025-03-10T12:00:00+01:00", "done", False, 2),
    ("3", "2025-08-01 10:00:00", None, "done", False, None),
    ("4", None, "2025-06-01", "done", False, 5),
    ("5", "2025-05-05 12:00:00Z", " ", "open", False, 1),
    ("6", "2026-02-01 00:00:00+00", None, "done", False, 3),
    ("7", "2025-04-01", "2025-04-02", "done", True, 5),
    ("T8", None, None, "done", False, 5),
    ("  ", "2025-01-01", None, "done", False, 5),
    ("10", None, None, "open", False, None),
    ("10", None, None, "open", False, None),
    ("11", "2025-02-01", None, "done", False, 3),
    ("11", "2025-02-01", None, "open", False, 3),
    ("12", "yesterday", None, "done", False, 5),
    ("13", "1900-01-01", None, "done", False, 5),
    ("14", "2025-09-09 09:09:09+02:00", "2025-09-09T08:00:00Z", "done", False, 3),
    (" 15 ", "2025-10-10", None, "done", False, 3),
]

UNIT_COLUMNS = (
    "unit_id", "unit_key", "disposition", "reason", "completed_at", "completed_date",
    "deadline_at", "deadline_date", "is_counted", "meets_quality", "is_due", "is_on_time",
    "actor_id", "as_of_at",
)  # fmt: skip


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def d(text: str) -> date:
    return date.fromisoformat(text)


C, E, Q = "counted", "excluded", "quarantined"
# unit_key, disposition, reason, completed_at, completed_date, deadline_at, deadline_date,
# is_counted, meets_quality, is_due, is_on_time; worked out by hand (London: BST from 30 March
# to 26 October 2025; as_of 2026-01-01 00:00 UTC)
UNIT_ROWS: list[tuple] = [
    # a date deadline closes at the next local midnight (2025-07-02 00:00 BST = 23:00 UTC)
    # + 30 min; completing exactly then is late (< for a date deadline)
    ("1", C, None, ts("2025-07-01 23:30"), d("2025-07-02"), ts("2025-07-01 23:30"),
     d("2025-07-01"), True, True, True, False),
    ("2", C, None, ts("2025-03-10 00:00"), d("2025-03-10"), ts("2025-03-10 11:30"),
     d("2025-03-10"), True, False, True, True),
    ("3", C, None, ts("2025-08-01 09:00"), d("2025-08-01"), None, None, True, False, False,
     None),
    ("4", E, "not_completed", None, None, ts("2025-06-01 23:30"), d("2025-06-01"), False, None,
     True, False),
    ("5", E, "not_counted", ts("2025-05-05 12:00"), d("2025-05-05"), None, None, False, None,
     False, None),
    ("6", E, "after_as_of", ts("2026-02-01 00:00"), d("2026-02-01"), None, None, False, None,
     False, None),
    ("7", E, "spam", ts("2025-03-31 23:00"), d("2025-04-01"), ts("2025-04-02 23:30"),
     d("2025-04-02"), False, None, False, None),
    ("T8", E, "test_ticket", None, None, None, None, False, None, False, None),
    (None, Q, "null_key", ts("2025-01-01 00:00"), d("2025-01-01"), None, None, False, None,
     False, None),
    ("10", E, "not_completed", None, None, None, None, False, None, False, None),
    ("10", Q, "duplicate_row", None, None, None, None, False, None, False, None),
    ("11", Q, "conflicting_duplicate_key", ts("2025-02-01 00:00"), d("2025-02-01"), None, None,
     False, None, False, None),
    ("11", Q, "conflicting_duplicate_key", ts("2025-02-01 00:00"), d("2025-02-01"), None, None,
     False, None, False, None),
    ("12", Q, "uncastable_value", None, None, None, None, False, None, False, None),
    ("13", Q, "implausible_date", ts("1900-01-01 00:00"), d("1900-01-01"), None, None, False,
     None, False, None),
    ("14", C, None, ts("2025-09-09 07:09:09"), d("2025-09-09"), ts("2025-09-09 08:30"),
     d("2025-09-09"), True, True, True, True),
    ("15", C, None, ts("2025-10-09 23:00"), d("2025-10-10"), None, None, True, True, False,
     None),
]  # fmt: skip
# another unit's row: outside every rule of units__ticket
OTHER_ROW = ("other", "x", "bogus", None, None, None, None, None, None, None, None, None, None,
             AS_OF)  # fmt: skip


def unit_rows() -> list[list[Any]]:
    return [["ticket", *row, None, AS_OF] for row in UNIT_ROWS] + [list(OTHER_ROW)]


def set_row(rows: list[list[Any]], key: str, copy_index: int = 0, **values: Any) -> None:
    matches = [row for row in rows if row[0] == "ticket" and row[1] == key]
    row = matches[copy_index]
    for name, value in values.items():
        row[UNIT_COLUMNS.index(name)] = value


def drop_row(rows: list[list[Any]], key: str) -> None:
    rows.remove(next(row for row in rows if row[0] == "ticket" and row[1] == key))


# name -> (change to the clean unit rows, the rule (text) that must catch it, key it names)
CORRUPTIONS: dict[str, tuple[Any, str, str | None]] = {
    "counted row flipped to not_counted": (
        lambda rows: set_row(rows, "3", disposition=E, reason="not_counted", is_counted=False,
                             meets_quality=None),
        "is counted exactly when", "3"),
    "completed_date as the UTC date": (
        lambda rows: set_row(rows, "1", completed_date=d("2025-07-01")),
        "completed_date is the raw closed_at read in time zone Europe/London", "1"),
    "completed_at as the wall time": (
        lambda rows: set_row(rows, "14", completed_at=ts("2025-09-09 09:09:09")),
        "completed_at is the instant", "14"),
    "on time at a date deadline": (
        lambda rows: set_row(rows, "1", is_on_time=True), "a due row is_on_time exactly", "1"),
    "quality not from the raw row": (
        lambda rows: set_row(rows, "2", meets_quality=True), "meets_quality exactly when", "2"),
    "wrong declared reason": (
        lambda rows: set_row(rows, "7", reason="test_ticket"),
        "excluded with declared reason r exactly when", "7"),
    "a raw row unaccounted": (lambda rows: drop_row(rows, "13"), "is accounted for", None),
    "a duplicate not quarantined": (
        lambda rows: set_row(rows, "10", 1, disposition=E, reason="not_completed"),
        "unit_key is unique among the rows not quarantined", "10"),
    "differing copies taken for exact ones": (
        lambda rows: (set_row(rows, "11", 0, disposition=E, reason="not_counted"),
                      set_row(rows, "11", 1, reason="duplicate_row")),
        "written n times", "11"),
    "counted after as_of": (
        lambda rows: set_row(rows, "6", disposition=C, reason=None, is_counted=True,
                             meets_quality=True),
        "no counted row completes after as_of", "6"),
    "deadline without tolerance": (
        lambda rows: set_row(rows, "2", deadline_at=ts("2025-03-10 11:00")),
        "deadline_at is the raw due plus 30 minutes", "2"),
    "not_completed with a completion": (
        lambda rows: set_row(rows, "4", reason="not_counted"),
        "excluded not_completed exactly when", "4"),
    "a reason outside the set": (
        lambda rows: set_row(rows, "5", reason="lost"), "an excluded row's reason is one of",
        "5"),
    "an unreadable completion not quarantined": (
        lambda rows: set_row(rows, "12", disposition=E, reason="not_counted"),
        "that is blank or a date or a timestamp with a UTC offset", "12"),
    "a counted row with a reason": (
        lambda rows: set_row(rows, "14", reason="spam"),
        "every row not counted has a reason", "14"),
}  # fmt: skip

HAND_WRITTEN = {
    "name": "units_sanity",
    "meta": {"model": UNITS, "key_column": "unit_key", "kpis": [], "unit_of_output": "all"},
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "unit_id"},
            "meta": {"rule": "every unit row names its unit", "kpi": "tickets_closed"},
        }
    ],
}


def write_inputs(tmp: Path) -> tuple[Path, Path]:
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps(manifest_of([TICKET])), encoding="utf-8")
    suites = tmp / "suites"
    suites.mkdir(exist_ok=True)
    (suites / "units_sanity.json").write_text(json.dumps(HAND_WRITTEN), encoding="utf-8")
    return manifest, suites


RAW_DDL = (
    f"create table {RAW_SCHEMA}.tickets (ticket_id varchar, closed_at varchar, due varchar, "
    "status varchar, is_spam boolean, score integer)"
)
UNITS_DDL = (
    f"create table {UNITS_SCHEMA}.{UNITS} (unit_id varchar, unit_key varchar, "
    "disposition varchar, reason varchar, completed_at timestamp, completed_date date, "
    "deadline_at timestamp, deadline_date date, is_counted boolean, meets_quality boolean, "
    "is_due boolean, is_on_time boolean, actor_id varchar, as_of_at timestamp)"
)


def build_duckdb(path: Path, rows: list[list[Any]]) -> Path:
    with duckdb.connect(str(path)) as con:
        for schema in (RAW_SCHEMA, UNITS_SCHEMA):
            con.execute(f"create schema {schema}")
        con.execute(RAW_DDL)
        con.executemany(f"insert into {RAW_SCHEMA}.tickets values (?, ?, ?, ?, ?, ?)", RAW_ROWS)
        con.execute(UNITS_DDL)
        marks = ", ".join("?" * len(UNIT_COLUMNS))
        con.executemany(f"insert into {UNITS_SCHEMA}.{UNITS} values ({marks})", rows)
    return path


def outcomes(report: Report, suite: str) -> dict[str, Any]:
    found = next(item for item in report.suites if item.suite == suite)
    return {outcome.rule: outcome for outcome in found.expectations}


def test_the_handmade_unit_rows_follow_the_declared_rules(tmp_path: Path) -> None:
    db = build_duckdb(tmp_path / "w.duckdb", unit_rows())
    manifest, suites = write_inputs(tmp_path)
    out = tmp_path / "ge_results.json"
    report = run_suites(db, manifest, suites, out, data_docs_dir=tmp_path / "docs")
    assert [suite.suite for suite in report.suites] == ["units_sanity", "units__ticket"]
    ticket = outcomes(report, "units__ticket")
    assert len(ticket) == 17
    # the suite's row count is its unit's rows, not the other unit's row beside them
    assert [s.row_count for s in report.suites] == [len(UNIT_ROWS) + 1, len(UNIT_ROWS)]
    broken = {rule: (o.observed_value, o.error) for rule, o in ticket.items() if not o.success}
    assert broken == {}
    assert all(o.error is None and o.observed_value == 0 for o in ticket.values())
    assert report.success
    results = json.loads(out.read_text(encoding="utf-8"))
    assert [suite["suite"] for suite in results["suites"]] == ["units_sanity", "units__ticket"]
    assert (tmp_path / "docs" / "index.html").is_file()


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_each_corruption_is_caught_by_its_rule(tmp_path: Path, name: str) -> None:
    corrupt, rule_words, key = CORRUPTIONS[name]
    rows = unit_rows()
    corrupt(rows)
    db = build_duckdb(tmp_path / "w.duckdb", rows)
    manifest, suites = write_inputs(tmp_path)
    report = run_suites(db, manifest, suites, None, ["units__ticket"])
    assert not report.success
    caught = [o for rule, o in outcomes(report, "units__ticket").items() if rule_words in rule]
    assert len(caught) == 1, rule_words
    assert not caught[0].success and caught[0].error is None
    assert caught[0].observed_value > 0
    if key is not None:
        assert key in caught[0].sample_keys


def test_a_built_units_model_without_its_table_is_a_setup_error(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t (x integer)")
    manifest, suites = write_inputs(tmp_path)
    with pytest.raises(SetupError, match=UNITS):
        plan_suites(Target.of(db), manifest, suites)
    # with the model disabled no suite is generated, and the file suite on it is skipped
    manifest.write_text(json.dumps(manifest_of([TICKET], enabled=False)), encoding="utf-8")
    plan = plan_suites(Target.of(db), manifest, suites)
    assert plan.suites == [] and [s.suite for s in plan.skipped] == ["units_sanity"]


def test_suite_names_select_generated_and_file_suites(tmp_path: Path) -> None:
    db = build_duckdb(tmp_path / "w.duckdb", unit_rows())
    manifest, suites = write_inputs(tmp_path)
    names = [p.spec.name for p in plan_suites(Target.of(db), manifest, suites).suites]
    assert names == ["units_sanity", "units__ticket"]
    only = plan_suites(Target.of(db), manifest, suites, ["units__ticket"]).suites
    assert [p.spec.name for p in only] == ["units__ticket"]
    only = plan_suites(Target.of(db), manifest, suites, ["units_sanity"]).suites
    assert [p.spec.name for p in only] == ["units_sanity"]


# --- the same on Postgres ------------------------------------------------------------------


def build_postgres(settings: PgSettings, rows: list[list[Any]]) -> None:
    from conftest import reset_database

    reset_database(settings)
    con = settings.connect()
    try:
        with con, con.cursor() as cur:
            for schema in (RAW_SCHEMA, UNITS_SCHEMA):
                cur.execute(f"create schema {schema}")
            cur.execute(RAW_DDL)
            cur.executemany(
                f"insert into {RAW_SCHEMA}.tickets values (%s, %s, %s, %s, %s, %s)", RAW_ROWS
            )
            cur.execute(UNITS_DDL)
            marks = ", ".join(["%s"] * len(UNIT_COLUMNS))
            cur.executemany(f"insert into {UNITS_SCHEMA}.{UNITS} values ({marks})", rows)
    finally:
        con.close()


@pytest.mark.parametrize("name", ["clean", "completed_date as the UTC date"])
def test_on_postgres(postgres: PgSettings, tmp_path: Path, name: str) -> None:
    rows = unit_rows()
    if name != "clean":
        CORRUPTIONS[name][0](rows)
    build_postgres(postgres, rows)
    manifest, suites = write_inputs(tmp_path)
    report = run_suites(postgres.sqlalchemy_url(), manifest, suites, None, ["units__ticket"])
    ticket = outcomes(report, "units__ticket")
    assert len(ticket) == 17
    assert [rule for rule, o in ticket.items() if o.error] == []
    failed = sorted(rule for rule, o in ticket.items() if not o.success)
    if name == "clean":
        assert failed == []
    else:
        assert len(failed) == 1 and CORRUPTIONS[name][1] in failed[0]
        assert ticket[failed[0]].sample_keys == ["1"]


def test_cli_names_the_generated_suite_rule_kpi_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = unit_rows()
    CORRUPTIONS["quality not from the raw row"][0](rows)
    db = build_duckdb(tmp_path / "w.duckdb", rows)
    manifest, suites = write_inputs(tmp_path)
    out = tmp_path / "r.json"
    args = ["--db", str(db), "--manifest", str(manifest), "--suites", str(suites)]
    assert main([*args, "--out", str(out), "--no-data-docs"]) == EXIT_FAILED
    printed = capsys.readouterr().out
    broken = [line for line in printed.splitlines() if "meets_quality exactly when" in line]
    assert len(broken) == 1
    assert broken[0].startswith(f"FAIL ticket_quality / {UNITS}: rule ")
    assert broken[0].endswith("1 offending row, e.g. 2")
    assert "FAIL: 17/18 rules hold in 2 suites" in printed


def test_an_output_kpi_whose_suite_does_not_exist_stops_the_run(tmp_path: Path) -> None:
    """The hub names each output KPI's suite (dim_kpis.ge_suite): one that neither a file nor
    a declaration provides stops the run naming the KPI; a suite that exists passes."""
    db = build_duckdb(tmp_path / "w.duckdb", unit_rows())
    manifest, suites = write_inputs(tmp_path)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["nodes"]["model.output_kpis.dim_kpis"] = {
        "resource_type": "model",
        "name": "dim_kpis",
        "package_name": "output_kpis",
        "database": "warehouse",
        "schema": "marts",
        "alias": "dim_kpis",
        "config": {"enabled": True},
    }
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_kpis (kpi_id varchar, layer varchar, ge_suite varchar)")
        con.execute(
            "insert into marts.dim_kpis values ('tickets_closed', 'output', 'units__ticket'), "
            "('sanity', 'output', 'units_sanity'), ('revenue', 'outcome', null)"
        )
    assert len(plan_suites(Target.of(db), manifest, suites).suites) == 2
    with duckdb.connect(str(db)) as con:
        con.execute("insert into marts.dim_kpis values ('orphan_kpi', 'output', 'units__gone')")
    with pytest.raises(SetupError, match=r"orphan_kpi \(suite units__gone\)"):
        plan_suites(Target.of(db), manifest, suites)
