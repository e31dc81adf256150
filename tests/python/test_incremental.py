"""Incremental = full refresh. The demo raw data is split into batch 1 (before 2025-10-01) and
batch 2 (the rest, plus late rows that belong to periods already loaded, and in-place updates:
shipments delivered, tickets replied to, lines cancelled, and every line promised on one
settled August day re-promised a day later, so that day's KPI rows must disappear). Batch 1 is
built as of the cut-off, batch 2 is loaded and the incremental models (unit models, KPI
component models, fct_kpi_values) are run as of the demo's as_of; a full refresh of the same
data must match them row for row, and a rerun with no new data changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from conftest import DEMO_AS_OF, run_dbt
from kpi_tooling.bench import append
from kpi_tooling.bench.compare import except_both_ways

UNIT_MODELS = (
    "int_manufacturing__unit_events",
    "int_manufacturing__first_pass_inspections",
    "int_fulfilment__order_lines",
    "int_service__ticket_sla_measurements",
)
# Incremental by period (strategy replace_periods): rows carry rebuilt_at.
PERIOD_MODELS = (
    "int_manufacturing__step_kpi_components",
    "int_manufacturing__kpi_components",
    "int_fulfilment__kpi_components",
    "int_service__kpi_components",
    "int_units__kpi_components",  # the declared KPIs (sales; tickets per agent-day; the demo's)
    "fct_kpi_values",
)
INCREMENTAL_MODELS = UNIT_MODELS + PERIOD_MODELS
SCHEMA = {
    model: "marts" if model.startswith("fct_") else "intermediate" for model in INCREMENTAL_MODELS
}
SELECTION = ["--select", *[f"+{model}" for model in INCREMENTAL_MODELS]]
CUTOFF = "2025-10-01"
CUTOFF_VARS = '{"as_of": "' + CUTOFF + ' 00:00:00"}'
FINAL_VARS = '{"as_of": "' + DEMO_AS_OF + '"}'
# Late rows: belong to August-September (before the watermark of the batch-1 build) but arrive
# with batch 2; only the source fingerprint can notice them.
LATE = "between '2025-08-01' and '2025-09-20' and hash({key}) % 25 = 0"

# Per timeline table: the batch-1 filter (string compare works on ISO timestamps).
BATCH_1 = {
    "mes_unit_events": "cast(event_local as varchar) < '{cutoff}' and not ("
    "cast(event_local as varchar) " + LATE.format(key="event_id") + ")",
    "sd_ticket_status_changes": "changed_at < '{cutoff}' and not (changed_at "
    + LATE.format(key="change_id")
    + ")",
    "oms_shipments": "shipped_at < '{cutoff}' and not (shipped_at "
    + LATE.format(key="shipment_id")
    + ")",
    "sd_tickets": "created_at < '{cutoff}'",
    "oms_orders": "ordered_at < '{cutoff}'",
}
# Columns not yet filled in at the cut-off: null in batch 1, updated in place by batch 2.
# (the benchmark's append uses the same ones)
UPDATED_LATER = append.UPDATED_LATER


def raw_tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str = "raw") -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = ? and table_schema = ? order by 1",
            [catalog, schema],
        ).fetchall()
    ]


def repromised_day(source: Path) -> str:
    """The settled August 2025 day with the fewest lines first promised on it."""
    con = duckdb.connect(str(source), read_only=True)
    try:
        return con.execute(
            "select cast(first_promised_date as varchar) from raw.oms_order_lines "
            "where first_promised_date between '2025-08-01' and '2025-08-31' "
            "group by 1 order by count(*), 1 limit 1"
        ).fetchone()[0]
    finally:
        con.close()


def repromise(con: duckdb.DuckDBPyConnection, day: str) -> None:
    """Re-promise every line first promised on `day` for the next day, in place."""
    con.execute(
        "update raw.oms_order_lines set first_promised_date = "
        "cast(cast(first_promised_date as date) + 1 as varchar) "
        f"where cast(first_promised_date as varchar) = '{day}'"
    )


@pytest.fixture(scope="module")
def raw_source(tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path) -> Path:
    """A DuckDB holding the demo raw schema: the test warehouse's if given, else seeded."""
    db = os.environ.get("OUTPUT_KPIS_TEST_WAREHOUSE")
    if db and Path(db).exists():
        return Path(db)
    directory = tmp_path_factory.mktemp("raw")
    db_path = directory / "output_kpis.duckdb"
    run_dbt(
        ["seed", "--full-refresh", "--select", "path:seeds/raw"],
        db_path=db_path,
        target_path=directory / "target",
        profiles_dir=profiles_dir,
    )
    return db_path


