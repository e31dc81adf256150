"""One parsing rule on every engine (docs/YOUR_DATA.md "Timestamps" and "Numbers, booleans and
dates"): the package's own macros evaluate the same raw texts on DuckDB and on PostgreSQL
(`dbt show --inline`), and both give the expected value for each.

- integer, number, boolean and date texts are cast only when they have the type's shape
  (cast_patterns): a fraction or hex in an integer column, and hex, inf or nan in a number
  column, are null (uncastable_value), where DuckDB's try_cast alone would round or read them;
- a utc column's text with Z or an offset is the UTC instant it names; without a zone it is
  null (quarantined as timestamp_without_time_zone);
- a site-local text is read in the site's zone, an offset honoured; a wall time in the DST gap
  is read with the offset before the gap and one in the fold is its later occurrence.

Spark shares the macros through its spark__ dispatches; it is not run here.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from conftest import pg_env, run_dbt
from kpi_tooling.core.pg import PgSettings, ensure_database

ZONE = "Europe/Berlin"  # DST 2025: clocks forward 30 March 02:00, back 26 October 03:00

# (kind, raw text, expected value); kinds are the output columns of the query below
CASES: list[tuple[str, str, Any]] = [
    ("as_integer", "42", 42),
    ("as_integer", "-7", -7),
    ("as_integer", "3.5", None),
    ("as_integer", "2.5", None),
    ("as_integer", "0x10", None),
    ("as_integer", "1e3", None),
    ("as_integer", "ten", None),
    ("as_number", "2.5", 2.5),
    ("as_number", "-1e3", -1000.0),
    ("as_number", ".5", 0.5),
    ("as_number", "0x10", None),
    ("as_number", "inf", None),
    ("as_number", "NaN", None),
    ("as_number", "Infinity", None),
    ("as_boolean", "TRUE", True),
    ("as_boolean", "f", False),
    ("as_boolean", "yes", None),
    ("as_date", "2025-06-10", date(2025, 6, 10)),
    ("as_date", "10/06/2025", None),
    ("as_date", "2024-02-29", date(2024, 2, 29)),
    ("as_date", "2025-02-29", None),  # well shaped, not in the calendar: null, not an error
    ("as_date", "2025-13-01", None),
    ("as_date", "0000-01-01", None),
    ("as_number", "1e999", None),  # beyond a double: null, not an overflow
    ("as_utc", "2025-06-10 23:30:00+02:00", datetime(2025, 6, 10, 21, 30)),
    ("as_utc", "2025-06-10T23:30:00+0200", datetime(2025, 6, 10, 21, 30)),
    ("as_utc", "2025-06-10T16:30:00-05", datetime(2025, 6, 10, 21, 30)),
    ("as_utc", "2025-06-10T21:30:00Z", datetime(2025, 6, 10, 21, 30)),
    ("as_utc", "2025-06-10 21:30:00.25Z", datetime(2025, 6, 10, 21, 30, 0, 250000)),
    ("as_utc", "2025-06-10T21:30Z", datetime(2025, 6, 10, 21, 30)),
    ("as_utc", "2025-06-10 21:30:00", None),  # no zone: timestamp_without_time_zone
    ("as_utc", "2025-06-10T21:30:00", None),
    ("as_utc", "2025-06-10", None),
    ("as_utc", "yesterday", None),
    ("as_utc", "2025-06-10T24:00:00Z", None),
    ("as_utc", "2025-06-31T10:00:00Z", None),
    ("site_local", "2025-06-10 23:30:00", datetime(2025, 6, 10, 21, 30)),  # CEST
    ("site_local", "2025-06-10T23:30:00Z", datetime(2025, 6, 10, 23, 30)),
    ("site_local", "2025-06-10 23:30:00-04:00", datetime(2025, 6, 11, 3, 30)),
    ("site_local", "2025-03-30 01:59:00", datetime(2025, 3, 30, 0, 59)),  # before the gap
    ("site_local", "2025-03-30 02:30:00", datetime(2025, 3, 30, 1, 30)),  # gap: = 03:30 CEST
    ("site_local", "2025-03-30 03:00:00", datetime(2025, 3, 30, 1, 0)),  # after the gap
    ("site_local", "2025-10-26 01:30:00", datetime(2025, 10, 25, 23, 30)),  # before the fold
    ("site_local", "2025-10-26 02:30:00", datetime(2025, 10, 26, 1, 30)),  # fold: later (CET)
    ("site_local", "2025-10-26 03:00:00", datetime(2025, 10, 26, 2, 0)),  # after the fold
    ("site_wall", "2025-06-10 23:30:00", datetime(2025, 6, 10, 23, 30)),
    ("site_wall", "2025-06-10T23:30:00Z", datetime(2025, 6, 11, 1, 30)),
]

QUERY = """
select
    v,
    {{ output_kpis.cast_or_null('v', 'integer') }} as as_integer,
    {{ output_kpis.cast_or_null('v', 'double precision') }} as as_number,
    {{ output_kpis.cast_or_null('v', 'boolean') }} as as_boolean,
    {{ output_kpis.cast_or_null('v', 'date') }} as as_date,
    {{ output_kpis.parse_utc_timestamp('v') }} as as_utc,
    {{ output_kpis.site_local_to_utc('v', "'ZONE'") }} as site_local,
    {{ output_kpis.site_local_wall_time('v', "'ZONE'") }} as site_wall
from (values VALUES) as raw_values (v)
"""


def show(target: str, tmp_path: Path, profiles_dir: Path, env: dict[str, str]) -> dict:
    """{(kind, text): value} for every case, as `dbt show` returns it on the target."""
    texts = sorted({text for _, text, _ in CASES})
    inline = QUERY.replace("ZONE", ZONE).replace(
        "VALUES", ", ".join("('" + text + "')" for text in texts)
    )
    result = run_dbt(
        ["show", "--inline", inline, "--output", "json", "--limit", "1000", "--target", target],
        db_path=tmp_path / "parse.duckdb",
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        extra_env=env,
    )
    rows = json.loads(re.search(r"^\{\n.*^\}", result.stdout, re.S | re.M).group(0))["show"]
    return {(kind, row["v"]): row[kind] for row in rows for kind in row if kind != "v"}


def typed(expected: Any, value: Any) -> Any:
    """A value of `dbt show`'s JSON as the type the case expects."""
    if value is None or not isinstance(expected, (date, datetime)):
        return value
    return (datetime if isinstance(expected, datetime) else date).fromisoformat(value)


def assert_cases(values: dict) -> None:
    wrong = [
        (kind, text, expected, values[(kind, text)])
        for kind, text, expected in CASES
        if typed(expected, values[(kind, text)]) != expected
    ]
    assert wrong == [], "\n".join(map(str, wrong))


def test_parse_rule_on_duckdb(tmp_path: Path, profiles_dir: Path) -> None:
    assert_cases(show("duckdb", tmp_path, profiles_dir, {}))


def test_parse_rule_on_postgres(tmp_path: Path, profiles_dir: Path, postgres: PgSettings) -> None:
    ensure_database(postgres)
    assert_cases(show("postgres", tmp_path, profiles_dir, pg_env(postgres)))
