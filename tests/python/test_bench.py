"""The benchmark harness's own parts: the base/append split, the per-step measurement and the
report. (`make bench` itself runs outside `make test`: it times things, tests do not.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi_tooling.bench import append, dbt_timing, report, run
from kpi_tooling.bench.measure import run_step
from kpi_tooling.bench.run import label_of, parse_rows
from kpi_tooling.errors import StepFailed


@pytest.fixture(scope="module")
def split_demo(module_warehouse_copy: Path, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("split") / "base.duckdb"
    cutoff = append.cutoff_for_share(module_warehouse_copy, 0.01)
    counts = append.split(module_warehouse_copy, base, cutoff)
    return module_warehouse_copy, base, cutoff, counts


def test_cutoff_leaves_about_one_percent(split_demo) -> None:
    _, _, cutoff, counts = split_demo
    appended = sum(c["appended"] for c in counts.values())
    total = sum(c["total"] for c in counts.values())
    assert "2025-12-01" < cutoff <= "2025-12-31"
    assert 0.002 < appended / total < 0.03, (appended, total)


def test_base_holds_only_rows_before_the_cutoff(split_demo) -> None:
    _, base, cutoff, counts = split_demo
    with duckdb.connect(str(base), read_only=True) as con:
        for table, column in append.TIMELINE.items():
            late = con.execute(
                f"select count(*) from raw.{table} where cast({column} as varchar) >= ?",
                [cutoff],
            ).fetchone()[0]
            assert late == 0, table
        for table, (_, column) in append.UPDATED_LATER.items():
            filled_late = con.execute(
                f"select count(*) from raw.{table} where cast({column} as varchar) >= ?",
                [cutoff],
            ).fetchone()[0]
            assert filled_late == 0, table
        # children follow their parents: no defect of a held-back event stays in the base
        orphans = con.execute(
            "select count(*) from raw.mes_defects where event_id not in "
            "(select event_id from raw.mes_unit_events)"
        ).fetchone()[0]
        assert orphans == 0
    assert counts["mes_unit_events"]["appended"] > 0
    assert counts["mes_sites"]["appended"] == 0


def test_base_plus_append_is_the_full_data(split_demo) -> None:
    full, base, _, counts = split_demo
    with duckdb.connect(str(base), read_only=True) as con:
        con.execute(f"attach '{full}' as full_db (read_only)")
        for table, count in counts.items():
            assert count["base"] + count["appended"] == count["total"]
            if table in append.UPDATED_LATER:
                continue
            missing = con.execute(
                f"select count(*) from (select * from raw.{table} "
                f"except all select * from full_db.raw.{table})"
            ).fetchone()[0]
            assert missing == 0, f"{table}: base rows that are not in the full data"


def test_run_step_measures_the_child_peak_rss(tmp_path: Path) -> None:
    code = "x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"
    measurement = run_step("alloc", [sys.executable, "-c", code], log=tmp_path / "log")
    assert measurement.peak_rss_mib >= 300
    small = run_step("small", [sys.executable, "-c", "pass"])
    assert small.peak_rss_mib < 200


def test_run_step_counts_a_descendant_the_step_did_not_wait_for(tmp_path: Path) -> None:
    """As PySpark leaves its JVM: the step starts a process, does not wait, and exits first."""
    grandchild = (
        "import time; x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); "
        "time.sleep(1)"
    )
    code = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {grandchild!r}])"
    measurement = run_step("orphan", [sys.executable, "-c", code], log=tmp_path / "log")
    assert measurement.peak_rss_mib >= 300
    assert measurement.seconds >= 1  # its orphan was waited for


def test_run_step_raises_with_the_log_tail_and_keeps_the_measurement(tmp_path: Path) -> None:
    code = "import sys; x = bytearray(200 * 1024 * 1024); print('boom'); sys.exit(3)"
    with pytest.raises(StepFailed, match="boom") as failure:
        run_step("fail", [sys.executable, "-c", code], log=tmp_path / "log")
    # a failed step (say an out-of-memory build) still reports its time and peak RSS
    assert failure.value.measurement.exit_code == 3
    assert failure.value.measurement.failed
    assert failure.value.measurement.peak_rss_mib >= 200


def test_rows_parsing_and_labels() -> None:
    assert parse_rows("10M") == 10_000_000
    assert parse_rows("250k") == 250_000
    assert parse_rows("1_000_000") == 1_000_000
    assert label_of(100_000_000) == "100M"
    assert label_of(250_000) == "250k"


def _result(**seconds: float) -> dict:
    return {
        "label": "10M",
        "requested_rows": 10_000_000,
        "seed": 42,
        "started_at": "2026-12-01T00:00:00+00:00",
        "machine": {
            "cores": 2,
            "cpu": "test cpu",
            "memory_gib": 24,
            "os": "linux",
            "python": "3.11",
            "duckdb": "1.4.5",
            "dbt_core": "1.11",
            "dbt_duckdb": "1.11",
            "pandas": "2",
            "great_expectations": "1.24",
            "duckdb_threads": 2,
            "duckdb_memory_limit": "6GB",
            "load_average_at_start": [0.1, 0.1, 0.1],
        },
        "steps": {
            name: {"step": name, "seconds": s, "peak_rss_mib": 1000.0, "command": ""}
            for name, s in seconds.items()
        },
        "checks": {"limit_equals_mart": {"equal": True, "rows": 5}},
        "data": {"generator": {"rows_total": 9_963_250}, "lineage_model_seconds": 20.0},
    }


def test_report_states_met_and_missed_targets(tmp_path: Path) -> None:
    result = _result(build=100.0, tests=30.0, ge=20.0, incremental=16.0, limit=10.0, pandas=90.0)
    rows = {name: (measured, verdict) for name, measured, _, verdict in report.targets(result)}
    assert rows["full build / limit"] == ("10.00", "**missed**")
    assert rows["like-for-like: lineage model time / limit"] == ("2.00", "met")
    assert rows["incremental / full build"] == ("0.16", "**missed**")
    assert rows["GE / full build"] == ("0.20", "met")
    assert rows["pandas / full build"] == ("0.90", "**missed**")
    result["steps"]["incremental"]["seconds"] = 15.0
    result["steps"]["pandas"]["seconds"] = 100.0
    rows = {name: verdict for name, _, _, verdict in report.targets(result)}
    assert rows["incremental / full build"] == "met"
    assert rows["pandas / full build"] == "met"
    (tmp_path / "bench-10M.json").write_text(json.dumps(result))
    out = tmp_path / "BENCHMARKS.md"
    report.write(tmp_path, out)
    text = out.read_text()
    assert "## 10M rows (seed 42)" in text
    assert "| full build with tests and GE | 150.0 | | | | 1.50 | |" in text
    assert "| incremental / full build | 0.15 | ≤ 0.15 | met |" in text
    assert "9,963,250" in text


def test_report_shows_a_failed_build(tmp_path: Path) -> None:
    result = _result(build=1800.0)
    result["steps"]["build"]["exit_code"] = 1
    result["steps"]["build"]["detail"] = {
        "dbt_elapsed_seconds": 1790.0,
        "node_statuses": {"success": 40, "error": 2, "skipped": 27},
    }
    result["data"]["failed_step"] = {
        "step": "build",
        "exit_code": 1,
        "log_tail": "Out of Memory Error: failed to pin block",
    }
    rows = {name: (measured, verdict) for name, measured, _, verdict in report.targets(result)}
    assert rows["full build runs to completion"] == ("no (exit 1)", "**missed**")
    text = report.render([result])
    assert "**FAILED (exit 1)**" in text
    assert "dbt nodes: error 2, skipped 27, success 40" in text
    assert "Out of Memory Error" in text
    ok = _result(build=100.0)
    ok_rows = {name: verdict for name, _, _, verdict in report.targets(ok)}
    assert ok_rows["full build runs to completion"] == "met"


def test_report_shows_spark_beside_duckdb_and_the_demo_by_name() -> None:
    result = _result(build=60.0, incremental=30.0, spark_build=480.0, spark_incremental=240.0)
    result["checks"]["spark_equals_duckdb"] = {"equal": False, "marts.fct_kpi_values": {}}
    result["data"]["notes"] = ["the JVM was sampled"]
    text = report.render([result])
    assert "## 10M rows (seed 42) on DuckDB and Spark" in text
    assert "| **Spark** full model build (`dbt run`, all models) | 480.0 |" in text
    assert "| 8.00 |" in text  # x full build: against DuckDB's
    assert "- spark_equals_duckdb: NOT EQUAL" in text
    assert "Note: the JVM was sampled" in text
    demo = _result(build=6.0)
    demo["label"] = "demo"
    assert "## The demo data (seeds/raw)\n" in report.render([demo])


def _dbt_log(path: Path, events: list[tuple[str, str]]) -> Path:
    """A dbt JSON event log (--log-format-file json): one event per second from 03:00:00."""
    lines = [
        json.dumps({"info": {"name": name, "msg": msg, "ts": f"2026-12-04T03:00:{i:02d}.5Z"}})
        for i, (name, msg) in enumerate(events)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dbt_timing_splits_start_up_and_parsing_from_the_run(tmp_path: Path) -> None:
    results = tmp_path / "run_results.json"
    results.write_text(
        json.dumps({"elapsed_time": 30.0, "results": [{"status": "success"}] * 3}),
        encoding="utf-8",
    )
    partial = _dbt_log(
        tmp_path / "partial.log",
        [
            ("MainReportVersion", "Running with dbt=1.11"),
            ("PartialParsingEnabled", "Partial parsing enabled: 0 files changed."),
            ("PartialParsingSkipParsing", "no changes found, skipping parsing"),
            ("FoundStats", "Found 90 models"),
            ("LogModelResult", "OK"),
        ],
    )
    detail = dbt_timing.detail(results, partial, wall_seconds=36.5)
    assert detail == {
        "dbt_elapsed_seconds": 30.0,
        "node_statuses": {"success": 3},
        "startup_parse_seconds": 6.5,
        "parse_seconds": 3.0,
        "parse": "partial",
    }
    full = _dbt_log(
        tmp_path / "full.log",
        [
            ("MainReportVersion", "Running with dbt=1.11"),
            (
                "UnableToPartialParse",
                "Unable to do partial parsing because config vars, config profile, or config "
                "target have changed",
            ),
            ("FoundStats", "Found 90 models"),
        ],
    )
    facts = dbt_timing.parse_facts(full)
    assert facts["parse"] == "full"
    assert facts["parse_seconds"] == 2.0
    assert "config vars" in facts["full_parse_reason"]


def test_report_splits_dbt_steps_into_start_up_parse_and_model_time() -> None:
    result = _result(build=100.0, base_build=90.0, incremental=20.0)
    result["data"]["incremental_form"] = "daily"
    details = {
        "build": (12.0, 8.0, "partial", 88.0),
        "base_build": (11.0, 7.5, "partial", 79.0),
        "incremental": (9.0, 6.0, "partial", 11.0),
    }
    for step, (startup, parse, form, elapsed) in details.items():
        result["steps"][step]["detail"] = {
            "startup_parse_seconds": startup,
            "parse_seconds": parse,
            "parse": form,
            "dbt_elapsed_seconds": elapsed,
        }
    result["checks"]["incremental_parses_partially"] = {
        "equal": True,
        "verdict": "partial parse",
        "reason": "saved partial_parse.msgpack reused",
    }
    text = report.render([result])
    assert (
        "| step | seconds | start-up + parse | of which parsing | dbt elapsed "
        "| x full build | peak RSS (MiB) |"
    ) in text
    assert (
        "| incremental run after the append (the same `dbt run`) | 20.0 | 9.0 | 6.0 (partial) "
        "| 11.0 | 0.20 | 1,000 |"
    ) in text
    assert "- incremental_parses_partially: partial parse (saved partial_parse" in text
    assert "predates the daily-run form" not in text
    # a result of the earlier form (different as_of per run) says so
    del result["data"]["incremental_form"]
    assert "predates the daily-run form" in report.render([result])


def test_report_names_the_code_it_measured(tmp_path: Path) -> None:
    result = _result(build=100.0)
    assert "code not recorded." in report.render([result])
    result["machine"]["code"] = "abc1234-dirty"
    assert "code abc1234-dirty." in report.render([result])
    if not (run.ROOT / ".git").exists():
        assert run.code_version() == "unknown"
        return
    version = run.code_version()
    assert (
        version.removesuffix("-dirty")
        in subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=run.ROOT, capture_output=True, text=True, check=True
        ).stdout
    )


def test_report_profiles_each_run_and_the_noop_rerun() -> None:
    result = _result(build=100.0, base_build=90.0, incremental=40.0, rerun=30.0)
    result["data"]["model_seconds"] = {"a": 5.0, "b": 7.0}
    result["data"]["incremental_model_seconds"] = {"a": 1.0, "b": 3.0}
    text = report.render([result])
    assert "Slowest models in the full build (seconds; 2 models, 12.0 s summed): `b` 7.0" in text
    assert "Slowest models in the incremental run (seconds; 2 models, 4.0 s summed)" in text
    assert "Slowest models in the no-op rerun" not in text  # no model seconds recorded
    assert "| no-op rerun: the same `dbt run` again, no new rows | 30.0 |" in text


def test_benchmarks_page_is_rendered_from_the_stored_results() -> None:
    """docs/BENCHMARKS.md is generated: the stored results rendered by the current report
    code (after a change to either, `make bench` or report.write regenerates it)."""
    results = report.load(run.ROOT / "docs" / "benchmarks")
    assert {result["label"] for result in results} >= {"10M", "100M"}
    page = (run.ROOT / "docs" / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert page == report.render(results)
