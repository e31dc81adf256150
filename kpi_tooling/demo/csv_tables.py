"""Write generated tables as CSV seeds: one ``<table>.csv`` per table, header first, values
formatted by the generator's own rule, ``\\n`` line ends (byte-identical for a seed)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def write_csv_tables(
    tables: Mapping[str, Sequence[Iterable[Any]]],
    columns: Mapping[str, Sequence[str]],
    out_dir: Path,
    fmt: Callable[[Any], str],
) -> dict[str, int]:
    """Write each table to ``out_dir/<table>.csv``; returns row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, rows in tables.items():
        with (out_dir / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns[name])
            writer.writerows([fmt(value) for value in row] for row in rows)
        counts[name] = len(rows)
    return counts
