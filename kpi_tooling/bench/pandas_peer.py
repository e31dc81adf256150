"""The benchmark's pandas peer: the manufacturing and fulfilment KPIs of ``compare.PEER_KPIS``,
computed from the raw tables the way an analyst would in pandas, and equal to
``marts.fct_kpi_values`` (checked by ``compare.compare``).

The raw tables are loaded with ``select * from <schema>.<table>`` (the load is part of the
timed work); everything after that is pandas: ``groupby``, ``merge``/``map``, ``merge_asof``
and ``tz_localize``/``tz_convert``, no SQL and no Python loops over rows.

It follows the package's SQL with its default vars, hard-coded here:

- ``kpi_grains`` every known grain (``kpi_tooling.core.grains``); ``kpi_week_start`` monday;
  ``kpi_fiscal_year_start_month`` 1 (quarters and years are calendar ones);
- ``output_kpis_site_time_zones`` {} (every site's zone is ``mes_sites.time_zone``);
- ``on_time_promise_basis`` first, ``on_time_event`` delivered,
  ``on_time_tolerance_minutes`` 0, ``on_time_early_window_days`` null (early is on time);
- the registry's aggregation and multiplier of each KPI (``seeds/reference/kpi_registry``).

Input is assumed clean: the package's quarantine (``macros/quarantine.sql``) drops no row of
the tables read here (true of the demo data and of the generator's output), so keys are
unique and the staging de-duplication by key is a no-op that is kept only as the cheap
``drop_duplicates`` an analyst would write. A further assumption, checked: the shifts of a
line do not overlap (a unit completes in at most one shift).

Semantics that are easy to get wrong, matched to the SQL on DuckDB:

- site-local MES wall-clock times are converted to UTC as DuckDB's ICU ``timezone()`` does:
  a time in a DST overlap is read as the *later* instant (standard time), a time in a DST gap
  with the offset in force *before* the gap (02:30 in a spring-forward gap of a UTC-6 zone is
  08:30 UTC);
- a duplicate scan (same serial, step, type, result and UTC instant under a new event_id) is
  dropped, the smallest event_id kept; events after ``as_of`` are ignored;
- units started count on the site-local date of a serial's first event, throughput on the
  shift's date, first-pass yield and defects on the raw local date of the first inspection at
  a step; delivery KPIs on the first promised date, due at the end of that day in the
  customer's zone;
- only periods whose day has started by ``as_of`` (date <= as_of's date) are reported; a
  ratio with a zero or null denominator is null.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kpi_tooling.bench.compare import KEY_COLUMNS, VALUE_COLUMNS
from kpi_tooling.config import RAW_SCHEMA
from kpi_tooling.core.grains import known_grains

GRAINS = known_grains()
# kpi_id -> (aggregation, multiplier), as in seeds/reference/kpi_registry.csv.
REGISTRY = {
    "good_units": ("count", 1.0),
    "units_started": ("count", 1.0),
    "throughput_rate": ("rate", 1.0),
    "units_per_shift": ("rate", 1.0),
    "first_pass_yield": ("ratio", 1.0),
    "defect_rate_per_1000": ("rate", 1000.0),
    "on_time_rate": ("ratio", 1.0),
    "in_full_rate": ("ratio", 1.0),
    "otif_rate": ("ratio", 1.0),
    "cancelled_order_lines": ("count", 1.0),
}
RAW_TABLES = (
    "mes_sites",
    "mes_lines",
    "mes_route_steps",
    "mes_work_orders",
    "mes_shifts",
    "mes_unit_events",
    "mes_defects",
    "oms_customers",
    "oms_orders",
    "oms_order_lines",
    "oms_shipments",
)
OUTPUT_COLUMNS = [*KEY_COLUMNS, *VALUE_COLUMNS]


# --- loading and time helpers ---------------------------------------------------------------


def load_raw(raw_db: Path, schema: str = RAW_SCHEMA, prefix: str = "") -> dict[str, pd.DataFrame]:
    """The analyst's load step: the raw tables the KPIs need (those whose name starts with
    `prefix`; all by default), as DataFrames."""
    con = duckdb.connect(str(raw_db), read_only=True)
    try:
        return {
            t: arrow_frame(con.execute(f"select * from {schema}.{t}").fetch_arrow_table())
            for t in RAW_TABLES
            if t.startswith(prefix)
        }
    finally:
        con.close()


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """A fetched Arrow table as the DataFrame DuckDB's .df() returns (dates as datetime64[us]),
    converted through Arrow: at 10M raw rows the unit events load in 0.8 s at a peak RSS of
    685 MiB, against 3.7 s and 2,171 MiB through .df(), which at 100M would not fit in RAM."""
    schema = pa.schema(
        [
            pa.field(field.name, pa.timestamp("us")) if pa.types.is_date(field.type) else field
            for field in table.schema
        ]
    )
    return table.cast(schema).to_pandas()


def parse_as_of(as_of: str) -> pd.Timestamp:
    """'YYYY-MM-DD[ HH:MM:SS]' (UTC; a 'T' and a trailing 'Z' allowed) -> naive timestamp."""
    return pd.Timestamp(as_of.strip().replace("T", " ").replace("Z", ""))


def parse_utc(values: pd.Series) -> pd.Series:
    """ISO-8601 UTC text ('...T...Z') or a timestamp column -> naive UTC datetime64."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if values.dt.tz is not None else values
    return pd.to_datetime(values, format="ISO8601", utc=True).dt.tz_localize(None)


