"""The team tables of the declared demo units: deterministic, declared consistently, signals
planted (kpi_tooling/demo/teams.py, docs/DEMO_TEAMS.md).

Pure Python and an in-memory DuckDB (no dbt): the monthly series are computed from the CSVs
with the declarations' own predicates, columns and time zones read from dbt_project.yml, so a
declaration that drifts from its table fails here before the build.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from statistics import correlation, mean

import duckdb
import pytest
import yaml

from kpi_tooling.demo import teams as demo_teams
from kpi_tooling.demo.data import main as demo_data_main

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "seeds" / "raw"
AS_OF = "2026-01-01 00:00:00+00"
MONTHS = demo_teams.MONTHS
SQL_WORDS = {"and", "or", "not", "is", "null", "true", "false", "in", "interval", "day", "like"}

Month = tuple[int, int]


@cache
def project_vars() -> dict:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def units() -> dict[str, dict]:
    return project_vars()["output_kpis_demo_units"]


@cache
def seed_types() -> dict[str, dict[str, str]]:
    config = yaml.safe_load((ROOT / "seeds/raw/_raw__seeds.yml").read_text(encoding="utf-8"))
    return {seed["name"]: seed["config"]["column_types"] for seed in config["seeds"]}


def table_of(unit: dict) -> str:
    match = re.fullmatch(r"ref\('([a-z0-9_]+)'\)", unit["relation"])
    assert match, unit["relation"]
    return match.group(1)


def header(directory: Path, table: str) -> list[str]:
    with (directory / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def monthly(directory: Path, unit_id: str) -> dict[Month, tuple[int, int]]:
    """(counted units, counted units meeting the quality rule) by local month of completion,
    following the declaration's counting rules (docs/adding_a_kpi.md)."""
    unit = units()[unit_id]
    table = table_of(unit)
    types = seed_types()[table]
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}"
    done = unit["completed_at"]
    if types[done] == "date":  # a local date: reported that day, completed before as_of
        local, completed = done, f"{done} < date '{AS_OF[:10]}'"
    else:
        instant = f"cast({done} as timestamptz)"
        local = f"timezone('{unit['time_zone']}', {instant})"
        completed = f"{instant} < timestamptz '{AS_OF}'"
    not_excluded = " and ".join(
        f"not coalesce(({e['when']}), false)" for e in unit.get("excluded", [])
    )
    quality = unit.get("quality", {}).get("when", "false")
    sql = f"""
        select year({local}), month({local}), count(*),
            count(*) filter (where coalesce(({quality}), false))
        from read_csv('{directory / f"{table}.csv"}', header = true, auto_detect = false,
            nullstr = '', columns = {columns})
        where {done} is not null and {completed}
            and coalesce(({unit.get("counts_when", "true")}), false)
            {"and " + not_excluded if not_excluded else ""}
        group by all
    """
    with duckdb.connect() as con:
        return {(y, m): (n, good) for y, m, n, good in con.execute(sql).fetchall()}


def counts(series: dict[Month, tuple[int, int]]) -> list[float]:
    return [series.get(month, (0, 0))[0] for month in MONTHS]


def rates(series: dict[Month, tuple[int, int]]) -> list[float]:
    return [series[month][1] / series[month][0] for month in MONTHS]


def lag_r(driver: list[float], outcome: list[float], lag: int) -> float:
    return correlation(driver[: len(driver) - lag], outcome[lag:])


def window(values: list[float], first: Month, last: Month) -> float:
    return mean(values[MONTHS.index(first) : MONTHS.index(last) + 1])


# --- determinism ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("teams_a")
    demo_teams.write(out, 42)
    return out


def test_same_seed_is_byte_identical_and_equals_the_committed_seeds(
    generated: Path, tmp_path: Path
) -> None:
    demo_teams.write(tmp_path, 42)
    for table in demo_teams.COLUMNS:
        produced = (generated / f"{table}.csv").read_bytes()
        assert produced == (tmp_path / f"{table}.csv").read_bytes(), table
        assert produced == (RAW / f"{table}.csv").read_bytes(), f"{table}: run make demo-data"


