"""The reporting grains are defined once, by the dbt macro known_grains (macros/time.sql); every
other place that lists them derives from it. These fail when a copy is stale or a new
hard-coded grain list appears."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from kpi_tooling.bench import pandas_peer
from kpi_tooling.core.grains import known_grains
from kpi_tooling.serving import dashboard

# A grain list written out by hand: the first two grains side by side, quoted or not.
HARD_CODED_LIST = re.compile(r"""\[\s*["']?day["']?\s*,\s*["']?week["']?""")


def test_known_grains_are_read_from_the_macro() -> None:
    grains = known_grains()
    assert grains[0] == "day" and "year" in grains and len(set(grains)) == len(grains)


def test_no_hard_coded_grain_list_outside_the_macro() -> None:
    found = []
    for folder in ("models", "macros", "tests", "seeds", "kpi_tooling", "integration_tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".sql", ".yml", ".py"} or "target" in path.parts:
                continue
            if "dbt_packages" in path.parts or path.name == "test_grains.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HARD_CODED_LIST.search(line) and "macro known_grains" not in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    # the macro's own list is the only one
    assert found == ["macros/time.sql:" + str(macro_line())]


def macro_line() -> int:
    lines = (ROOT / "macros" / "time.sql").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "macro known_grains()" in line)
    return next(i for i in range(start, len(lines)) if "return([" in lines[i]) + 1


def test_project_does_not_restate_the_default_grains() -> None:
    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    assert project_vars["kpi_grains"] is None  # null stands for known_grains()


def test_readme_lists_every_grain() -> None:
    readme = (ROOT / "README.md").read_text()
    var_doc = (ROOT / "docs" / "VARS.md").read_text()
    row = next(line for line in var_doc.splitlines() if line.startswith("| `kpi_grains` |"))
    assert f"({', '.join(known_grains())})" in row
    assert f"Grains: {', '.join(known_grains())} (" in readme


def test_dashboard_knows_every_grain_length() -> None:
    assert tuple(dashboard.PERIOD_LENGTH) == known_grains()


def test_pandas_peer_uses_every_grain() -> None:
    assert known_grains() == pandas_peer.GRAINS


@pytest.mark.parametrize(
    ("day", "expected"),
    [("2025-03-15", "2025-01-01"), ("2024-12-31", "2024-01-01"), ("1999-12-31", "1999-01-01")],
)
def test_pandas_peer_year_starts_on_january_first(day: str, expected: str) -> None:
    days = pd.Series(pd.to_datetime([day]))
    assert pandas_peer.period_starts(days, "year").iloc[0] == pd.Timestamp(expected)


def test_limit_peer_rolls_up_every_grain() -> None:
    """The hand-written DuckDB peer lists the grains as SQL values: the same ones."""
    sql = (ROOT / "kpi_tooling" / "bench" / "limit.sql").read_text()
    values = re.search(r"cross join \(values ([^)]*(?:\)[^)]*)*?)\) as g \(grain\)", sql)
    assert values is not None
    assert tuple(re.findall(r"\('(\w+)'\)", values.group(1))) == known_grains()
