"""Compare the public relations of two DuckDB builds row for row (EXCEPT ALL, both ways).

A refactor that must not change the published numbers is proven by building before and after and
running ``python -m kpi_tooling.publish.compare_marts --before A.duckdb --after B.duckdb``:
every table and
view of the published schemas (``marts`` and ``serving`` by default) is listed with its rows and
the rows each side has that the other lacks. Exit 1 on any difference: a relation or column on
one side only, or a row in one side's EXCEPT ALL. Columns stamped with the run's start
(``rebuilt_at``) differ on every build and are left out. Floating-point sums are not associative
and DuckDB aggregates in parallel, so two builds of the same code can differ in a double's last
bit. The comparison is exact; with ``--float-tolerance T`` a row one side lacks still passes when
the other side has a row equal in every other column and within T (relative, or absolute below
1) in each double column: it is reported as float noise, not as a difference.

Views name their catalog after their file, so two ``build.duckdb`` files cannot be attached side
by side: each file in turn is attached under its own name and its relations copied into an
in-memory database, where the two copies are compared.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kpi_tooling.config import MARTS_SCHEMA, SERVING_SCHEMA

DEFAULT_SCHEMAS = (MARTS_SCHEMA, SERVING_SCHEMA)
RUN_STAMP_COLUMNS = ("rebuilt_at",)
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


@dataclass(frozen=True)
class Comparison:
    """One relation: its rows on each side and the rows only one side has."""

    relation: str
    before_rows: int | None
    after_rows: int | None
    only_before: int
    only_after: int
    note: str = ""
    # rows of only_before / only_after with no counterpart within the float tolerance
    unmatched_before: int | None = None
    unmatched_after: int | None = None

    @property
    def differs(self) -> bool:
        if self.note:
            return True
        if self.unmatched_before is not None and self.unmatched_after is not None:
            return self.unmatched_before > 0 or self.unmatched_after > 0
        return self.only_before > 0 or self.only_after > 0


def _copy(
    work: duckdb.DuckDBPyConnection, path: Path, side: str, schemas: tuple[str, ...]
) -> dict[str, list[tuple[str, str]]]:
    """Copy every relation of `schemas` in `path` into schema `side` of `work`.

    Returns relation name (schema.table) -> its (column name, data type) pairs.
    """
    catalog = path.stem
    work.execute(f"attach '{path}' as \"{catalog}\" (read_only)")
    try:
        rows = work.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns "
            f"where table_catalog = ? and table_schema in ({', '.join('?' for _ in schemas)}) "
            "order by table_schema, table_name, ordinal_position",
            [catalog, *schemas],
        ).fetchall()
        relations: dict[str, list[tuple[str, str]]] = {}
        for schema, table, column, data_type in rows:
            relations.setdefault(f"{schema}.{table}", []).append((column, data_type))
        work.execute(f"create schema {side}")
        for relation in relations:
            schema, table = relation.split(".", 1)
            work.execute(
                f'create table {side}."{schema}__{table}" as '
                f'select * from "{catalog}"."{schema}"."{table}"'
            )
    finally:
        work.execute("use memory")
        work.execute(f'detach "{catalog}"')
    return relations


def _unmatched(
    work: duckdb.DuckDBPyConnection,
    rows: str,
    other: str,
    columns: list[str],
    doubles: set[str],
    tolerance: float,
) -> int:
    """Rows of the query `rows` with no row of `other` equal in every non-double column and
    within `tolerance` in each double column."""
    conditions = []
    for column in columns:
        a, b = f'mine."{column}"', f'theirs."{column}"'
        if column in doubles:
            conditions.append(
                f"(({a} is null and {b} is null) or abs({a} - {b}) "
                f"<= {tolerance!r} * greatest(1.0, abs({a}), abs({b})))"
            )
        else:
            conditions.append(f"{a} is not distinct from {b}")
    return work.execute(
        f"select count(*) from ({rows}) as mine where not exists "
        f"(select 1 from ({other}) as theirs where {' and '.join(conditions)})"
    ).fetchone()[0]


def _copied(side: str, relation: str) -> str:
    schema, table = relation.split(".", 1)
    return f'{side}."{schema}__{table}"'


def compare(
    before: Path,
    after: Path,
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
    ignore_columns: tuple[str, ...] = RUN_STAMP_COLUMNS,
    float_tolerance: float | None = None,
) -> list[Comparison]:
    """Compare every relation of `schemas` in two DuckDB files; with `float_tolerance`, rows
    that differ only within it in double columns are matched (see the module docstring)."""
    work = duckdb.connect()
    try:
        old_relations = _copy(work, before, "before", schemas)
        new_relations = _copy(work, after, "after", schemas)
        results = []
        for relation in sorted(set(old_relations) | set(new_relations)):
            if relation not in new_relations or relation not in old_relations:
                side = "before" if relation in old_relations else "after"
                rows = work.execute(f"select count(*) from {_copied(side, relation)}").fetchone()[0]
                results.append(
                    Comparison(
                        relation,
                        rows if side == "before" else None,
                        rows if side == "after" else None,
                        0,
                        0,
                        f"only {side}",
                    )
                )
                continue
            old_types = {c: t for c, t in old_relations[relation] if c not in ignore_columns}
            new_types = {c: t for c, t in new_relations[relation] if c not in ignore_columns}
            old_columns, new_columns = list(old_types), list(new_types)
            note = ""
            if sorted(old_columns) != sorted(new_columns):
                note = (
                    f"columns differ: before only {sorted(set(old_columns) - set(new_columns))}, "
                    f"after only {sorted(set(new_columns) - set(old_columns))}"
                )
            shared = [c for c in old_columns if c in new_columns]
            columns = ", ".join(f'"{c}"' for c in shared)
            old_rows = f"select {columns} from {_copied('before', relation)}"
            new_rows = f"select {columns} from {_copied('after', relation)}"
            only_before = f"{old_rows} except all {new_rows}"
            only_after = f"{new_rows} except all {old_rows}"
            counts = work.execute(
                f"select (select count(*) from ({old_rows})), (select count(*) from ({new_rows})), "
                f"(select count(*) from ({only_before})), (select count(*) from ({only_after}))"
            ).fetchone()
            unmatched: tuple[int | None, int | None] = (None, None)
            if float_tolerance is not None:
                doubles = {c for c in shared if old_types[c].upper() in FLOAT_TYPES}
                unmatched = (
                    _unmatched(work, only_before, only_after, shared, doubles, float_tolerance),
                    _unmatched(work, only_after, only_before, shared, doubles, float_tolerance),
                )
            results.append(Comparison(relation, *counts, note, *unmatched))
        return results
    finally:
        work.close()


def report(results: list[Comparison]) -> str:
    """A fixed-width table of the comparisons and a closing verdict."""
    width = max([len("relation")] + [len(r.relation) for r in results])
    lines = [
        f"{'relation':<{width}}  {'before':>9}  {'after':>9}  {'only_before':>11}  "
        f"{'only_after':>10}  note"
    ]
    for r in results:
        before = "-" if r.before_rows is None else str(r.before_rows)
        after = "-" if r.after_rows is None else str(r.after_rows)
        note = r.note
        if not note and (r.only_before or r.only_after) and r.unmatched_before is not None:
            note = (
                "float noise only"
                if not r.differs
                else f"unmatched within tolerance: {r.unmatched_before} / {r.unmatched_after}"
            )
        lines.append(
            f"{r.relation:<{width}}  {before:>9}  {after:>9}  {r.only_before:>11}  "
            f"{r.only_after:>10}  {note}".rstrip()
        )
    differing = [r.relation for r in results if r.differs]
    exact = all(not (r.only_before or r.only_after or r.note) for r in results)
    if not results:
        lines.append("DIFFERENT: no relation in the compared schemas")
    elif differing:
        lines.append(f"DIFFERENT: {len(differing)} of {len(results)} relations differ")
    elif exact:
        lines.append(f"IDENTICAL: {len(results)} relations, EXCEPT ALL empty both ways")
    else:
        lines.append(
            f"IDENTICAL within the float tolerance: {len(results)} relations "
            "(EXCEPT ALL rows differ only in doubles, within the tolerance)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.publish.compare_marts",
        description="Compare the published relations of two DuckDB builds (EXCEPT ALL both ways).",
    )
    parser.add_argument("--before", type=Path, required=True, help="DuckDB file built before")
    parser.add_argument("--after", type=Path, required=True, help="DuckDB file built after")
    parser.add_argument(
        "--schemas",
        nargs="+",
        default=list(DEFAULT_SCHEMAS),
        help=f"schemas compared (default: {' '.join(DEFAULT_SCHEMAS)})",
    )
    parser.add_argument(
        "--ignore-columns",
        nargs="*",
        default=list(RUN_STAMP_COLUMNS),
        help=f"columns left out, e.g. run stamps (default: {' '.join(RUN_STAMP_COLUMNS)})",
    )
    parser.add_argument(
        "--float-tolerance",
        type=float,
        default=None,
        metavar="T",
        help="let double columns differ by T (relative; absolute below 1), default: exact",
    )
    args = parser.parse_args(argv)
    for path in (args.before, args.after):
        if not path.is_file():
            parser.error(f"{path} is not a file")
    results = compare(
        args.before,
        args.after,
        tuple(args.schemas),
        tuple(args.ignore_columns),
        args.float_tolerance,
    )
    print(report(results))
    return 0 if results and not any(r.differs for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