def test_another_seed_differs_but_keeps_the_edge_rows(generated: Path, tmp_path: Path) -> None:
    demo_teams.write(tmp_path, 7)
    for table in ("mkt_content_pieces", "hr_hires", "eng_deployments", "rd_submissions"):
        other = (tmp_path / f"{table}.csv").read_text(encoding="utf-8")
        assert other != (generated / f"{table}.csv").read_text(encoding="utf-8"), table
        edges = [line for line in other.splitlines() if "-EDGE-" in line.split(",")[0]]
        assert len(edges) >= 4, table


def test_make_demo_data_writes_the_team_tables(tmp_path: Path, generated: Path) -> None:
    assert (
        demo_data_main(["--out", str(tmp_path), "--seed", "42", "--scale", "0.02", "--quiet"]) == 0
    )
    for table in demo_teams.COLUMNS:
        assert (tmp_path / f"{table}.csv").read_bytes() == (generated / f"{table}.csv").read_bytes()


def test_rows_sorted_by_unique_key_and_sizes(generated: Path) -> None:
    total = 0
    for table, columns in demo_teams.COLUMNS.items():
        assert header(generated, table) == list(columns)
        with (generated / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            keys = [row[0] for row in csv.reader(handle)][1:]
        assert keys == sorted(keys) and len(keys) == len(set(keys)), table
        assert 200 <= len(keys) <= 8000, (table, len(keys))
        total += len(keys)
    assert total < 20_000


def test_nothing_happens_at_or_after_as_of(generated: Path) -> None:
    for table, columns in demo_teams.COLUMNS.items():
        instants = [i for i, c in enumerate(columns) if seed_types()[table][c] == "varchar"]
        with (generated / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            for row in list(csv.reader(handle))[1:]:
                for i in instants:
                    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[i]):
                        assert "2024-01-01T00:00:00Z" <= row[i] < "2026-01-01T00:00:00Z", row


# --- the declarations and the tables agree ------------------------------------------------------
def test_seed_column_types_follow_the_csv_headers() -> None:
    for table, columns in demo_teams.COLUMNS.items():
        assert list(seed_types()[table]) == list(columns), table
        assert list(columns) == header(RAW, table), table


def _predicate_columns(predicate: str) -> set[str]:
    without_literals = re.sub(r"'[^']*'", " ", predicate)
    return set(re.findall(r"[a-z_][a-z0-9_]*", without_literals)) - SQL_WORDS


@pytest.mark.parametrize("unit_id", list(units()))
def test_declared_columns_exist_in_the_csv(unit_id: str) -> None:
    unit = units()[unit_id]
    table = table_of(unit)
    assert table in demo_teams.COLUMNS
    named = {unit["key"], unit["completed_at"], *unit.get("dimensions", {}).values()}
    named |= {unit[f] for f in ("actor",) if f in unit}
    named |= {unit["deadline"]["column"]} if "deadline" in unit else set()
    predicates = [unit.get("counts_when", ""), unit.get("quality", {}).get("when", "")]
    predicates += [e["when"] for e in unit.get("excluded", [])]
    for predicate in predicates:
        named |= _predicate_columns(predicate)
    assert named <= set(header(RAW, table)), sorted(named - set(header(RAW, table)))


def test_declarations_follow_the_governance_rules() -> None:
    with (ROOT / "seeds/reference/kpi_registry.csv").open(encoding="utf-8", newline="") as f:
        registry = list(csv.DictReader(f))
    kpis = {k: (uid, spec) for uid, unit in units().items() for k, spec in unit["kpis"].items()}
    assert len(kpis) == sum(len(unit["kpis"]) for unit in units().values())  # ids unique
    # the package's own KPIs: the seed's and those declared in var output_kpis_builtin_units
    package = {row["kpi_id"]: row["owner"] for row in registry}
    for unit in project_vars()["output_kpis_builtin_units"].values():
        package |= {kpi_id: spec["owner"] for kpi_id, spec in unit["kpis"].items()}
    assert len(package) > len(registry)
    assert not set(kpis) & set(package)
    owners: dict[str, int] = {}
    for owner in package.values():
        owners[owner] = owners.get(owner, 0) + 1
    domains_with_outcome = {units()[u]["domain"] for u, s in kpis.values() if s.get("layer")}
    assert domains_with_outcome == {"marketing", "hr", "engineering", "rd_compliance"}
    for kpi_id, (unit_id, spec) in kpis.items():
        owners[spec["owner"]] = owners.get(spec["owner"], 0) + 1
        assert spec["name"] and spec["target"], kpi_id
        targets = spec["target"] if isinstance(spec["target"], list) else [spec["target"]]
        assert any(t["grain"] == "month" and t["valid_from"] == "2024-01-01" for t in targets)
        if spec.get("layer") == "outcome":
            assert spec["measure"] == "count" and spec["kind"] in ("customer", "financial")
            continue
        for link in spec["outcomes"]:
            assert kpis[link["kpi"]][1].get("layer") == "outcome", (kpi_id, link)
            assert units()[kpis[link["kpi"]][0]]["domain"] == units()[unit_id]["domain"]
        if spec["measure"] in ("count", "per_actor"):
            for pair in spec["paired_with"]:
                assert kpis[pair["kpi"]][1]["measure"] in ("quality_rate", "on_time_rate")
    assert max(owners.values()) <= project_vars()["kpi_max_per_owner"], owners
    measures = {spec["measure"] for _, spec in kpis.values()}
    assert {"count", "per_actor", "quality_rate", "on_time_rate"} <= measures


# --- planted signals ----------------------------------------------------------------------------
def test_planted_lead_first_time_right_leads_organic_leads_by_one_month() -> None:
    share = rates(monthly(RAW, "content_piece"))
    leads = counts(monthly(RAW, "organic_lead"))
    r = {lag: lag_r(share, leads, lag) for lag in (0, 1, 2)}
    assert r[1] > 0.8, r
    assert abs(r[0]) < 0.5 and abs(r[2]) < 0.5, r
    assert max(share) - min(share) > 0.2  # the share varies: two dips


def test_planted_trap_volume_up_organic_leads_flat() -> None:
    volume = counts(monthly(RAW, "content_piece"))
    leads = counts(monthly(RAW, "organic_lead"))
    share = rates(monthly(RAW, "content_piece"))
    h2, q2 = ((2025, 7), (2025, 12)), ((2025, 4), (2025, 6))
    assert window(volume, *h2) / window(volume, *q2) - 1 >= 0.30
    assert abs(window(leads, *h2) / window(leads, *q2) - 1) <= 0.10
    # The package's own test: trailing 3 months against the 3 before (month grain, Dec 2025).
    q4, q3 = ((2025, 10), (2025, 12)), ((2025, 7), (2025, 9))
    rise = project_vars()["output_trap_output_threshold"]
    flat = project_vars()["output_trap_outcome_flat_tolerance"]
    assert window(volume, *q4) / window(volume, *q3) - 1 >= rise
    assert window(leads, *q4) / window(leads, *q3) - 1 <= flat
    assert min(volume[MONTHS.index(q3[0]) :]) >= project_vars()["output_trap_min_window_units"] / 3
    # Quality still varies inside the window (the lead is not flattened away).
    assert max(share[-6:]) - min(share[-6:]) > 0.02


@pytest.mark.parametrize(
    ("output_unit", "outcome_unit", "lags", "sign", "bound"),
    [
        ("hire", "employee_departure", (1, 2, 3), -1, 0.3),
        ("feature_deployment", "feature_adoption", (0, 1, 2), 1, 0.4),
        ("submission", "approval", (2, 3, 4), 1, 0.4),
    ],
)
def test_each_family_quality_moves_its_outcome(
    output_unit: str, outcome_unit: str, lags: tuple[int, ...], sign: int, bound: float
) -> None:
    quality = rates(monthly(RAW, output_unit))
    outcome = counts(monthly(RAW, outcome_unit))
    best = max(sign * lag_r(quality, outcome, lag) for lag in lags)
    assert best > bound, [round(lag_r(quality, outcome, lag), 2) for lag in range(5)]
