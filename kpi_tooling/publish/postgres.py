"""Write-audit-publish on PostgreSQL: swap audited build schemas with the published ones.

On Postgres, dbt builds into ``build_<schema>`` (``macros/generate_schema_name.sql``) and BI reads
``<schema>``. A build is published only when the shared audit (``kpi_tooling.publish.audit``:
dbt run results of the invocation that wrote the manifest, every node ran, GE successful) passes and
the artifacts belong to this build: every model of a published schema was built into its build
schema, and GE validated tables of the build schemas in this database.

Publishing is ONE transaction: take the publish lock (one publisher at a time), lock every
relation of the published schemas (readers inside a transaction finish first; new readers
queue), then for each published schema S rename ``S`` -> ``S__previous``, ``build_S`` -> ``S``,
``S__previous`` -> ``build_S`` (blue/green: the next build rebuilds into the previous copy),
record the publication in ``output_kpis_meta.publications`` and as a comment on each schema, and
commit. Views bound by OID follow the rename, which is why the schemas BI reads (``marts`` and a
future ``serving`` of views over it) must be swapped together, in one transaction.

Exit codes: 0 published, 1 the audit refused the build (published schemas untouched), 2 an input
is missing, the database is unreachable or the swap could not take its locks in time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

from kpi_tooling.config import READER_ROLE, SERVING_SCHEMA
from kpi_tooling.core.pg import PgSettings
from kpi_tooling.errors import SetupError, ToolingError
from kpi_tooling.publish.audit import (
    AS_OF_TABLE,
    BUILD_PREFIX,
    LOG_SCHEMA,
    LOG_TABLE,
    PUBLISHED_SCHEMAS,
    Audit,
    QuarantinedTable,
    audit_artifacts,
    build_schema_reasons,
    ge_relation_reasons,
    quarantine_query,
    quarantine_relation,
    quarantine_report,
    read_json,
)

EXIT_OK, EXIT_REFUSED, EXIT_SETUP = 0, 1, 2
# The schemas of models/marts and models/serving (+schema in dbt_project.yml, kpi_tooling.config).
DEFAULT_SCHEMAS = PUBLISHED_SCHEMAS
# Roles that read the published serving views (dbt var serving_reader_role); their USAGE
# follows the published name through the swap, so a build schema is never readable by them.
DEFAULT_READER_ROLES = (READER_ROLE,)
READER_SCHEMA = SERVING_SCHEMA
DEFAULT_PREFIX = BUILD_PREFIX
PREVIOUS_SUFFIX = "__previous"
# Any 64-bit number shared by every publisher of this package: one swap at a time.
PUBLISH_LOCK_KEY = 0x6F75747075745F6B

_RELATIONS_SQL = """
    select n.nspname, c.relname, c.relkind
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')
    order by n.nspname, c.relname
"""
_LOG_DDL = f"""
    create schema if not exists {LOG_SCHEMA};
    create table if not exists {LOG_SCHEMA}.{LOG_TABLE} (
        publication_id bigserial primary key,
        published_at timestamptz not null,
        invocation_id text not null,
        as_of text,
        schemas text[] not null,
        table_row_counts jsonb not null,
        dbt jsonb not null,
        ge jsonb not null,
        swap_seconds double precision not null
    )