def local_to_utc(local: pd.Series, zones: pd.Series) -> pd.Series:
    """Wall-clock times in per-row IANA zones -> naive UTC, as DuckDB's ICU timezone() reads
    them: an ambiguous time (DST overlap) is the later instant, a nonexistent one (DST gap)
    takes the offset in force before the gap. NaT where the zone is unknown."""
    out = pd.Series(pd.NaT, index=local.index, dtype=local.dtype)
    for zone in zones.dropna().unique():
        idx = (zones == zone).to_numpy()
        wall = local[idx]
        aware = wall.dt.tz_localize(
            zone, ambiguous=np.zeros(len(wall), dtype=bool), nonexistent="shift_backward"
        )
        # In a gap shift_backward lands on the last instant before it: its offset is the one
        # ICU applies to the nonexistent wall time. Everywhere else this is the plain offset.
        offset = aware.dt.tz_localize(None) - aware.dt.tz_convert("UTC").dt.tz_localize(None)
        out[idx] = wall - offset
    return out


def utc_to_local_date(utc: pd.Series, zones: pd.Series) -> pd.Series:
    """The local calendar date (midnight datetime64) of naive UTC instants in per-row zones."""
    out = pd.Series(pd.NaT, index=utc.index, dtype=utc.dtype)
    for zone in zones.dropna().unique():
        idx = (zones == zone).to_numpy()
        local = utc[idx].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
        out[idx] = local.dt.normalize()
    return out


def category(values: pd.Series) -> pd.Series:
    """A text column as an ordered categorical (categories sorted, so min() is the text's)."""
    return values.astype(pd.CategoricalDtype(ordered=True))


def lookup(keys: pd.Series, mapping: pd.Series) -> pd.Series:
    """mapping[key] for a categorical key column, computed once per category: the
    categorical equivalent of keys.map(mapping) (null where the key is null or unknown)."""
    per_category = pd.Categorical(mapping.reindex(keys.cat.categories), ordered=True)
    codes = keys.cat.codes.to_numpy()
    looked_up = np.where(codes >= 0, per_category.codes[codes], -1)
    return pd.Series(
        pd.Categorical.from_codes(looked_up, dtype=per_category.dtype), index=keys.index
    )


def period_starts(days: pd.Series, grain: str) -> pd.Series:
    """First day of the day/week (Monday)/month/quarter/year period holding each date."""
    if grain == "day":
        return days
    if grain == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[grain]
    return days.dt.to_period(freq).dt.start_time.astype(days.dtype)


# --- the package's rollup_kpi_components and kpi_values_from_components ---------------------


