"""The raw tables are declared once (kpi_tooling/core/raw_tables.yml): every file generated from the
declaration is current, and the declaration agrees with the demo seeds."""

from __future__ import annotations

import copy
import csv
import re
from pathlib import Path

import pytest
import yaml

from kpi_tooling.bench import generate_data
from kpi_tooling.core import raw_tables
from kpi_tooling.demo import data as demo_data
from kpi_tooling.demo import teams as demo_teams
from kpi_tooling.errors import SetupError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data() -> dict:
    return yaml.safe_load(raw_tables.DECLARATION.read_text(encoding="utf-8"))


def test_generated_files_are_current() -> None:
    stale = raw_tables.stale_files(ROOT)
    assert not stale, f"stale: {stale}; run `python -m kpi_tooling.core.raw_tables` (make generate)"


def test_generated_files_name_their_generator() -> None:
    for path, text in raw_tables.generated_files(ROOT).items():
        assert raw_tables.NOTICE in text, path


def test_a_changed_declaration_makes_the_files_stale(data: dict) -> None:
    changed = copy.deepcopy(data)
    columns = changed["sources"]["mes"]["tables"]["mes_sites"]["columns"]
    columns.append({"name": "region", "type": "string", "description": "Sales region."})
    stale = raw_tables.stale_files(ROOT, raw_tables.parse(changed))
    assert set(stale) == {
        Path("macros/raw_tables.sql"),
        Path("models/staging/mes/_mes__sources.yml"),
        Path("models/staging/mes/base/_base__models.yml"),
        Path("seeds/raw/_raw__seeds.yml"),
        Path("docs/DATA_MODEL.md"),
    }
    relaxed = copy.deepcopy(data)
    del relaxed["sources"]["oms"]["tables"]["oms_order_lines"]["columns"][4]["default"]
    assert raw_tables.stale_files(ROOT, raw_tables.parse(relaxed)) == [
        Path("macros/raw_tables.sql")
    ]


def test_the_declaration_is_checked(data: dict) -> None:
    bad = copy.deepcopy(data)
    bad["sources"]["mes"]["tables"]["mes_lines"]["columns"][1]["references"] = "mes.mes_x.site_id"
    with pytest.raises(SetupError, match=r"no raw table mes\.mes_x"):
        raw_tables.parse(bad)
    bad = copy.deepcopy(data)
    bad["sources"]["mes"]["tables"]["mes_sites"]["columns"][0]["type"] = "text"
    with pytest.raises(SetupError, match="type 'text'"):
        raw_tables.parse(bad)


def test_the_declaration_matches_the_seed_csv_headers() -> None:
    declared = raw_tables.demo_columns() | raw_tables.demo_columns(team=True)
    csvs = {path.stem: path for path in (ROOT / "seeds/raw").glob("*.csv")}
    assert set(csvs) == set(declared)
    for name, path in csvs.items():
        with path.open(encoding="utf-8", newline="") as handle:
            header = tuple(next(csv.reader(handle)))
        assert header == declared[name], name


def test_the_generators_read_the_declaration() -> None:
    assert raw_tables.demo_columns() == demo_data.COLUMNS
    assert raw_tables.demo_columns(team=True) == demo_teams.COLUMNS
    assert raw_tables.seed_types() == generate_data.RAW_TYPES


def test_the_rules_macro_names_only_declared_tables() -> None:
    rules = (ROOT / "macros/quarantine_rules.sql").read_text(encoding="utf-8")
    body = rules[rules.index("{%- set rules = {") : rules.index("} -%}", rules.index("set rules"))]
    tables = set(re.findall(r"^        '(\w+)': \{", body, re.M))
    assert tables, "no rules found"
    assert tables <= set(raw_tables.declaration().source_tables())


def test_a_column_the_demo_leaves_out_must_be_optional(data: dict) -> None:
    bad = copy.deepcopy(data)
    column = bad["sources"]["oms"]["tables"]["oms_order_lines"]["columns"][6]
    assert column["name"] == "first_promised_at"
    del column["optional"]
    with pytest.raises(SetupError, match="must be optional"):
        raw_tables.parse(bad)
