"""The input contract: what each raw table must and may hold, and the errors that name it.

docs/YOUR_DATA.md's column table is checked against the package's rules (quarantine_spec,
printed by `dbt run-operation print_input_contract`); a raw table missing a required column,
or a table the project has not declared absent, fails the build naming table and column.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, Warehouse, copy_warehouse, run_dbt

DOC = ROOT / "docs" / "YOUR_DATA.md"


def _contract(tmp_path: Path, profiles_dir: Path) -> dict:
    result = run_dbt(
        ["run-operation", "print_input_contract"],
        db_path=tmp_path / "contract.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars="{}",
    )
    line = next(line for line in result.stdout.splitlines() if '{"mes_sites"' in line)
    return json.loads(line[line.index("{") :])


def _documented() -> dict[str, tuple[set[str], set[str]]]:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \| ([^|]*) \|", DOC.read_text(), re.MULTILINE)

    def names(cell: str) -> set[str]:
        return {re.sub(r" \(.*\)$", "", c.strip()) for c in cell.split(",") if c.strip() != "-"}

    return {table: (names(required), names(optional)) for table, required, optional in rows}


def test_documented_columns_are_the_rules(tmp_path: Path, profiles_dir: Path) -> None:
    contract = _contract(tmp_path, profiles_dir)
    expected = {
        table: (
            set(spec["required"]) - set(spec["required_by_var"]),
            set(spec["optional"]),
        )
        for table, spec in contract.items()
    }
    assert _documented() == expected


def _altered_copy(warehouse: Warehouse, tmp_path: Path, *statements: str) -> Path:
    """A copy of the demo warehouse with its raw tables altered by the statements."""
    db = copy_warehouse(warehouse, tmp_path)
    con = duckdb.connect(str(db))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return db


def _build_staging(db: Path, tmp_path: Path, profiles_dir: Path, dbt_vars: str = "{}") -> str:
    result = run_dbt(
        ["run", "--select", "+stg_oms__order_lines", "+stg_oms__shipments"],
        db_path=db,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=dbt_vars,
        check=False,
    )
    return result.stdout


def test_missing_required_column_names_table_and_column(
    warehouse: Warehouse, tmp_path: Path, profiles_dir: Path
) -> None:
    db = _altered_copy(
        warehouse,
        tmp_path,
        "alter table raw.oms_shipments drop column order_line_id",
        # an optional column left out is fine: read as its default
        "alter table raw.oms_order_lines drop column product_code",
    )
    out = _build_staging(db, tmp_path, profiles_dir)
    assert "oms_shipments) is missing required column(s): order_line_id" in out
    assert "OK created sql view model staging.stg_oms__order_lines" in out, out[-3000:]


@pytest.mark.parametrize(
    ("dropped", "message"),
    [
        (
            ["first_promised_date"],
            "needs at least one of the columns first_promised_date, first_promised_at",
        ),
        (["ordered_quantity"], "has no column ordered_quantity but oms_shipments has"),
    ],
)
def test_column_groups_are_enforced(
    warehouse: Warehouse, tmp_path: Path, profiles_dir: Path, dropped: list[str], message: str
) -> None:
    db = _altered_copy(
        warehouse, tmp_path, *(f"alter table raw.oms_order_lines drop column {c}" for c in dropped)
    )
    assert message in _build_staging(db, tmp_path, profiles_dir)


def test_missing_optional_table_says_how_to_declare_it_absent(
    warehouse: Warehouse, tmp_path: Path, profiles_dir: Path
) -> None:
    db = _altered_copy(warehouse, tmp_path, "drop table raw.oms_orders")
    result = run_dbt(
        ["run", "--select", "+stg_oms__orders"],
        db_path=db,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        check=False,
    )
    assert "does not exist or has no columns; if the project has no such table, list it in var" in (
        result.stdout
    )
    # declared absent: the staging model builds empty, the lines keep their orders' ids
    absent = json.dumps({"as_of": "2026-01-01", "output_kpis_absent_tables": ["oms_orders"]})
    built = run_dbt(
        ["run", "--select", "+stg_oms__orders", "+stg_oms__order_lines", "+stg_oms__shipments"],
        db_path=db,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=absent,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        orders = con.execute("select count(*) from staging.stg_oms__orders").fetchone()[0]
        lines = con.execute("select count(order_id) from staging.stg_oms__order_lines").fetchone()[
            0
        ]
    finally:
        con.close()
    assert orders == 0 and lines > 26_000


def test_bad_absent_tables_var_fails_naming_it(tmp_path: Path, profiles_dir: Path) -> None:
    result = run_dbt(
        ["parse"],
        db_path=tmp_path / "p.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=json.dumps({"output_kpis_absent_tables": ["oms_shipments"]}),
        check=False,
    )
    assert result.returncode != 0
    assert "var 'output_kpis_absent_tables': 'oms_shipments' cannot be absent" in result.stdout
