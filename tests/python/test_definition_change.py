"""Changing a unit's definition must be caught twice: by a dbt unit test and by its GE suite.

The change: let a unit that was repaired after passing inspection count as first-pass
(drop the "no rework or repair" condition from int_manufacturing__first_pass_inspections).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, ROOT, Warehouse, run_dbt

FPY_MODEL = "models/intermediate/manufacturing/int_manufacturing__first_pass_inspections.sql"
REWORK_CONDITION = "            and step_activity.rework_count = 0\n"
SUITE = "int_manufacturing__first_pass_inspections"

# From the raw unit events to the unit model: the base model, staging view, the list of serials
# to compute (the added unit is among them) and the incremental unit models that read it.
RAW_TO_UNITS = (
    "base_mes__unit_events",
    "stg_mes__unit_events",
    "int_manufacturing__serials_to_build",
    "int_manufacturing__event_scans",
    "int_manufacturing__unit_events",
)


def copy_project(destination: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", ".git", "target", "warehouse", "logs", "__pycache__")
    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


def add_repaired_after_pass_unit(db_path: Path) -> None:
    """A raw unit that passed FCT and was then repaired there: not first-pass by definition."""
    con = duckdb.connect(str(db_path))
    try:
        work_order_id, step_local = con.execute(
            """
            select e.work_order_id, max(e.event_local)
            from raw.mes_unit_events as e
            where e.step_code = 'FCT'
            group by e.work_order_id
            order by e.work_order_id
            limit 1
            """
        ).fetchone()
        con.execute(
            """
            insert into raw.mes_unit_events
                (event_id, serial_number, work_order_id, step_code, event_type, result,
                 event_local, station_id)
            values
                ('E-MUT-1', 'SN-MUTATION', ?, 'FCT', 'inspection', 'pass', ?, 'ST-MUT'),
                ('E-MUT-2', 'SN-MUTATION', ?, 'FCT', 'repair', null,
                 ? + interval 10 minute, 'ST-MUT')
            """,
            [work_order_id, step_local, work_order_id, step_local],
        )
    finally:
        con.close()


def validate(db_path: Path, manifest: Path, suites: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "kpi_tooling.ge.validate",
            "--db",
            str(db_path),
            "--manifest",
            str(manifest),
            "--suites",
            str(suites),
            "--out",
            str(out),
            "--suite",
            SUITE,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize("mutate", [False, True], ids=["definition-intact", "rework-counts"])
def test_definition_change_fails_unit_test_and_ge_suite(
    mutate: bool, warehouse: Warehouse, profiles_dir: Path, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "project")
    model = project / FPY_MODEL
    sql = model.read_text()
    assert REWORK_CONDITION in sql, "the first-pass definition moved; update this test"
    if mutate:
        model.write_text(sql.replace(REWORK_CONDITION, ""))

    db_path = tmp_path / "db" / warehouse.db_path.name  # the file name is the dbt catalog
    db_path.parent.mkdir()
    shutil.copy(warehouse.db_path, db_path)
    add_repaired_after_pass_unit(db_path)
    common = {
        "db_path": db_path,
        "target_path": tmp_path / "target",
        "profiles_dir": profiles_dir,
        "project_dir": project,
    }

    unit = run_dbt(["test", "--select", f"{SUITE},test_type:unit"], check=False, **common)
    # run the models between the raw table and the unit model so the added raw rows reach it
    run_dbt(
        ["run", "--select", *RAW_TO_UNITS, SUITE],
        **common,
    )
    ge = validate(
        db_path,
        tmp_path / "target" / "manifest.json",
        project / "expectations",
        tmp_path / "ge.json",
    )

    if not mutate:
        assert unit.returncode == 0, unit.stdout[-3000:]
        assert ge.returncode == 0, ge.stdout[-3000:] + ge.stderr[-3000:]
        return
    assert unit.returncode != 0, "the unit test did not catch the definition change"
    assert "first_pass_inspections_definition_edge_cases" in unit.stdout
    assert ge.returncode == 1, ge.stdout[-3000:] + ge.stderr[-3000:]
    report = ge.stdout + ge.stderr
    assert "first_pass_yield" in report
    assert "SN-MUTATION|FCT" in report
