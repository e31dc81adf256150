"""The suite's dbt runs reuse dbt's parse (conftest.ParseReuse): two tests building into their
own DuckDB files and target folders, with the same project and vars, parse in full once.

Without the fixed path, the second run's profile differs (DuckDB's `path` is a connection key)
and dbt logs "Unable to do partial parsing because profile has changed" and parses the whole
project again (about 20 s a run, a hundred runs in the suite)."""

from __future__ import annotations

from pathlib import Path

from conftest import run_dbt

FULL_PARSE = "Unable to do partial parsing"


def test_a_second_file_and_target_reuse_the_first_parse(tmp_path: Path, profiles_dir: Path) -> None:
    runs = []
    for name in ("first", "second"):
        runs.append(
            run_dbt(
                ["parse"],
                db_path=tmp_path / name / "output_kpis.duckdb",
                target_path=tmp_path / name / "target",
                profiles_dir=profiles_dir,
            )
        )
        assert (tmp_path / name / "target" / "partial_parse.msgpack").exists()
    assert FULL_PARSE not in runs[1].stdout, runs[1].stdout[-2000:]


def test_a_parse_made_with_other_vars_is_not_handed_over(
    tmp_path: Path, profiles_dir: Path
) -> None:
    """Only a parse of the same vars is copied: with vars no earlier run used, the target gets
    no parse and dbt starts from scratch ("saved manifest not found"; a copied parse of other
    vars would read "config vars ... have changed")."""
    run_dbt(
        ["parse"],
        db_path=tmp_path / "a" / "output_kpis.duckdb",
        target_path=tmp_path / "a" / "target",
        profiles_dir=profiles_dir,
    )
    other = run_dbt(
        ["parse"],
        db_path=tmp_path / "b" / "output_kpis.duckdb",
        target_path=tmp_path / "b" / "target",
        profiles_dir=profiles_dir,
        dbt_vars='{"as_of": "2025-12-31 00:00:00", "test_parse_reuse_unique_var": 1}',
    )
    assert "saved manifest not found" in other.stdout, other.stdout[-2000:]