"""


@dataclass(frozen=True)
class SwapPlan:
    """The published schemas and their build schemas."""

    schemas: tuple[str, ...]
    prefix: str

    def build(self, schema: str) -> str:
        return self.prefix + schema

    @property
    def build_schemas(self) -> list[str]:
        return [self.build(schema) for schema in self.schemas]


def _schemas_present(con: Any, names: list[str]) -> set[str]:
    with con.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname = any(%s)", [names])
        return {name for (name,) in cur.fetchall()}


def audit_postgres_build(
    con: Any,
    plan: SwapPlan,
    manifest_path: Path,
    run_results_path: Path,
    ge_results_path: Path,
    database: str,
) -> Audit:
    """The shared audit plus the checks that tie the artifacts to the build schemas."""
    audit = audit_artifacts(manifest_path, run_results_path, ge_results_path)
    manifest = read_json(manifest_path, "dbt manifest")
    audit.reasons += build_schema_reasons(manifest, plan.schemas, plan.prefix, database)
    ge_results = read_json(ge_results_path, "GE results")
    audit.reasons += ge_relation_reasons(ge_results, plan.prefix, database)
    missing = set(plan.build_schemas) - _schemas_present(con, plan.build_schemas)
    for schema in sorted(missing):
        audit.reasons.append(f"build: schema {schema} does not exist in {database}")
    return audit


def read_quarantine(con: Any, manifest_path: Path) -> list[QuarantinedTable]:
    """stg_quarantine__tables of the build (its schema is not swapped: read where dbt built
    it); empty when the build has none (the audit says why such a build is refused)."""
    relation = quarantine_relation(manifest_path)
    if relation is None:
        return []
    _, schema, table = relation
    with con.cursor() as cur:
        cur.execute("select to_regclass(%s)", [f'"{schema}"."{table}"'])
        if cur.fetchone()[0] is None:
            return []
        cur.execute(quarantine_query(schema, table))
        return [QuarantinedTable(*row) for row in cur.fetchall()]


def _row_counts(cur: Any, schemas: list[str]) -> dict[str, int]:
    """Rows of every table of ``schemas`` (views are not counted: they read the tables)."""
    cur.execute(_RELATIONS_SQL, [schemas])
    counts = {}
    for schema, name, kind in cur.fetchall():
        if kind in ("r", "p"):
            cur.execute(
                sql.SQL("select count(*) from {}.{}").format(*map(sql.Identifier, (schema, name)))
            )
            counts[f"{schema}.{name}"] = int(cur.fetchone()[0])
    return counts


def _as_of(cur: Any, schema: str) -> str | None:
    cur.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        [schema, AS_OF_TABLE],
    )
    if not cur.fetchone():
        return None
    cur.execute(
        sql.SQL("select max(as_of_at) from {}.{}").format(
            sql.Identifier(schema), sql.Identifier(AS_OF_TABLE)
        )
    )
    value = cur.fetchone()[0]
    return None if value is None else str(value)


def _rename(cur: Any, old: str, new: str) -> None:
    cur.execute(
        sql.SQL("alter schema {} rename to {}").format(sql.Identifier(old), sql.Identifier(new))
    )


def _move_reader_usage(cur: Any, plan: SwapPlan, roles: tuple[str, ...]) -> None:
    """Schema privileges travel with a renamed schema: in the same transaction, give each
    existing reader role USAGE on the published serving schema and none on its build twin."""
    if READER_SCHEMA not in plan.schemas:
        return
    cur.execute("select 1 from pg_namespace where nspname = %s", [plan.build(READER_SCHEMA)])
    build_exists = cur.fetchone() is not None  # not on a first publish: nothing to swap back
    cur.execute("select rolname from pg_roles where rolname = any(%s)", [list(roles)])
    for (role,) in cur.fetchall():
        cur.execute(
            sql.SQL("grant usage on schema {} to {}").format(
                sql.Identifier(READER_SCHEMA), sql.Identifier(role)
            )
        )
        if build_exists:
            cur.execute(
                sql.SQL("revoke all on schema {} from {}").format(
                    sql.Identifier(plan.build(READER_SCHEMA)), sql.Identifier(role)
                )
            )


def swap(
    con: Any,
    plan: SwapPlan,
    audit: Audit,
    lock_timeout_seconds: float,
    reader_roles: tuple[str, ...] = DEFAULT_READER_ROLES,
) -> dict[str, Any]:
    """Swap every published schema with its build schema in one transaction; return the record.

    Raise SetupError (after a rollback: nothing changed) when a lock is not granted within
    ``lock_timeout_seconds`` or a leftover ``<schema>__previous`` is in the way.
    """
    if not audit.passed:
        raise ValueError("refusing to publish a build whose audit failed")
    started = time.perf_counter()
    try:
        with con, con.cursor() as cur:  # one transaction: commit on success, rollback on error
            cur.execute(
                "select set_config('lock_timeout', %s, true)",
                [f"{int(lock_timeout_seconds * 1000)}ms"],
            )
            cur.execute("select pg_advisory_xact_lock(%s)", [PUBLISH_LOCK_KEY])
            cur.execute(_RELATIONS_SQL, [list(plan.schemas)])
            published = [(schema, name) for schema, name, _ in cur.fetchall()]
            if published:
                names = sql.SQL(", ").join(
                    sql.Identifier(schema, name) for schema, name in published
                )
                cur.execute(sql.SQL("lock table {} in access exclusive mode").format(names))
            counts = _row_counts(cur, plan.build_schemas)
            as_of = _as_of(cur, plan.build(plan.schemas[0]))
            present = _schemas_present(con, [s + PREVIOUS_SUFFIX for s in plan.schemas])
            if present:
                raise SetupError(f"schema(s) {', '.join(sorted(present))} in the way: drop them")
            existing = _schemas_present(con, list(plan.schemas))
            for schema in plan.schemas:
                if schema in existing:
                    _rename(cur, schema, schema + PREVIOUS_SUFFIX)
                _rename(cur, plan.build(schema), schema)
                if schema in existing:
                    _rename(cur, schema + PREVIOUS_SUFFIX, plan.build(schema))
            _move_reader_usage(cur, plan, reader_roles)
            record = {
                "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "invocation_id": audit.dbt_summary.get("invocation_id"),
                "as_of": as_of,
                "schemas": list(plan.schemas),
                # counted in the build schemas, which are the published ones from now on
                "table_row_counts": {
                    name.replace(plan.prefix, "", 1): rows for name, rows in counts.items()
                },
                "dbt": audit.dbt_summary,
                "ge": audit.ge_summary,
                "swap_seconds": round(time.perf_counter() - started, 3),
            }
            _record(cur, plan, record)
    except psycopg2.errors.LockNotAvailable as exc:
        raise SetupError(
            f"could not lock the published schemas within {lock_timeout_seconds} s (a reader "
            f"holds them in a long transaction?); nothing was changed: {exc}".strip()
        ) from exc
    return record


def _record(cur: Any, plan: SwapPlan, record: dict[str, Any]) -> None:
    cur.execute(_LOG_DDL)
    cur.execute(
        f"insert into {LOG_SCHEMA}.{LOG_TABLE} (published_at, invocation_id, as_of, schemas, "
        "table_row_counts, dbt, ge, swap_seconds) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        [
            record["published_at"],
            record["invocation_id"] or "",
            record["as_of"],
            record["schemas"],
            json.dumps(record["table_row_counts"]),
            json.dumps(record["dbt"]),
            json.dumps(record["ge"]),
            record["swap_seconds"],
        ],
    )
    comment = (
        f"output_kpis published {record['published_at']}: dbt invocation "
        f"{record['invocation_id']}, as_of {record['as_of']}"
    )
    for schema in plan.schemas:
        cur.execute(
            sql.SQL("comment on schema {} is {}").format(
                sql.Identifier(schema), sql.Literal(comment)
            )
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.publish.postgres",
        description="Publish an audited Postgres build: swap build_<schema> with <schema> in one "
        "transaction (connection from the OUTPUT_KPIS_PG_* environment, as the dbt profile).",
        epilog="Exit codes: 0 published, 1 audit refused (published schemas untouched), "
        "2 an input is missing, the server is unreachable or the locks timed out.",
    )
    parser.add_argument(
        "--schema",
        action="append",
        dest="schemas",
        metavar="NAME",
        help="published schema swapped with its build schema; repeatable, swapped together "
        f"(default: {', '.join(DEFAULT_SCHEMAS)})",
    )
    parser.add_argument(
        "--build-prefix", default=DEFAULT_PREFIX, help="prefix of the build schemas (build_)"
    )
    parser.add_argument(
        "--reader-role",
        action="append",
        dest="reader_roles",
        metavar="ROLE",
        help="role given USAGE on the published serving schema (and none on its build schema); "
        f"repeatable (default: {', '.join(DEFAULT_READER_ROLES)}, when it exists)",
    )
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    parser.add_argument("--run-results", type=Path, default=Path("target/run_results.json"))
    parser.add_argument("--ge-results", type=Path, default=Path("target/ge_results.json"))
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for readers to release the published schemas (30)",
    )
    return parser


def main(argv: list[str] | None = None, settings: PgSettings | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings or PgSettings.from_env()
    plan = SwapPlan(tuple(args.schemas or DEFAULT_SCHEMAS), args.build_prefix)
    names = ", ".join(plan.schemas)
    try:
        con = settings.connect()
    except psycopg2.Error as exc:
        print(f"ERROR: PostgreSQL at {settings.address}: {exc}".strip(), file=sys.stderr)
        return EXIT_SETUP
    try:
        audit = audit_postgres_build(
            con, plan, args.manifest, args.run_results, args.ge_results, settings.database
        )
        lines, floods = quarantine_report(read_quarantine(con, args.manifest))
        audit.reasons += floods
        print("\n".join(lines))
        con.rollback()  # end the audit's read transaction before the swap takes its locks
        if not audit.passed:
            print(f"REFUSED: not publishing {', '.join(plan.build_schemas)}; {names} unchanged.")
            for reason in audit.reasons:
                print(f"  {reason}")
            return EXIT_REFUSED
        roles = tuple(args.reader_roles or DEFAULT_READER_ROLES)
        record = swap(con, plan, audit, args.lock_timeout, roles)
    except ToolingError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except psycopg2.Error as exc:  # e.g. a deadlock with a reader: rolled back, nothing changed
        print(f"ERROR: publishing failed, nothing changed: {exc}".strip(), file=sys.stderr)
        return EXIT_SETUP
    finally:
        con.close()
    rows = sum(record["table_row_counts"].values())
    print(
        f"PUBLISHED: {names} in {settings.database} ({len(record['table_row_counts'])} tables, "
        f"{rows:,} rows, as_of {record['as_of']}) in {record['swap_seconds']} s; recorded in "
        f"{LOG_SCHEMA}.{LOG_TABLE}"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