def load_raw(db_path: Path, source: Path, batch: int, repromised: str) -> None:
    """Batch 1 creates the raw schema from the source's filtered rows (and copies the reference
    seeds); batch 2 appends the rest, fills in the columns updated since the cut-off and
    re-promises the lines of day `repromised`."""
    con = duckdb.connect(str(db_path))
    con.execute(f"attach '{source}' as src (read_only)")
    con.execute("create schema if not exists raw")
    if batch == 1:
        con.execute("create schema reference")
        for table in raw_tables(con, "src", "reference"):
            con.execute(f"create table reference.{table} as select * from src.reference.{table}")
    cutoff_lines = (
        "order_line_id not in (select order_line_id from src.raw.oms_order_lines "
        "where order_id in (select order_id from src.raw.oms_orders "
        f"where not ({BATCH_1['oms_orders'].format(cutoff=CUTOFF)})))"
    )
    for table in raw_tables(con, "src"):
        keep = BATCH_1.get(table, "true").format(cutoff=CUTOFF)
        if table == "oms_order_lines":
            keep = cutoff_lines
        if batch == 1:
            con.execute(f"create table raw.{table} as select * from src.raw.{table} where {keep}")
            if table in UPDATED_LATER:
                _, column = UPDATED_LATER[table]
                con.execute(f"update raw.{table} set {column} = null where {column} >= '{CUTOFF}'")
        else:
            con.execute(f"insert into raw.{table} select * from src.raw.{table} where not ({keep})")
            if table in UPDATED_LATER:
                key, column = UPDATED_LATER[table]
                con.execute(
                    f"update raw.{table} set {column} = src_row.{column} "
                    f"from src.raw.{table} as src_row "
                    f"where raw.{table}.{key} = src_row.{key} "
                    f"and raw.{table}.{column} is null and src_row.{column} is not null"
                )
    if batch == 2:
        repromise(con, repromised)
    con.close()


@pytest.fixture(scope="module")
def builds(
    tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path, raw_source: Path
) -> dict[str, object]:
    incremental_db = tmp_path_factory.mktemp("incremental") / "output_kpis.duckdb"
    full_db = tmp_path_factory.mktemp("full") / "output_kpis.duckdb"
    target = tmp_path_factory.mktemp("target")

    model_seconds: dict[str, dict[str, float]] = {}

    def dbt(db_path: Path, dbt_vars: str, *extra: str, label: str = "") -> float:
        started = time.perf_counter()
        run_dbt(
            ["run", *SELECTION, *extra],
            db_path=db_path,
            target_path=target,
            profiles_dir=profiles_dir,
            dbt_vars=dbt_vars,
        )
        results = json.loads((target / "run_results.json").read_text())["results"]
        model_seconds[label] = {
            result["unique_id"].rsplit(".", 1)[1]: result["execution_time"]
            for result in results
            if result["unique_id"].rsplit(".", 1)[1] in INCREMENTAL_MODELS
        }
        model_seconds[label]["(all models)"] = sum(
            result["execution_time"]
            for result in results
            if result["unique_id"].startswith("model.")
        )
        return time.perf_counter() - started

    day = repromised_day(raw_source)
    load_raw(incremental_db, raw_source, batch=1, repromised=day)
    dbt(incremental_db, CUTOFF_VARS, label="batch 1")
    batch_1_db = tmp_path_factory.mktemp("batch_1") / "output_kpis.duckdb"
    shutil.copy(incremental_db, batch_1_db)
    load_raw(incremental_db, raw_source, batch=2, repromised=day)
    incremental_seconds = dbt(incremental_db, FINAL_VARS, label="incremental")
    # the state after the incremental run, kept to prove a rerun is a no-op
    first_run_db = tmp_path_factory.mktemp("first_run") / "output_kpis.duckdb"
    shutil.copy(incremental_db, first_run_db)
    rerun_seconds = dbt(incremental_db, FINAL_VARS, label="rerun")

    shutil.copy(raw_source, full_db)
    with duckdb.connect(str(full_db)) as full_con:
        repromise(full_con, day)
    full_seconds = dbt(full_db, FINAL_VARS, "--full-refresh", label="full")
    print(
        f"\nincremental run {incremental_seconds:.1f}s, no-op rerun {rerun_seconds:.1f}s, "
        f"full refresh {full_seconds:.1f}s (dbt run of the {len(INCREMENTAL_MODELS)} "
        "incremental models and all their parents, demo data, wall clock incl. dbt start-up)"
    )
    for model in (*INCREMENTAL_MODELS, "(all models)"):
        times = ", ".join(
            f"{label} {seconds[model]:.2f}s" for label, seconds in model_seconds.items()
        )
        print(f"  {model}: {times}")
    return {
        "incr": incremental_db,
        "first_run": first_run_db,
        "refreshed": full_db,
        "batch_1": batch_1_db,
        "repromised_day": day,
    }


