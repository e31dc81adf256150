"""Time-relative data is safe whatever as_of is: the production form (as_of unset, "now" = the
run's start) and a past as_of in the middle of a day build, pass every GE suite and publish.

Two full builds of the demo raw data. The production one also gets rows stamped a few hours
after the run starts (inside the quarantine's one-day future tolerance, so they are staged): an
opportunity created, qualified and won then, one created before and won then, and a ticket
created then. They have not happened at as_of, so they are counted nowhere and break no rule.
The demo data ends on 2025-12-31, so with "now" any later date, tickets still pending at the end
of the data have been paused for longer than sla_clock_horizon_days: they keep a deadline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD_SELECT, ROOT, Warehouse, run_dbt
from kpi_tooling.ge.validate import run_suites
from kpi_tooling.publish.duckdb_file import EXIT_OK, main

SUITES = ROOT / "expectations"
PAST_AS_OF = "2025-10-15 13:37:21"  # in the data, in the middle of a day
HORIZON_DAYS = 60  # sla_clock_horizon_days of dbt_project.yml


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _inject(db_path: Path, table: str, template_key: str, rows: list[dict[str, str]]) -> None:
    """Append rows to a raw table: a copy of its row `template_key` (first column) with the
    given values."""
    with duckdb.connect(str(db_path)) as con:
        columns = [c[0] for c in con.execute(f"describe raw.{table}").fetchall()]
        template = con.execute(
            f"select * from raw.{table} where {columns[0]} = ?", [template_key]
        ).fetchone()
        assert template, f"no {template_key} in raw.{table}"
        for row in rows:
            values = dict(zip(columns, template, strict=True)) | row
            placeholders = ", ".join("?" for _ in columns)
            con.execute(
                f"insert into raw.{table} values ({placeholders})", [values[c] for c in columns]
            )


def _seeded_copy(warehouse: Warehouse, directory: Path) -> Path:
    """A new warehouse file holding only the demo's seeds (raw and reference tables), as
    `make build` has it before `dbt build`."""
    manifest = json.loads(warehouse.manifest_path.read_text())
    seeds = {
        (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "seed"
    }
    copy = directory / warehouse.db_path.name
    with duckdb.connect(str(copy)) as con:
        con.execute(f"attach '{warehouse.db_path}' as built (read_only)")
        for schema in sorted({schema for schema, _ in seeds}):
            con.execute(f"create schema {schema}")
        for schema, table in sorted(seeds):
            con.execute(f"create table {schema}.{table} as select * from built.{schema}.{table}")
    return copy


def _build_validate_publish(db_path: Path, profiles_dir: Path, dbt_vars: str) -> str:
    """dbt build, every GE suite, publish: what `make build` runs after the seeds. Returns the
    publish output."""
    target = db_path.parent / "target"
    run_dbt(
        ["build", *BUILD_SELECT],
        db_path=db_path,
        target_path=target,
        profiles_dir=profiles_dir,
        dbt_vars=dbt_vars,
    )
    report = run_suites(db_path, target / "manifest.json", SUITES, target / "ge_results.json")
    assert report.success, "\n".join(report.failure_messages())
    serve_db = db_path.parent / "serve" / db_path.name
    code = main(
        [
            "--build-db",
            str(db_path),
            "--serve-db",
            str(serve_db),
            "--manifest",
            str(target / "manifest.json"),
            "--run-results",
            str(target / "run_results.json"),
            "--ge-results",
            str(target / "ge_results.json"),
        ]
    )
    assert code == EXIT_OK
    return str(serve_db)


@pytest.fixture(scope="module")
def production_build(
    warehouse: Warehouse, profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    db_path = _seeded_copy(warehouse, tmp_path_factory.mktemp("as_of_unset"))
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=4)
    _inject(
        db_path,
        "crm_opportunities",
        "O-EDGE-WON-NOQUAL",
        [
            {
                "opportunity_id": "O-AFTER-RUN-WON",
                "created_at": _stamp(later),
                "qualified_at": _stamp(later + timedelta(hours=1)),
                "closed_at": _stamp(later + timedelta(hours=2)),
                "stage": "won",
            },
            {
                "opportunity_id": "O-CLOSED-AFTER-RUN",
                "created_at": "2025-12-01T10:00:00Z",
                "qualified_at": None,
                "closed_at": _stamp(later),
                "stage": "won",
            },
        ],
    )
    _inject(
        db_path,
        "sd_tickets",
        "T-EDGE-BUSINESSHOURS",
        [{"ticket_id": "T-AFTER-RUN", "created_at": _stamp(later), "first_replied_at": None}],
    )
    _build_validate_publish(db_path, profiles_dir, "{}")
    return db_path


@pytest.fixture(scope="module")
def past_build(
    warehouse: Warehouse, profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    db_path = _seeded_copy(warehouse, tmp_path_factory.mktemp("as_of_past"))
    _build_validate_publish(db_path, profiles_dir, '{"as_of": "' + PAST_AS_OF + '"}')
    return db_path


def test_production_build_passes_ge_and_publishes(production_build: Path) -> None:
    with duckdb.connect(str(production_build), read_only=True) as con:
        as_of = con.execute("select max(as_of_at) from marts.fct_unit_accounting").fetchone()[0]
        assert as_of > datetime(2026, 1, 1)  # "now", not the demo's pinned as_of
        assert con.execute("select count(*) from marts.fct_kpi_values").fetchone()[0] > 0


def test_tickets_paused_beyond_the_horizon_keep_a_deadline(production_build: Path) -> None:
    """Open measurements of tickets created more than the horizon before as_of (pending at the
    end of the data) have a deadline and a status; none is null."""
    with duckdb.connect(str(production_build), read_only=True) as con:
        rows = con.execute(
            "select sla_status, deadline_at is null from "
            "intermediate.int_service__ticket_sla_measurements "
            f"where event_at is null and started_at + interval {HORIZON_DAYS} day < as_of_at"
        ).fetchall()
    assert rows, "the demo has open measurements older than the horizon"
    assert {null_deadline for _, null_deadline in rows} == {False}
    assert {status for status, _ in rows} <= {"breached", "in_progress"}


def test_rows_stamped_after_run_start_are_counted_nowhere(production_build: Path) -> None:
    with duckdb.connect(str(production_build), read_only=True) as con:
        opportunities = con.execute(
            "select opportunity_id, stage_role, is_qualified, is_closed, is_won "
            "from intermediate.int_sales__qualified_opportunities "
            "where opportunity_id in ('O-AFTER-RUN-WON', 'O-CLOSED-AFTER-RUN') order by 1"
        ).fetchall()
        tickets = con.execute(
            "select count(*) from intermediate.int_service__ticket_sla_measurements "
            "where ticket_id = 'T-AFTER-RUN'"
        ).fetchone()[0]
    # still open at as_of: neither qualified, closed nor won (not in the win rate)
    assert opportunities == [
        ("O-AFTER-RUN-WON", "open", False, False, False),
        ("O-CLOSED-AFTER-RUN", "open", False, False, False),
    ]
    assert tickets == 0


def test_past_as_of_in_the_middle_of_a_day_passes_ge_and_publishes(past_build: Path) -> None:
    with duckdb.connect(str(past_build), read_only=True) as con:
        as_of = con.execute("select max(as_of_at) from marts.fct_unit_accounting").fetchone()[0]
        latest = con.execute(
            "select max(closed_at) from intermediate.int_sales__qualified_opportunities"
        ).fetchone()[0]
    assert str(as_of) == PAST_AS_OF
    assert latest <= as_of
