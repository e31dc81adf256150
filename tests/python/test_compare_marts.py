"""kpi_tooling.publish.compare_marts on two tiny DuckDB builds: identical, float noise, a real
change."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kpi_tooling.publish import compare_marts


def make_build(path: Path, values: list[tuple[str, float]], extra_view: bool = False) -> Path:
    """A file named build.duckdb (as both real builds are), with a mart and a serving view
    over it that names its catalog, and a staging table the comparison must ignore."""
    path.mkdir(parents=True, exist_ok=True)
    db = path / "build.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create schema serving; create schema staging")
    con.execute(
        "create table marts.fct_values (kpi_id varchar, value double, rebuilt_at timestamp)"
    )
    con.executemany("insert into marts.fct_values values (?, ?, now())", values)
    con.execute(
        "create view serving.kpi_values as select kpi_id, value from build.marts.fct_values"
    )
    con.execute("create table staging.stg_x as select 1 as x")
    if extra_view:
        con.execute("create view serving.extra as select 1 as x")
    con.close()
    return db


ROWS = [("a", 0.1 + 0.2), ("b", 2.0), ("b", 2.0)]


def test_identical_builds_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = make_build(tmp_path / "before", ROWS)
    after = make_build(tmp_path / "after", list(reversed(ROWS)))
    assert compare_marts.main(["--before", str(before), "--after", str(after)]) == 0
    out = capsys.readouterr().out
    assert "marts.fct_values" in out and "serving.kpi_values" in out
    assert "staging" not in out
    assert "IDENTICAL: 2 relations" in out


def test_a_changed_or_missing_row_fails(tmp_path: Path) -> None:
    before = make_build(tmp_path / "before", ROWS)
    after = make_build(tmp_path / "after", ROWS[:2])  # one duplicate row fewer: EXCEPT ALL
    results = {r.relation: r for r in compare_marts.compare(before, after)}
    assert (results["marts.fct_values"].only_before, results["marts.fct_values"].only_after) == (
        1,
        0,
    )
    assert compare_marts.main(["--before", str(before), "--after", str(after)]) == 1


def test_float_noise_fails_exactly_and_passes_within_tolerance(tmp_path: Path) -> None:
    before = make_build(tmp_path / "before", ROWS)
    after = make_build(tmp_path / "after", [("a", 0.3), ("b", 2.0), ("b", 2.0)])
    args = ["--before", str(before), "--after", str(after)]
    assert compare_marts.main(args) == 1
    assert compare_marts.main([*args, "--float-tolerance", "1e-9"]) == 0
    bigger = make_build(tmp_path / "bigger", [("a", 0.31), ("b", 2.0), ("b", 2.0)])
    assert compare_marts.main([*args[:3], str(bigger), "--float-tolerance", "1e-9"]) == 1


def test_a_relation_on_one_side_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = make_build(tmp_path / "before", ROWS)
    after = make_build(tmp_path / "after", ROWS, extra_view=True)
    assert compare_marts.main(["--before", str(before), "--after", str(after)]) == 1
    assert "only after" in capsys.readouterr().out
