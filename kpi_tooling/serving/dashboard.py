"""Output KPI dashboard (Streamlit): `make dashboard`, or
``streamlit run kpi_tooling/serving/dashboard.py -- --db warehouse/serve/output_kpis.duckdb``.

Reads only the `serving` views of the published data: the served DuckDB file, opened
read-only for each query and closed at once, so the dashboard never holds a lock and never
blocks a build or a publish (a publish swaps the file; the next query sees the new one). With
``--postgres-dsn`` (or env OUTPUT_KPIS_SERVE_PG_DSN) it reads the same views from PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

PERIOD_LENGTH = {
    "day": pd.DateOffset(days=1),
    "week": pd.DateOffset(weeks=1),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
    "year": pd.DateOffset(years=1),
}  # one per grain of kpi_tooling.core.grains.known_grains() (tests/python/test_grains.py)
STATUS_COLOURS = {"on_track": "#1a7f37", "at_risk": "#bf8700", "off_track": "#cf222e"}
DEFAULT_DB = Path("warehouse/serve/output_kpis.duckdb")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Output KPI dashboard (Streamlit)")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="served DuckDB file")
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("OUTPUT_KPIS_SERVE_PG_DSN"),
        help="read the serving views from PostgreSQL instead (libpq DSN)",
    )
    return parser.parse_args(argv)


def query(args: argparse.Namespace, sql: str, params: list | None = None) -> pd.DataFrame:
    """One short-lived read-only connection per query: nothing stays open between reruns."""
    if args.postgres_dsn:
        import psycopg2  # only needed for the Postgres mode

        con = psycopg2.connect(args.postgres_dsn)
        try:
            con.set_session(readonly=True)
            with con.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params or [])
                names = [column.name for column in cur.description]
                return pd.DataFrame(cur.fetchall(), columns=names)
        finally:
            con.close()
    con = duckdb.connect(str(args.db), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def format_value(value: float | None, unit: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "currency":
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def flag(value: object) -> bool:
    """A nullable boolean from the warehouse: null (not scored) counts as not flagged."""
    return bool(value) if not pd.isna(value) else False


def tile(row: pd.Series) -> str:
    status = row["status"] if isinstance(row["status"], str) else "no target"
    colour = STATUS_COLOURS.get(status, "#57606a")
    target = format_value(row["target_value"], row["unit"])
    return (
        f'<div class="kpi-tile" style="border-left:6px solid {colour};padding:6px 10px;'
        f'margin-bottom:8px;background:#f6f8fa">'
        f'<div style="font-size:0.8em;color:#57606a">{row["kpi_name"]} '
        f"({row['review_grain']} {row['latest_period_start']:%Y-%m-%d})</div>"
        f'<div class="kpi-value" data-kpi="{row["kpi_id"]}" style="font-size:1.5em;'
        f'font-weight:600">{format_value(row["latest_value"], row["unit"])}</div>'
        f'<div style="font-size:0.8em">target {target} · '
        f'<span style="color:{colour};font-weight:600">{status}</span>'
        f"{' · anomaly' if flag(row['is_anomaly']) else ''}"
        f"{' · output trap' if flag(row['is_output_trap']) else ''}</div></div>"
    )


def trend_chart(values: pd.DataFrame, targets: pd.DataFrame, title: str) -> alt.LayerChart:
    base = alt.Chart(values).encode(x=alt.X("period_start:T", title=None))
    line = base.mark_line().encode(y=alt.Y("value:Q", title=title))
    anomalies = (
        base.transform_filter("datum.is_anomaly")
        .mark_point(color="#cf222e", size=80, filled=True)
        .encode(y="value:Q", tooltip=["period_start:T", "value:Q", "anomaly_direction:N"])
    )
    layers = [line, anomalies]
    if not targets.empty:
        layers.append(
            alt.Chart(targets)
            .mark_line(strokeDash=[6, 4], color="#57606a")
            .encode(x="period_start:T", y="target_value:Q")
        )
    return alt.layer(*layers).properties(height=260)


def pair_chart(
    series: pd.DataFrame, traps: pd.DataFrame, output_name: str, outcome_name: str
) -> alt.LayerChart:
    """Output (blue) and outcome (purple) on independent y axes, output-trap periods marked."""
    base = alt.Chart(series).encode(x=alt.X("period_start:T", title=None))
    output = base.mark_line(color="#0969da").encode(
        y=alt.Y("output_value:Q", title=output_name, axis=alt.Axis(titleColor="#0969da"))
    )
    outcome = base.mark_line(color="#8250df").encode(
        y=alt.Y("outcome_value:Q", title=outcome_name, axis=alt.Axis(titleColor="#8250df"))
    )
    chart = alt.layer(output, outcome).resolve_scale(y="independent")
    if not traps.empty:
        rules = alt.Chart(traps).mark_rule(color="#cf222e").encode(x="period_start:T")
        chart = alt.layer(output, outcome, rules).resolve_scale(y="independent")
    return chart.properties(height=260)


def complete(frame: pd.DataFrame, grain: str, as_of: object) -> pd.Series:
    """Rows whose period ended by as_of: a running period would read as a collapse."""
    ends = pd.to_datetime(frame["period_start"]) + PERIOD_LENGTH.get(grain, pd.DateOffset(0))
    return ends <= pd.Timestamp(as_of)


def published_note(args: argparse.Namespace) -> str:
    manifest = args.db.parent / "published.json"
    if args.postgres_dsn or not manifest.exists():
        return ""
    meta = json.loads(manifest.read_text())
    return f" · published {meta.get('published_at', '?')}"


def main() -> None:
    args = parse_args(sys.argv[1:])
    st.set_page_config(page_title="Output KPIs", layout="wide")
    scorecard = query(
        args,
        "select * from serving.kpi_scorecard order by case value_chain_layer "
        "when 'output' then 0 when 'input' then 1 else 2 end, domain, kpi_id",
    )
    as_of = scorecard["as_of_at"].max() if not scorecard.empty else None
    st.title("Output KPIs")
    st.caption(f"as of {as_of}{published_note(args)} · source: serving views (read-only)")

    grains = query(args, "select distinct grain from serving.kpi_values order by 1")["grain"]
    grain = st.sidebar.selectbox("Period grain", list(grains), index=list(grains).index("month"))
    dims = query(args, "select distinct dimension_name from serving.kpi_values order by 1")
    dimension = st.sidebar.selectbox(
        "Dimension",
        list(dims["dimension_name"]),
        index=list(dims["dimension_name"]).index("overall"),
    )
    dim_values = query(
        args,
        "select distinct dimension_value from serving.kpi_values "
        "where dimension_name = ? order by 1",
        [dimension],
    )["dimension_value"]
    dim_value = st.sidebar.selectbox("Dimension value", list(dim_values))

    st.subheader("KPIs against target (latest complete period, overall)")
    columns = st.columns(4)
    for index, (_, row) in enumerate(scorecard.iterrows()):
        columns[index % 4].markdown(tile(row), unsafe_allow_html=True)

    st.subheader(f"Trend by {grain} · {dimension} = {dim_value}")
    kpis = scorecard[["kpi_id", "kpi_name"]].drop_duplicates()
    kpi_name = st.selectbox("KPI", list(kpis["kpi_name"]))
    kpi_id = kpis.loc[kpis["kpi_name"] == kpi_name, "kpi_id"].iloc[0]
    where = "kpi_id = ? and grain = ? and dimension_name = ? and dimension_value = ?"
    keys = [kpi_id, grain, dimension, dim_value]
    values = query(
        args,
        "select period_start, value, is_anomaly, anomaly_direction from serving.kpi_values "
        f"where {where} order by period_start",
        keys,
    )
    # a series starts at its first period with any units (stock KPIs run from the calendar start)
    # and ends at its last complete period (the running one would read as a collapse)
    started = values["value"].fillna(0).ne(0).cumsum().gt(0)
    values = values[started & complete(values, grain, as_of)]
    targets = query(
        args,
        f"select period_start, target_value from serving.kpi_status where {where} "
        "and target_value is not null order by period_start",
        keys,
    )
    st.altair_chart(trend_chart(values, targets, kpi_name), width="stretch")

    st.subheader("Outputs against the outcomes they should move")
    pairs = query(
        args,
        "select * from serving.output_outcome_pairs where grain = ? and dimension_name = ? "
        "and dimension_value = ? order by output_trap_period_count desc, "
        "lag_status = 'significant' desc, output_kpi_id, outcome_kpi_id",
        [grain, dimension, dim_value],
    )
    if pairs.empty:
        st.info(f"No output -> outcome analysis at {grain} grain for this slice.")
    else:
        labels = pairs["output_kpi_name"] + " -> " + pairs["outcome_kpi_name"]
        choice = st.selectbox("Pair", list(labels))
        pair = pairs[labels == choice].iloc[0]
        lag = pair["best_lag_periods"]
        lag_text = "no significant lag" if pd.isna(lag) else f"best lag {int(lag)} {grain}(s)"
        st.markdown(f"**{lag_text}** · {pair['lag_status']} · {pair['finding']}")
        pair_keys = [pair["output_kpi_id"], pair["outcome_kpi_id"], grain, dimension, dim_value]
        series = query(
            args,
            "select o.period_start, o.value as output_value, c.value as outcome_value "
            "from serving.kpi_values as o join serving.kpi_values as c "
            "on o.grain = c.grain and o.period_start = c.period_start "
            "and o.dimension_name = c.dimension_name and o.dimension_value = c.dimension_value "
            "where o.kpi_id = ? and c.kpi_id = ? and o.grain = ? and o.dimension_name = ? "
            "and o.dimension_value = ? order by 1",
            pair_keys,
        )
        series = series[complete(series, grain, as_of)]
        traps = query(
            args,
            "select period_start from serving.output_trap_periods where output_kpi_id = ? "
            "and outcome_kpi_id = ? and grain = ? and dimension_name = ? "
            "and dimension_value = ? and is_output_trap",
            pair_keys,
        )
        st.altair_chart(
            pair_chart(series, traps, pair["output_kpi_name"], pair["outcome_kpi_name"]),
            width="stretch",
        )
        st.caption(f"{len(traps)} output-trap period(s) marked in red")

    st.subheader("Scorecard")
    st.dataframe(
        scorecard[
            [
                "kpi_name",
                "bsc_perspective",
                "value_chain_layer",
                "owner",
                "review_grain",
                "latest_value",
                "target_value",
                "status",
                "is_anomaly",
                "is_output_trap",
                "leading_finding",
            ]
        ],
        hide_index=True,
        width="stretch",
    )


if __name__ == "__main__":
    main()
