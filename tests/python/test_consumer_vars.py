"""A consumer's vars never break the package's own tests: the integration project (a consumer
that installs the package) built with every definitional var set to a non-default value
(definitional_vars.CONSUMER_VALUES), the package's unit tests included. Each unit test pins the
definition its expected rows assume (`overrides: vars:`), and dbt lets that pin win over both a
`--vars` value and a var in the consumer's dbt_project.yml; both ways are built here.

The integration project's comparison with hand-computed values assumes the default definitions
(its expected seed), so it is left out of the build and checked to disagree instead: proof that
the consumer's definitions reached the models while the unit tests kept their own. The
integration project builds no manufacturing or sales, so the package's own project also runs all
of its unit tests under the same --vars."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import yaml

from conftest import (
    BUILD_SELECT,
    ROOT,
    consumer_dbt_args,
    install_consumer_project,
    run_dbt,
)
from definitional_vars import CONSUMER_VALUES

COMPARISON = "assert_kpi_values_match_expected"


def unit_test_statuses(target: Path) -> dict[str, str]:
    run_results = json.loads((target / "run_results.json").read_text())
    return {
        r["unique_id"]: r["status"]
        for r in run_results["results"]
        if r["unique_id"].startswith("unit_test.output_kpis.")
    }


def enabled_package_unit_tests(target: Path) -> set[str]:
    manifest = json.loads((target / "manifest.json").read_text())
    return {uid for uid, u in manifest["unit_tests"].items() if u["package_name"] == "output_kpis"}


def test_consumer_definitions_leave_the_package_unit_tests_passing(tmp_path: Path) -> None:
    project = install_consumer_project(ROOT / "integration_tests", tmp_path)
    db_path = tmp_path / "output_kpis.duckdb"
    common = consumer_dbt_args(project, db_path, json.dumps(CONSUMER_VALUES))
    run_dbt(["seed"], **common)
    result = run_dbt(["build", *BUILD_SELECT, "--exclude", COMPARISON], **common, check=False)
    assert result.returncode == 0, result.stdout[-6000:]
    statuses = unit_test_statuses(project / "target")
    # every package unit test of an enabled domain ran (manufacturing and sales are off here)
    assert len(statuses) >= 15 and set(statuses) == enabled_package_unit_tests(project / "target")
    assert set(statuses.values()) == {"pass"}, statuses

    # The consumer's definitions did reach the models: no quarter grain any more, and January's
    # on-time rate (all its lines due well before as_of) counts the same lines as the default
    # definition's hand-computed value but more of them on time (90 minutes' tolerance, the
    # revised promise, shipment as the event).
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        grains = {
            g for (g,) in con.execute("select distinct grain from marts.fct_kpi_values").fetchall()
        }
        january = con.execute(
            """
            select expected.numerator, built.numerator, expected.denominator, built.denominator
            from main.expected_kpi_values as expected
            inner join marts.fct_kpi_values as built
                on expected.kpi_id = built.kpi_id
                and expected.grain = built.grain
                and cast(expected.period_start as date) = built.period_start
                and expected.dimension_name = built.dimension_name
                and expected.dimension_value = built.dimension_value
            where expected.kpi_id = 'on_time_rate' and expected.grain = 'month'
                and expected.period_start = '2025-01-01' and expected.dimension_name = 'overall'
            """
        ).fetchall()
    finally:
        con.close()
    assert grains == set(CONSUMER_VALUES["kpi_grains"])
    assert len(january) == 1
    expected_numerator, numerator, expected_denominator, denominator = january[0]
    assert denominator == expected_denominator and numerator > expected_numerator

    # The same definitions as the consumer's project vars instead of --vars: the pins win too.
    config_path = project / "dbt_project.yml"
    config = yaml.safe_load(config_path.read_text())
    config["vars"] = {**config["vars"], **CONSUMER_VALUES}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    unit_only = run_dbt(
        ["test", "--select", "package:output_kpis,test_type:unit"],
        **{**common, "dbt_vars": "{}"},
        check=False,
    )
    assert unit_only.returncode == 0, unit_only.stdout[-6000:]
    project_var_statuses = unit_test_statuses(project / "target")
    assert set(project_var_statuses) == set(statuses)
    assert set(project_var_statuses.values()) == {"pass"}, project_var_statuses


def test_every_package_unit_test_passes_under_consumer_vars(
    warehouse_copy: Path, tmp_path: Path, profiles_dir: Path
) -> None:
    """The integration project has no plant and no CRM: the package's own project runs every
    unit test (manufacturing and sales too) on its built warehouse with the consumer's --vars."""
    target = tmp_path / "target"
    result = run_dbt(
        ["test", "--select", "test_type:unit"],
        db_path=warehouse_copy,
        target_path=target,
        profiles_dir=profiles_dir,
        dbt_vars=json.dumps(CONSUMER_VALUES),
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    statuses = unit_test_statuses(target)
    assert len(statuses) >= 30 and set(statuses) == enabled_package_unit_tests(target)
    assert set(statuses.values()) == {"pass"}, statuses
