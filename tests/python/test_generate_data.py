"""The scalable raw-data generator (kpi_tooling.bench.generate_data): exact seed schema,
deterministic, re-keyed blocks without orphans or duplicate keys, row count close to --rows.

Runs the real CLI at a small scale (--scale 0.05, several blocks cycling two variants) so the
module stays well under 30 seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from kpi_tooling.bench.generate_data import (
    FIXED_TABLES,
    RAW_TYPES,
    REPLICATED_KEYS,
    choose_blocks,
    dbt_vars_for,
    manifest_path_for,
    output_format,
    parse_rows,
    table_checksums,
)
from kpi_tooling.demo.data import COLUMNS, FOREIGN_KEYS, PRIMARY_KEYS
from kpi_tooling.demo.teams import COLUMNS as TEAM_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
ROWS = "90k"
SCALE = "0.05"
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:-]+$")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kpi_tooling.bench.generate_data", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _generate(out: Path, seed: int, *extra: str) -> dict:
    target = f"{out}/" if out.suffix != ".duckdb" else str(out)  # a trailing / means Parquet
    result = _cli(
        "--rows", ROWS, "--seed", str(seed), "--scale", SCALE, "--variants", "2",
        "--out", target, "--quiet", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(manifest_path_for(out).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    base = tmp_path_factory.mktemp("generate_data")
    runs = {
        "a": (base / "a.duckdb", 7, ()),
        "a_parquet": (base / "a_parquet", 7, ()),
        "b": (base / "b.duckdb", 8, ()),
    }
    return {key: (out, _generate(out, seed, *extra)) for key, (out, seed, extra) in runs.items()}


@pytest.fixture(scope="module")
def con_a(generated: dict[str, tuple[Path, dict]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(generated["a"][0]), read_only=True)
    yield con
    con.close()


def _parquet_connection(directory: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    for name in COLUMNS:
        con.execute(f"create view raw.{name} as select * from '{directory / (name + '.parquet')}'")
    return con


def test_help_exits_zero() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for word in ("--rows", "--seed", "--out", "--format", "--memory-limit", "attach", "parquet"):
        assert word in result.stdout.replace("\n", " ")


def test_parse_rows() -> None:
    assert parse_rows("1M") == 1_000_000
    assert parse_rows("10m") == 10_000_000
    assert parse_rows("100M") == 100_000_000
    assert parse_rows("250k") == 250_000
    assert parse_rows("2.5M") == 2_500_000
    assert parse_rows("500000") == 500_000
    for bad in ("", "abc", "0", "1X", "-5"):
        with pytest.raises(ValueError):
            parse_rows(bad)


def test_output_format(tmp_path: Path) -> None:
    assert output_format("x.duckdb") == "duckdb"
    assert output_format("out/raw/") == "parquet"
    assert output_format(str(tmp_path)) == "parquet"
    assert output_format(str(tmp_path), "duckdb") == "duckdb"


def test_choose_blocks_is_closest() -> None:
    assert choose_blocks(1_000, 100, [300, 300]) == 3  # 1000 vs 1300
    assert choose_blocks(1_100, 100, [300]) == 3  # tie keeps the smaller count
    assert choose_blocks(10, 100, [300]) == 1  # never below one block


def test_raw_types_are_the_seed_column_types() -> None:
    config = yaml.safe_load((ROOT / "seeds/raw/_raw__seeds.yml").read_text(encoding="utf-8"))
    seeds = {seed["name"]: seed["config"]["column_types"] for seed in config["seeds"]}
    # The team tables of the declared demo units are seeds only (tests/python/test_demo_teams.py).
    seeds = {name: types for name, types in seeds.items() if name not in TEAM_COLUMNS}
    assert list(RAW_TYPES) == list(COLUMNS) == list(seeds)
    for name, types in RAW_TYPES.items():
        assert list(types.items()) == list(seeds[name].items()), name
        assert tuple(types) == COLUMNS[name], name


def test_every_table_is_fixed_or_replicated_and_every_reference_is_consistent() -> None:
    assert set(FIXED_TABLES).isdisjoint(REPLICATED_KEYS)
    assert set(FIXED_TABLES) | set(REPLICATED_KEYS) == set(COLUMNS)
    for name, keys in REPLICATED_KEYS.items():
        assert COLUMNS[name][0] in keys, f"{name}: its own key is not re-keyed"
        assert set(keys) <= set(COLUMNS[name])
    for table, column, parent, parent_column in FOREIGN_KEYS:
        if table in FIXED_TABLES:
            assert parent in FIXED_TABLES, f"fixed {table} refers to replicated {parent}"
            continue
        tagged = column in REPLICATED_KEYS[table]
        assert tagged == (parent in REPLICATED_KEYS), f"{table}.{column} -> {parent}"
        if parent in REPLICATED_KEYS:
            assert parent_column in REPLICATED_KEYS[parent]


def test_dbt_vars_for() -> None:
    assert dbt_vars_for("bench_raw") == {
        "mes_database": "bench_raw",
        "oms_database": "bench_raw",
        "sd_database": "bench_raw",
        "crm_database": "bench_raw",
        "outcomes_database": "bench_raw",
    }
    project = (ROOT / "models/staging").rglob("_*__sources.yml")
    used = {m for path in project for m in re.findall(r"var\('(\w+_database)'", path.read_text())}
    assert used == set(dbt_vars_for("x"))


def test_schema_matches_the_seeds(con_a: duckdb.DuckDBPyConnection) -> None:
    duck = {"varchar": "VARCHAR", "integer": "INTEGER", "date": "DATE", "boolean": "BOOLEAN"}
    duck |= {"timestamp": "TIMESTAMP", "decimal(18,2)": "DECIMAL(18,2)"}
    actual: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con_a.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall():
        actual.setdefault(table, []).append((column, data_type))
    expected = {name: [(c, duck[t]) for c, t in types.items()] for name, types in RAW_TYPES.items()}
    assert actual == expected


def test_row_counts_match_the_manifest_and_the_request(
    generated: dict[str, tuple[Path, dict]], con_a: duckdb.DuckDBPyConnection
) -> None:
    manifest = generated["a"][1]
    counts = {n: c for n, (c, _) in table_checksums(con_a).items()}
    assert counts == manifest["rows"]
    assert manifest["rows_total"] == sum(counts.values())
    assert manifest["blocks"] >= 2 and manifest["variants"] == 2
    block = max(sum(counts[n] for n in REPLICATED_KEYS) / manifest["blocks"], 1)
    assert abs(manifest["rows_total"] - parse_rows(ROWS)) <= block
    for name in FIXED_TABLES:  # written once, whatever the block count
        assert counts[name] == generated["b"][1]["rows"][name]
    assert all(count > 0 for count in counts.values())


def test_same_seed_same_contents_in_both_formats(
    generated: dict[str, tuple[Path, dict]], con_a: duckdb.DuckDBPyConnection
) -> None:
    directory = generated["a_parquet"][0]
    assert directory.is_dir() and generated["a_parquet"][1]["format"] == "parquet"
    parquet = _parquet_connection(directory)
    assert table_checksums(parquet) == table_checksums(con_a)
    assert generated["a_parquet"][1]["rows"] == generated["a"][1]["rows"]


def test_another_seed_other_contents(
    generated: dict[str, tuple[Path, dict]], con_a: duckdb.DuckDBPyConnection
) -> None:
    con_b = duckdb.connect(str(generated["b"][0]), read_only=True)
    a, b = table_checksums(con_a), table_checksums(con_b)
    con_b.close()
    differing = {name for name in COLUMNS if a[name] != b[name]}
    assert set(REPLICATED_KEYS) - {"cs_churn_events"} <= differing


def test_no_orphan_references(con_a: duckdb.DuckDBPyConnection) -> None:
    for table, column, parent, parent_column in FOREIGN_KEYS:
        orphans = con_a.execute(
            f"select count(*) from raw.{table} where {column} is not null and {column} not in "
            f"(select {parent_column} from raw.{parent} where {parent_column} is not null)"
        ).fetchone()
        assert orphans == (0,), f"{table}.{column} -> {parent}.{parent_column}"


def test_keys_unique_and_valid_identifiers(con_a: duckdb.DuckDBPyConnection) -> None:
    for name, columns in COLUMNS.items():
        key = ", ".join(PRIMARY_KEYS.get(name, columns[:1]))
        rows, keys = con_a.execute(
            f"select count(*), count(distinct ({key})) from raw.{name}"
        ).fetchone() or (0, 0)
        assert rows == keys, f"{name}: duplicate keys"
    for name, tagged in REPLICATED_KEYS.items():
        for column in tagged:
            values = con_a.execute(
                f"select distinct {column} from raw.{name} where {column} is not null"
            ).fetchall()
            bad = [v for (v,) in values if not IDENTIFIER.match(v)]
            assert not bad, f"{name}.{column}: {bad[:3]}"
    blocks = con_a.execute(
        "select count(distinct coalesce(regexp_extract(work_order_id, '\\.b([0-9]+)$', 1), '0')) "
        "from raw.mes_work_orders"
    ).fetchone()
    assert blocks is not None and blocks[0] >= 2


def test_existing_output_is_refused_without_force(
    generated: dict[str, tuple[Path, dict]],
) -> None:
    out = generated["a"][0]
    before = out.stat().st_mtime_ns
    result = _cli("--rows", ROWS, "--scale", SCALE, "--out", str(out), "--quiet")
    assert result.returncode != 0 and "--force" in result.stderr
    assert out.stat().st_mtime_ns == before