@pytest.fixture(scope="module")
def con(builds: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for alias, path in builds.items():
        if isinstance(path, Path):
            connection.execute(f"attach '{path}' as {alias} (read_only)")
    yield connection
    connection.close()


def test_raw_batches_add_up_to_the_demo_data(con: duckdb.DuckDBPyConnection) -> None:
    for table in raw_tables(con, "refreshed"):
        assert except_both_ways(con, f"incr.raw.{table}", f"refreshed.raw.{table}") == (0, 0)


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_equals_full_refresh(con: duckdb.DuckDBPyConnection, model: str) -> None:
    incremental = f"incr.{SCHEMA[model]}.{model}"
    full = f"refreshed.{SCHEMA[model]}.{model}"
    assert con.execute(f"select count(*) from {full}").fetchone()[0] > 0
    assert except_both_ways(con, incremental, full, leave_out=("rebuilt_at",)) == (0, 0)


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_rerun_without_new_data_changes_nothing(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """Stamps included: a rerun recomputes no period at all."""
    before = f"first_run.{SCHEMA[model]}.{model}"
    after = f"incr.{SCHEMA[model]}.{model}"
    assert except_both_ways(con, before, after) == (0, 0)


@pytest.mark.parametrize("model", PERIOD_MODELS)
def test_incremental_run_replaced_only_recent_periods(
    con: duckdb.DuckDBPyConnection, model: str
) -> None:
    """The incremental run kept the rows of periods before the first change (stamped by the
    batch-1 run) and recomputed the rest: it is not a full rebuild in disguise."""
    table = f"incr.{SCHEMA[model]}.{model}"
    kept, recomputed, first_recomputed = con.execute(
        f"select count(*) filter (where rebuilt_at < (select max(rebuilt_at) from {table})), "
        f"count(*) filter (where rebuilt_at = (select max(rebuilt_at) from {table})), "
        f"min(period_start) filter (where grain = 'day' "
        f"and rebuilt_at = (select max(rebuilt_at) from {table})) from {table}"
    ).fetchone()
    assert kept > 0
    assert recomputed > 0
    print(f"\n{model}: {kept} rows kept, {recomputed} recomputed from {first_recomputed}")


def test_a_day_that_lost_all_its_lines_disappears(
    con: duckdb.DuckDBPyConnection, builds: dict[str, object]
) -> None:
    """Every line promised on one settled day was re-promised: the day's rows were in the
    batch-1 build and are gone after the incremental run, as in the full refresh."""
    day = builds["repromised_day"]
    rows = (
        "select count(*) from {db}.intermediate.int_fulfilment__kpi_components "
        f"where grain = 'day' and period_start = '{day}'"
    )
    assert con.execute(rows.format(db="batch_1")).fetchone()[0] > 0
    assert con.execute(rows.format(db="incr")).fetchone()[0] == 0
    assert con.execute(rows.format(db="refreshed")).fetchone()[0] == 0


def test_batch_two_really_changed_settled_units(con: duckdb.DuckDBPyConnection) -> None:
    """The split is not vacuous: late rows changed units built from batch 1."""
    late_events = con.execute(
        "select count(*) from refreshed.raw.mes_unit_events where cast(event_local as varchar) "
        + LATE.format(key="event_id")
    ).fetchone()[0]
    updated_lines = con.execute(
        f"select count(*) from refreshed.raw.oms_order_lines where cancelled_at >= '{CUTOFF}'"
    ).fetchone()[0]
    assert late_events > 0
    assert updated_lines > 0


def test_earlier_as_of_asks_for_a_full_refresh(
    builds: dict[str, Path], profiles_dir: Path, tmp_path: Path
) -> None:
    """Rows known at the later as_of would linger, so an earlier as_of fails the run."""
    db_path = tmp_path / "db" / "output_kpis.duckdb"
    db_path.parent.mkdir()
    shutil.copy(builds["incr"], db_path)
    result = run_dbt(
        ["run", "--select", "int_manufacturing__unit_events"],
        db_path=db_path,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=CUTOFF_VARS,
        check=False,
    )
    assert result.returncode != 0
    assert "--full-refresh" in result.stdout