def rollup(
    units: pd.DataFrame,
    date_column: str,
    dimensions: dict[str, str],
    measures: dict[str, tuple[str, str | None]],
    as_of_day: pd.Timestamp,
) -> pd.DataFrame:
    """KPI components of unit rows at every grain and dimension ('overall' added): per
    measure kpi_id -> (numerator column, denominator column or None for a count KPI), the sum
    over the units of each period and dimension value. Units dated after as_of's date or not
    at all are left out."""
    value_columns = sorted(
        {c for pair in measures.values() for c in pair if c is not None}, key=list(units).index
    )
    dated = units[units[date_column].notna() & (units[date_column] <= as_of_day)]
    keys = {"kpi_date": dated[date_column]}
    for name, column in dimensions.items():
        keys[f"dim_{name}"] = dated[column].fillna("(none)")
    daily = dated[value_columns].groupby(list(keys.values()), sort=False).sum()
    daily.index.names = list(keys)
    daily = daily.reset_index()

    day_periods = pd.DataFrame({"kpi_date": daily["kpi_date"].drop_duplicates()})
    for grain in GRAINS:
        day_periods[grain] = period_starts(day_periods["kpi_date"], grain)
    daily = daily.merge(day_periods, on="kpi_date")

    slices = []
    for grain in GRAINS:
        for name in ("overall", *dimensions):
            by = [grain] if name == "overall" else [grain, f"dim_{name}"]
            part = daily.groupby(by, sort=False)[value_columns].sum().reset_index()
            part = part.rename(columns={grain: "period_start", f"dim_{name}": "dimension_value"})
            part["grain"] = grain
            part["dimension_name"] = name
            if name == "overall":
                part["dimension_value"] = "all"
            slices.append(part)
    graded = pd.concat(slices, ignore_index=True)

    frames = []
    for kpi_id, (numerator, denominator) in measures.items():
        frame = graded[["grain", "period_start", "dimension_name", "dimension_value"]].copy()
        frame["kpi_id"] = kpi_id
        frame["numerator"] = graded[numerator].astype("float64")
        frame["denominator"] = (
            np.nan if denominator is None else graded[denominator].astype("float64")
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def kpi_values(components: pd.DataFrame) -> pd.DataFrame:
    """value = the numerator (count KPIs) or numerator / denominator x multiplier, null when
    the denominator is null or zero."""
    aggregation = components["kpi_id"].map({k: a for k, (a, _) in REGISTRY.items()})
    multiplier = components["kpi_id"].map({k: m for k, (_, m) in REGISTRY.items()})
    numerator, denominator = components["numerator"], components["denominator"]
    ratio = (numerator / denominator.where(denominator != 0)) * multiplier
    values = components.assign(value=numerator.where(aggregation == "count", ratio))
    return values[OUTPUT_COLUMNS].reset_index(drop=True)


# --- manufacturing ----------------------------------------------------------------------------


def unit_events(raw: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """stg_mes__unit_events + int_manufacturing__unit_events: typed events with line, site,
    route, UTC time and final-step flag; duplicate scans and events after as_of dropped."""
    sites = raw["mes_sites"].drop_duplicates("site_id").set_index("site_id")
    lines = raw["mes_lines"].drop_duplicates("line_id").set_index("line_id")
    work_orders = raw["mes_work_orders"].drop_duplicates("work_order_id")
    steps = raw["mes_route_steps"].drop_duplicates(["route_id", "step_code"])

    # Repeated text columns become categoricals once: grouping, de-duplicating and looking up
    # line, site and zone then work on integer codes.
    ev = raw["mes_unit_events"].drop_duplicates("event_id")
    result = category(ev["result"].str.lower())
    ev = pd.DataFrame(
        {
            "event_id": ev["event_id"],
            "serial_number": category(ev["serial_number"]),
            "work_order_id": category(ev["work_order_id"]),
            "step_code": category(ev["step_code"]),
            "event_type": category(ev["event_type"].str.lower()),
            "event_result": result.cat.remove_categories(
                [""] if "" in result.cat.categories else []
            ),
            "event_local": ev["event_local"],
        }
    )
    ev["line_id"] = lookup(ev["work_order_id"], work_orders.set_index("work_order_id")["line_id"])
    ev["site_id"] = lookup(ev["line_id"], lines["site_id"])
    ev["route_id"] = lookup(ev["line_id"], lines["route_id"])
    ev["event_at"] = local_to_utc(ev["event_local"], lookup(ev["site_id"], sites["time_zone"]))

    # A duplicate scan repeats serial, step, type, result and instant under a new event_id:
    # the smallest event_id stays. Only the (rare) repeated rows need sorting.
    scan = ["serial_number", "step_code", "event_type", "event_result", "event_at"]
    repeated = ev[ev.duplicated(scan, keep=False)].sort_values("event_id")
    duplicate_ids = repeated.loc[repeated.duplicated(scan), "event_id"]
    ev = ev[~ev["event_id"].isin(duplicate_ids) & (ev["event_at"] <= as_of)]

    final_steps = steps.loc[steps["is_final_step"].eq(True), ["route_id", "step_code"]]
    final_steps = final_steps.astype(ev[["route_id", "step_code"]].dtypes.to_dict()).dropna()
    ev = ev.merge(final_steps.assign(is_final_step=True), on=["route_id", "step_code"], how="left")
    ev["is_final_step"] = ev["is_final_step"].eq(True)
    return ev


def completed_units(ev: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """int_manufacturing__completed_units: one row per serial with its line, site, first
    event, completion (first pass at a final-step inspection or retest) and scrap flag."""
    final_pass = (
        ev["is_final_step"]
        & ev["event_type"].isin(["inspection", "retest"])
        & (ev["event_result"] == "pass")
    )
    units = (
        ev.assign(
            completed_at=ev["event_at"].where(final_pass),
            is_scrap=ev["event_type"] == "scrap",
        )
        .groupby("serial_number", observed=True, dropna=False, sort=False)
        .agg(
            line_id=("line_id", "min"),
            site_id=("site_id", "min"),
            first_event_at=("event_at", "min"),
            completed_at=("completed_at", "min"),
            is_scrapped=("is_scrap", "any"),
        )
        .reset_index()
    )
    zones = lookup(
        units["site_id"], sites.drop_duplicates("site_id").set_index("site_id")["time_zone"]
    )
    units["started_local_date"] = utc_to_local_date(units["first_event_at"], zones)
    units["is_good_unit"] = units["completed_at"].notna() & ~units["is_scrapped"]
    return units


def shift_output(raw: dict[str, pd.DataFrame], units: pd.DataFrame) -> pd.DataFrame:
    """stg_mes__shifts + int_manufacturing__shift_output: each shift's operating time (length
    minus planned downtime, at least 0) and the good units completed in it."""
    sites = raw["mes_sites"].drop_duplicates("site_id").set_index("site_id")
    lines = raw["mes_lines"].drop_duplicates("line_id").set_index("line_id")
    shifts = raw["mes_shifts"].drop_duplicates("shift_id")
    shifts = shifts.assign(site_id=shifts["line_id"].map(lines["site_id"]))
    zones = shifts["site_id"].map(sites["time_zone"])
    shifts["shift_start_at"] = local_to_utc(shifts["shift_start_local"], zones)
    shifts["shift_end_at"] = local_to_utc(shifts["shift_end_local"], zones)
    minutes = (shifts["shift_end_at"] - shifts["shift_start_at"]).dt.total_seconds() / 60.0
    # DuckDB's greatest() skips nulls: an unknown length or downtime is 0 operating minutes.
    shifts["operating_minutes"] = (minutes - shifts["planned_downtime_minutes"]).clip(lower=0)
    shifts["operating_minutes"] = shifts["operating_minutes"].fillna(0.0)
    shifts["operating_hours"] = shifts["operating_minutes"] / 60.0
    shifts["is_producing_shift"] = (shifts["operating_minutes"] > 0).astype("int64")

    # A unit counts in the shift of its line whose [start, end) holds its completion.
    windows = shifts.dropna(subset=["line_id", "shift_start_at"]).sort_values(
        ["line_id", "shift_start_at"]
    )
    previous_end = windows.groupby("line_id")["shift_end_at"].shift()
    if (previous_end > windows["shift_start_at"]).any():
        raise ValueError("overlapping shifts on a line: the peer assumes they do not overlap")
    good = units.loc[units["is_good_unit"] & units["line_id"].notna(), ["line_id", "completed_at"]]
    good["line_id"] = good["line_id"].astype("str")
    matched = pd.merge_asof(
        good.sort_values("completed_at"),
        windows[["line_id", "shift_start_at", "shift_end_at", "shift_id"]].sort_values(
            "shift_start_at"
        ),
        left_on="completed_at",
        right_on="shift_start_at",
        by="line_id",
    )
    matched = matched[matched["completed_at"] < matched["shift_end_at"]]
    shifts["good_unit_count"] = (
        shifts["shift_id"].map(matched["shift_id"].value_counts()).fillna(0).astype("int64")
    )
    return shifts


def first_pass_inspections(raw: dict[str, pd.DataFrame], ev: pd.DataFrame) -> pd.DataFrame:
    """int_manufacturing__first_pass_inspections: one row per serial and inspected step,
    first pass when its first inspection passed with no retest, rework, repair or defect."""
    defects = raw["mes_defects"].drop_duplicates("defect_id")
    ev = ev[ev["serial_number"].notna() & ev["step_code"].notna()]
    is_inspection = ev["event_type"].isin(["inspection", "retest"])
    steps = (
        ev.assign(
            is_inspection=is_inspection,
            is_retest=ev["event_type"] == "retest",
            is_rework=ev["event_type"].isin(["rework", "repair"]),
            defect_count=ev["event_id"].map(defects["event_id"].value_counts()).fillna(0),
        )
        .groupby(["serial_number", "step_code"], observed=True, sort=False)
        .agg(
            line_id=("line_id", "min"),
            site_id=("site_id", "min"),
            inspection_count=("is_inspection", "sum"),
            retest_count=("is_retest", "sum"),
            rework_count=("is_rework", "sum"),
            defect_count=("defect_count", "sum"),
        )
    )
    # The first inspection at each step: earliest instant, then smallest event_id.
    inspections = ev.loc[
        is_inspection,
        ["serial_number", "step_code", "event_id", "event_at", "event_local", "event_result"],
    ]
    earliest = inspections.groupby(["serial_number", "step_code"], observed=True)[
        "event_at"
    ].transform("min")
    first = inspections[inspections["event_at"] == earliest]
    tied = first.duplicated(["serial_number", "step_code"], keep=False)
    if tied.any():
        first = pd.concat([first[~tied], first[tied].sort_values("event_id")])
        first = first.drop_duplicates(["serial_number", "step_code"])
    first = first[["serial_number", "step_code", "event_local", "event_result"]]
    steps = steps.reset_index().merge(first, on=["serial_number", "step_code"])
    steps["first_inspected_local_date"] = steps["event_local"].dt.normalize()
    steps["first_pass"] = (
        (steps["event_result"] == "pass")
        & (steps["inspection_count"] == 1)
        & (steps["retest_count"] == 0)
        & (steps["rework_count"] == 0)
        & (steps["defect_count"] == 0)
    ).astype("int64")
    steps["inspected"] = 1
    return steps


def manufacturing_components(
    raw: dict[str, pd.DataFrame], as_of: pd.Timestamp
) -> list[pd.DataFrame]:
    as_of_day = as_of.normalize()
    ev = unit_events(raw, as_of)
    units = completed_units(ev, raw["mes_sites"])
    shifts = shift_output(raw, units)
    inspections = first_pass_inspections(raw, ev)
    dims = {"site": "site_id", "line": "line_id"}
    units["one"] = 1
    return [
        rollup(
            shifts,
            "shift_date",
            dims,
            {
                "throughput_rate": ("good_unit_count", "operating_hours"),
                "units_per_shift": ("good_unit_count", "is_producing_shift"),
                "good_units": ("good_unit_count", None),
            },
            as_of_day,
        ),
        rollup(units, "started_local_date", dims, {"units_started": ("one", None)}, as_of_day),
        rollup(
            inspections,
            "first_inspected_local_date",
            dims,
            {
                "first_pass_yield": ("first_pass", "inspected"),
                "defect_rate_per_1000": ("defect_count", "inspected"),
            },
            as_of_day,
        ),
    ]


# --- fulfilment -------------------------------------------------------------------------------


def order_lines(raw: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """stg_oms__* + int_fulfilment__order_lines with the default on-time definition: due at
    the end of the first promised date in the customer's zone, on time when the delivery
    that made the line full (else its latest delivery) is at or before that."""
    customers = raw["oms_customers"].drop_duplicates("customer_id")
    customers = customers.assign(customer_segment=customers["segment"].str.lower())
    orders = raw["oms_orders"].drop_duplicates("order_id")
    lines = raw["oms_order_lines"].drop_duplicates("order_line_id")
    lines = (
        lines[["order_line_id", "order_id", "ordered_quantity", "first_promised_date"]]
        .assign(cancelled_at=parse_utc(lines["cancelled_at"]))
        .merge(orders[["order_id", "customer_id", "site_id"]], on="order_id", how="left")
        .merge(
            customers[["customer_id", "customer_segment", "time_zone"]],
            on="customer_id",
            how="left",
        )
    )
    zones = lines["time_zone"]
    lines["promised_date"] = pd.to_datetime(lines["first_promised_date"])

    shipments = raw["oms_shipments"].drop_duplicates("shipment_id")
    deliveries = shipments[["shipment_id", "order_line_id", "shipped_quantity"]].assign(
        delivered_at=parse_utc(shipments["delivered_at"])
    )
    deliveries = deliveries[deliveries["delivered_at"] <= as_of].merge(
        lines[["order_line_id", "ordered_quantity"]], on="order_line_id"
    )
    deliveries = deliveries.sort_values(["order_line_id", "delivered_at", "shipment_id"])
    cumulative = deliveries.groupby("order_line_id")["shipped_quantity"].cumsum()
    deliveries["completing_at"] = deliveries["delivered_at"].where(
        cumulative >= deliveries["ordered_quantity"]
    )
    per_line = deliveries.groupby("order_line_id").agg(
        delivered_quantity=("shipped_quantity", "sum"),
        last_delivered_at=("delivered_at", "max"),
        completed_at=("completing_at", "min"),
    )
    lines = lines.join(per_line, on="order_line_id")
    lines["delivered_quantity"] = lines["delivered_quantity"].fillna(0)
    reference_at = lines["completed_at"].fillna(lines["last_delivered_at"])

    due_at = local_to_utc(lines["promised_date"] + pd.Timedelta(days=1), zones)
    is_cancelled = lines["cancelled_at"] <= as_of
    is_due = ~is_cancelled & (due_at <= as_of)
    # a promised date is met strictly before the next local midnight
    is_on_time = is_due & (reference_at < due_at)
    is_in_full = is_due & (lines["delivered_quantity"] >= lines["ordered_quantity"])
    return lines.assign(
        is_due=is_due.astype("int64"),
        is_on_time=is_on_time.astype("int64"),
        is_in_full=is_in_full.astype("int64"),
        is_otif=(is_on_time & is_in_full).astype("int64"),
        is_cancelled=is_cancelled.astype("int64"),
    )


def fulfilment_components(raw: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> list[pd.DataFrame]:
    return [
        rollup(
            order_lines(raw, as_of),
            "promised_date",
            {"site": "site_id", "customer_segment": "customer_segment"},
            {
                "on_time_rate": ("is_on_time", "is_due"),
                "in_full_rate": ("is_in_full", "is_due"),
                "otif_rate": ("is_otif", "is_due"),
                "cancelled_order_lines": ("is_cancelled", None),
            },
            as_of.normalize(),
        )
    ]


# --- entry points -----------------------------------------------------------------------------


def compute(raw_db: Path, as_of: str, schema: str = RAW_SCHEMA) -> pd.DataFrame:
    """The peer KPIs of the raw tables in `schema` of DuckDB file `raw_db`, as of `as_of`
    (UTC): columns kpi_id, grain, period_start, dimension_name, dimension_value, numerator,
    denominator, value."""
    at = parse_as_of(as_of)
    # one source system's tables in memory at a time, as an analyst with 100M rows would
    components = manufacturing_components(load_raw(raw_db, schema, "mes_"), at)
    components += fulfilment_components(load_raw(raw_db, schema, "oms_"), at)
    return kpi_values(pd.concat(components, ignore_index=True))


def run_pandas(raw_db: Path, out_db: Path, as_of: str, schema: str = RAW_SCHEMA) -> float:
    """Time `compute` (load included) and store its frame as table pandas_kpi_values in
    DuckDB file `out_db` (replaced). Returns the seconds compute took."""
    started = time.perf_counter()
    frame = compute(raw_db, as_of, schema)
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(out_db))
    try:
        con.register("pandas_kpi_values_frame", frame)
        con.execute(
            "create or replace table pandas_kpi_values as select kpi_id, grain, "
            "cast(period_start as date) as period_start, dimension_name, dimension_value, "
            "numerator, denominator, value from pandas_kpi_values_frame"
        )
        con.unregister("pandas_kpi_values_frame")
    finally:
        con.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-db", type=Path, required=True, help="DuckDB file with raw tables")
    parser.add_argument("--out-db", type=Path, required=True, help="DuckDB file to write to")
    parser.add_argument("--as-of", required=True, help="UTC 'YYYY-MM-DD HH:MM:SS'")
    parser.add_argument(
        "--schema", default=RAW_SCHEMA, help=f"schema of the raw tables ({RAW_SCHEMA})"
    )
    args = parser.parse_args(argv)
    seconds = run_pandas(args.raw_db, args.out_db, args.as_of, args.schema)
    print(f"pandas peer: {seconds:.2f} s -> {args.out_db} (table pandas_kpi_values)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
