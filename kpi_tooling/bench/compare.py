"""The KPI values the benchmark's peers compute, and the check that they equal the mart.

The hand-written DuckDB limit (``limit.sql``) and the pandas peer (``pandas_peer.py``) compute
the manufacturing and fulfilment KPIs below at every grain and dimension of
``marts.fct_kpi_values``; a peer only counts as a baseline when ``compare`` finds no row missing,
extra or different.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# The KPIs both peers compute (all grains, all dimensions), as in marts.fct_kpi_values.
PEER_KPIS: tuple[str, ...] = (
    "good_units",
    "units_started",
    "throughput_rate",
    "units_per_shift",
    "first_pass_yield",
    "defect_rate_per_1000",
    "on_time_rate",
    "in_full_rate",
    "otif_rate",
    "cancelled_order_lines",
)
KEY_COLUMNS: tuple[str, ...] = (
    "kpi_id",
    "grain",
    "period_start",
    "dimension_name",
    "dimension_value",
)
VALUE_COLUMNS: tuple[str, ...] = ("numerator", "denominator", "value")
# Relative tolerance for doubles (sums of minutes/60 are not exact in any engine).
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Comparison:
    expected_rows: int
    actual_rows: int
    missing: int  # in the mart, not in the peer
    extra: int  # in the peer, not in the mart
    different: int  # same key, a value differs beyond TOLERANCE
    examples: list[tuple]

    @property
    def equal(self) -> bool:
        return self.missing == self.extra == self.different == 0 and self.expected_rows > 0


def compare(
    con: duckdb.DuckDBPyConnection,
    actual: str,
    expected: str = "marts.fct_kpi_values",
    kpi_ids: tuple[str, ...] = PEER_KPIS,
) -> Comparison:
    """Compare relation `actual` (a peer's result) with `expected` restricted to `kpi_ids`."""
    ids = ", ".join(f"'{kpi_id}'" for kpi_id in kpi_ids)
    keys = ", ".join(KEY_COLUMNS)
    on = " and ".join(f"e.{c} is not distinct from a.{c}" for c in KEY_COLUMNS)
    differs = " or ".join(
        f"(e.{c} is null) <> (a.{c} is null) or abs(e.{c} - a.{c}) > "
        f"{TOLERANCE} * greatest(1, abs(e.{c}))"
        for c in VALUE_COLUMNS
    )
    cols = ", ".join(KEY_COLUMNS + VALUE_COLUMNS)
    con.execute(
        f"create or replace temp table _cmp_expected as select {cols} from {expected} "
        f"where kpi_id in ({ids})"
    )
    con.execute(
        f"create or replace temp table _cmp_actual as select {cols} from {actual} "
        f"where kpi_id in ({ids})"
    )
    expected_rows = con.execute("select count(*) from _cmp_expected").fetchone()[0]
    actual_rows = con.execute("select count(*) from _cmp_actual").fetchone()[0]
    missing = con.execute(
        f"select count(*) from (select {keys} from _cmp_expected except all "
        f"select {keys} from _cmp_actual)"
    ).fetchone()[0]
    extra = con.execute(
        f"select count(*) from (select {keys} from _cmp_actual except all "
        f"select {keys} from _cmp_expected)"
    ).fetchone()[0]
    diff_sql = (
        "select e.*, a.numerator as peer_numerator, a.denominator as peer_denominator, "
        f"a.value as peer_value from _cmp_expected e join _cmp_actual a on {on} "
        f"where {differs}"
    )
    different = con.execute(f"select count(*) from ({diff_sql})").fetchone()[0]
    examples = con.execute(f"{diff_sql} order by all limit 5").fetchall()
    if missing:
        examples += con.execute(
            f"select 'missing', * from (select {keys} from _cmp_expected except "
            f"select {keys} from _cmp_actual) order by all limit 5"
        ).fetchall()
    if extra:
        examples += con.execute(
            f"select 'extra', * from (select {keys} from _cmp_actual except "
            f"select {keys} from _cmp_expected) order by all limit 5"
        ).fetchall()
    return Comparison(expected_rows, actual_rows, missing, extra, different, examples)


def comparable(con: duckdb.DuckDBPyConnection, table: str, leave_out: tuple[str, ...] = ()) -> str:
    """A query over `table` for row-for-row comparison: doubles rounded to 9 decimals (a
    parallel sum may differ in the last bit from build to build), without the columns in
    `leave_out` (e.g. rebuilt_at, which records when a row was computed, not what it says)."""
    columns = con.execute(f"describe {table}").fetchall()
    select = ", ".join(
        f"round({name}, 9) as {name}" if kind == "DOUBLE" else name
        for name, kind, *_ in columns
        if name not in leave_out
    )
    return f"select {select} from {table}"


def except_both_ways(
    con: duckdb.DuckDBPyConnection, left: str, right: str, leave_out: tuple[str, ...] = ()
) -> tuple[int, int]:
    """Rows only in `left` and rows only in `right` (EXCEPT ALL both ways, via comparable)."""
    one, two = comparable(con, left, leave_out), comparable(con, right, leave_out)
    only_left = con.execute(f"select count(*) from ({one} except all {two})").fetchone()[0]
    only_right = con.execute(f"select count(*) from ({two} except all {one})").fetchone()[0]
    return only_left, only_right
