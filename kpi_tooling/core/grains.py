"""The reporting grains the package knows, read from the one place they are defined: the dbt
macro ``known_grains`` in macros/time.sql. Python code that enumerates grains (the dashboard,
the benchmark's pandas peer) derives from this; tests/python/test_grains.py fails when a copy
elsewhere (README, the dashboard's period lengths) is stale."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

TIME_MACROS = Path(__file__).resolve().parents[2] / "macros" / "time.sql"
_KNOWN_GRAINS = re.compile(r"macro known_grains\(\).*?return\((\[[^\]]*\])\)", re.DOTALL)


@cache
def known_grains() -> tuple[str, ...]:
    """Every known grain, finest first (day, week, month, quarter, year)."""
    found = _KNOWN_GRAINS.search(TIME_MACROS.read_text())
    if found is None:
        raise RuntimeError(f"macro known_grains not found in {TIME_MACROS}")
    return tuple(ast.literal_eval(found.group(1)))
