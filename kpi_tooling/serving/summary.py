"""Print where the demo warehouse is, row counts per layer and a few KPI values.

Run by `make build` after the build and validation succeed, so a person sees real numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

LAYERS = ("raw", "staging", "intermediate", "marts")
SHOWCASE_KPIS = (
    "throughput_rate",
    "first_pass_yield",
    "rolled_throughput_yield",
    "on_time_rate",
    "otif_rate",
    "sla_compliance",
    "tickets_resolved_per_agent_day",
    "qualified_opportunities",
    "win_rate",
)


def layer_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Return {schema: (relations, rows)} for the package's layers."""
    counts: dict[str, tuple[int, int]] = {}
    for schema in LAYERS:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = ?",
            [schema],
        ).fetchall()
        rows = sum(
            con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            for (name,) in tables
        )
        counts[schema] = (len(tables), rows)
    return counts


def latest_month_values(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Overall monthly values of the showcase KPIs for the latest complete month."""
    placeholders = ", ".join("?" for _ in SHOWCASE_KPIS)
    return con.execute(
        f"""
        with months as (
            select max(period_start) as period_start
            from marts.fct_kpi_values
            where grain = 'month' and period_start < date_trunc('month', as_of_at)
        )
        select kpi_id, period_start, numerator, denominator, value
        from marts.fct_kpi_values
        where grain = 'month' and dimension_name = 'overall'
          and period_start = (select period_start from months)
          and kpi_id in ({placeholders})
        order by kpi_id
        """,
        list(SHOWCASE_KPIS),
    ).fetchall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, type=Path, help="DuckDB warehouse file")
    args = parser.parse_args(argv)
    con = duckdb.connect(str(args.db), read_only=True)
    try:
        print(f"\nWarehouse: {args.db.resolve()}")
        for schema, (relations, rows) in layer_row_counts(con).items():
            print(f"  {schema:<13} {relations:>3} relations {rows:>12,} rows")
        print("\nLatest complete month, overall:")
        print(f"  {'kpi_id':<32}{'month':<12}{'numerator':>12}{'denominator':>13}{'value':>10}")
        for kpi_id, month, numerator, denominator, value in latest_month_values(con):
            num = "" if numerator is None else f"{numerator:,.0f}"
            den = "" if denominator is None else f"{denominator:,.1f}"
            val = "" if value is None else f"{value:.4f}"
            print(f"  {kpi_id:<32}{month!s:<12}{num:>12}{den:>13}{val:>10}")
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
