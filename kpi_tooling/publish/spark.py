"""Write-audit-publish on Spark: copy an audited build into a new version, then repoint BI's names.

On Spark, dbt builds into ``build_<schema>`` (``macros/generate_schema_name.sql``), as on
Postgres, and BI reads ``<schema>`` (``marts`` and ``serving``). A build is published only when
the shared audit (``kpi_tooling.publish.audit``: dbt run results of the invocation that wrote the
manifest, every node ran, GE successful and newer than the run, no quarantine flood) passes and
the artifacts belong to the build schemas (``build_schema_reasons``, ``ge_relation_reasons``).
The session is the dbt profile's spark target (``kpi_tooling.core.spark``): same warehouse,
same metastore, opened after dbt has exited.

Spark on parquet and a Hive metastore (no Delta) has no transaction over several tables and
cannot rename a schema, so publishing is done in steps that each leave BI on a complete build:

1. **copy**: every table of each ``build_<schema>`` is copied (``create table ... using parquet
   as select``) into a new versioned schema ``<schema>__v<n>``; every view is created there
   again with its text reading the versioned schemas (``build_marts`` -> ``marts__v<n>``), so a
   published view never reads ``build_*``; row counts of each copy are checked against the build.
   A failure here drops the new version: BI's names were not touched.
2. **repoint**: each name BI reads, ``<schema>.<object>``, is a view ``select * from
   <schema>__v<n>.<object>`` (property ``output_kpis.version``); ``create or replace view``
   repoints it, one metastore call per name. A failure repoints the names already moved back to
   the previous version (or drops those that had none), so BI reads the previous build again.
3. **record** the publication in ``output_kpis_meta.publications`` (version, invocation id,
   as_of, published_at, rows per table, dbt, GE and quarantine summaries), then drop versions
   older than the previous one: one previous version is kept (``marts__v<n-1>``...).

Guarantees: a name BI reads always points at a complete, audited, row-checked copy, never at
``build_*`` nor at a half-written table; a refused audit changes nothing. Not guaranteed: the
repoint is not atomic across names (one metastore call each: 5.6 s for the demo's 23 names on
a local Derby metastore): a query reading two published names in that window may read one from
the new build and one from the previous; a serving view reads one version throughout (its
text names that version). A process killed
during the repoint leaves names on two versions (the next publish, or a rerun, repoints all);
one killed during the copy leaves a versioned schema the next publish drops. A query already
running keeps its files, but one started before a cleanup that drops its version fails (two
publishes within its run time). One publisher at a time: the embedded Derby metastore admits
one process; with a shared metastore, serialise publishes yourself.

Exit codes: 0 published, 1 the audit refused the build (published names untouched), 2 an input
is missing, Spark cannot start, or publishing failed (published names on the previous build).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    quarantine_summary,
    read_json,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXIT_OK, EXIT_REFUSED, EXIT_SETUP = 0, 1, 2
DEFAULT_SCHEMAS = PUBLISHED_SCHEMAS
DEFAULT_PREFIX = BUILD_PREFIX
VERSION_PROPERTY = "output_kpis.version"
VERSION_INFIX = "__v"


def ident(*parts: str) -> str:
    """A Spark SQL identifier: each part in backticks."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


@dataclass(frozen=True)
class SparkPublishPlan:
    """The published schemas, their build schemas and their versioned copies."""

    schemas: tuple[str, ...]
    prefix: str

    def build(self, schema: str) -> str:
        return self.prefix + schema

    def versioned(self, schema: str, version: int) -> str:
        return f"{schema}{VERSION_INFIX}{version}"

    @property
    def build_schemas(self) -> list[str]:
        return [self.build(schema) for schema in self.schemas]

    def versions_in(self, databases: Iterable[str]) -> set[int]:
        """The versions whose schema of any published schema exists among ``databases``."""
        pattern = re.compile(
            "(" + "|".join(map(re.escape, self.schemas)) + ")" + re.escape(VERSION_INFIX) + r"(\d+)"
        )
        return {int(m.group(2)) for name in databases if (m := pattern.fullmatch(name))}


@dataclass(frozen=True)
class BuildObject:
    """A table or view of a build schema."""

    schema: str  # the published schema it belongs to (marts, serving)
    name: str
    is_view: bool


@dataclass
class Publication:
    """What publishing did: the version, its objects and row counts, the time it took."""

    version: int
    previous: int | None
    objects: list[BuildObject] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    dropped_versions: list[int] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def databases(spark: SparkSession) -> set[str]:
    return {db.name for db in spark.catalog.listDatabases()}


def objects(spark: SparkSession, database: str) -> list[tuple[str, bool]]:
    """(name, is_view) of each table and view of a database (temporary views left out)."""
    return sorted(
        (table.name, table.tableType == "VIEW")
        for table in spark.catalog.listTables(database)
        if not table.isTemporary
    )


def table_properties(spark: SparkSession, *parts: str) -> dict[str, str]:
    rows = spark.sql(f"show tblproperties {ident(*parts)}").collect()
    return {row[0]: row[1] for row in rows}


def view_text(spark: SparkSession, *parts: str) -> str:
    """The SQL text of a view, as the metastore keeps it."""
    for row in spark.sql(f"describe table extended {ident(*parts)}").collect():
        if row[0] == "View Text":
            return str(row[1])
    raise SetupError(f"{'.'.join(parts)} is a view without a text")


def rewrite_view(text: str, mapping: dict[str, str], prefix: str, name: str) -> str:
    """A build view's text reading the versioned schemas instead of the build schemas
    (``build_marts.x``, `` `build_marts`.`x` `` -> ``marts__v3.x``). SetupError when it still
    names a schema with the build prefix: that schema is not published."""
    schemas = "|".join(map(re.escape, sorted(mapping, key=len, reverse=True)))
    reference = re.compile(r"(?<![\w`])(`?)(" + schemas + r")\1(?=\s*\.)")
    rewritten = reference.sub(lambda m: m.group(1) + mapping[m.group(2)] + m.group(1), text)
    left = re.search(r"(?<![\w`])`?(" + re.escape(prefix) + r"\w*)`?\s*\.", rewritten)
    if left:
        raise SetupError(
            f"view {name} reads {left.group(1)}, a build schema that is not published "
            f"(published: {', '.join(mapping)}): its copy would read unaudited data"
        )
    return rewritten


def read_quarantine(spark: SparkSession, manifest_path: Path) -> list[QuarantinedTable]:
    """stg_quarantine__tables of the build (empty when the build has none: the audit says
    why such a build is refused)."""
    relation = quarantine_relation(manifest_path)
    if relation is None:
        return []
    _, schema, table = relation
    if not spark.catalog.tableExists(f"{schema}.{table}"):
        return []
    rows = spark.sql(quarantine_query(schema, table, "`")).collect()
    return [
        QuarantinedTable(str(r[0]), int(r[1]), int(r[2]), float(r[3]), float(r[4]), bool(r[5]))
        for r in rows
    ]


def audit_spark_build(
    spark: SparkSession,
    plan: SparkPublishPlan,
    manifest_path: Path,
    run_results_path: Path,
    ge_results_path: Path,
) -> Audit:
    """The shared audit plus the checks that tie the artifacts to the build schemas (dbt-spark
    leaves the database empty: the schema names a relation)."""
    audit = audit_artifacts(manifest_path, run_results_path, ge_results_path)
    manifest = read_json(manifest_path, "dbt manifest")
    audit.reasons += build_schema_reasons(manifest, plan.schemas, plan.prefix, None)
    ge_results = read_json(ge_results_path, "GE results")
    audit.reasons += ge_relation_reasons(ge_results, plan.prefix, None)
    missing = set(plan.build_schemas) - databases(spark)
    for schema in sorted(missing):
        audit.reasons.append(f"build: schema {schema} does not exist in the Spark catalogue")
    return audit


def published_versions(spark: SparkSession, plan: SparkPublishPlan) -> dict[str, int]:
    """``schema.name`` -> version of every name BI reads now. SetupError when one is not a
    pointer this publisher made (a table dbt or someone wrote there): nothing is touched."""
    found: dict[str, int] = {}
    present = databases(spark)
    for schema in plan.schemas:
        if schema not in present:
            continue
        for name, is_view in objects(spark, schema):
            version = (
                table_properties(spark, schema, name).get(VERSION_PROPERTY) if is_view else None
            )
            if version is None or not version.isdigit():
                raise SetupError(
                    f"{schema}.{name} is not a published name of this publisher (a "
                    f"{'view' if is_view else 'table'} without property {VERSION_PROPERTY}): "
                    "move it out of the published schema"
                )
            found[f"{schema}.{name}"] = int(version)
    return found


def _log_versions(spark: SparkSession) -> set[int]:
    if not spark.catalog.tableExists(f"{LOG_SCHEMA}.{LOG_TABLE}"):
        return set()
    rows = spark.sql(f"select publication_id from {ident(LOG_SCHEMA, LOG_TABLE)}").collect()
    return {int(row[0]) for row in rows}


def _drop_version(spark: SparkSession, plan: SparkPublishPlan, version: int) -> None:
    for schema in plan.schemas:
        spark.sql(f"drop database if exists {ident(plan.versioned(schema, version))} cascade")


def _build_objects(spark: SparkSession, plan: SparkPublishPlan) -> list[BuildObject]:
    return [
        BuildObject(schema, name, is_view)
        for schema in plan.schemas
        for name, is_view in objects(spark, plan.build(schema))
    ]


def _views_in_order(
    views: dict[BuildObject, str], plan: SparkPublishPlan, version: int
) -> list[BuildObject]:
    """The views, each after the views of the version its text reads (a serving view may
    read another one); SetupError on a cycle."""

    def reads(text: str, other: BuildObject) -> bool:
        schema, name = plan.versioned(other.schema, version), re.escape(other.name)
        return bool(re.search(rf"(?<![\w`])`?{schema}`?\s*\.\s*`?{name}(?![\w])", text))

    graph = {
        item: {other for other in views if other != item and reads(text, other)}
        for item, text in views.items()
    }
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise SetupError(f"the build's views read each other in a cycle: {exc.args[1]}") from exc


def copy_version(
    spark: SparkSession, plan: SparkPublishPlan, version: int, build: list[BuildObject]
) -> dict[str, int]:
    """Step 1: the build's tables copied and its views recreated in ``<schema>__v<version>``;
    return the rows of each copied table (``schema.name``), checked against the build's."""
    mapping = {plan.build(s): plan.versioned(s, version) for s in plan.schemas}
    for schema in plan.schemas:
        spark.sql(f"create database {ident(plan.versioned(schema, version))}")
    counts: dict[str, int] = {}
    for item in (item for item in build if not item.is_view):
        source = ident(plan.build(item.schema), item.name)
        copy = ident(plan.versioned(item.schema, version), item.name)
        spark.sql(f"create table {copy} using parquet as select * from {source}")
        built, copied = spark.table(source).count(), spark.table(copy).count()
        if built != copied:
            raise SetupError(f"copy of {source} holds {copied} rows, the build {built}")
        counts[f"{item.schema}.{item.name}"] = copied
    views = {
        item: rewrite_view(
            view_text(spark, plan.build(item.schema), item.name),
            mapping,
            plan.prefix,
            f"{plan.build(item.schema)}.{item.name}",
        )
        for item in build
        if item.is_view
    }
    for item in _views_in_order(views, plan, version):
        view = ident(plan.versioned(item.schema, version), item.name)
        spark.sql(f"create view {view} as {views[item]}")
    return counts


def _point(
    spark: SparkSession, plan: SparkPublishPlan, schema: str, name: str, version: int
) -> None:
    target = ident(plan.versioned(schema, version), name)
    spark.sql(
        f"create or replace view {ident(schema, name)} "
        f"tblproperties ('{VERSION_PROPERTY}' = '{version}') as select * from {target}"
    )


def repoint(
    spark: SparkSession,
    plan: SparkPublishPlan,
    version: int,
    build: list[BuildObject],
    before: dict[str, int],
) -> None:
    """Step 2: every published name onto ``version``; names the build no longer has are
    dropped. On an error the names already moved go back to where they pointed (``before``)."""
    for schema in plan.schemas:
        spark.sql(f"create database if not exists {ident(schema)}")
    wanted = {f"{item.schema}.{item.name}" for item in build}
    moved: list[str] = []
    try:
        for item in build:
            _point(spark, plan, item.schema, item.name, version)
            moved.append(f"{item.schema}.{item.name}")
        for name in sorted(set(before) - wanted):
            spark.sql(f"drop view if exists {ident(*name.split('.', 1))}")
            moved.append(name)
    except BaseException:
        for name in moved:
            schema, obj = name.split(".", 1)
            if name in before:
                _point(spark, plan, schema, obj, before[name])
            else:
                spark.sql(f"drop view if exists {ident(schema, obj)}")
        raise


def _as_of(spark: SparkSession, plan: SparkPublishPlan, version: int) -> str | None:
    """max(as_of_at) of the published copy of fct_kpi_values (None without one)."""
    schema = plan.versioned(plan.schemas[0], version)
    if not spark.catalog.tableExists(f"{schema}.{AS_OF_TABLE}"):
        return None
    row = spark.sql(
        f"select cast(max(as_of_at) as string) from {ident(schema, AS_OF_TABLE)}"
    ).collect()
    return row[0][0] if row else None


def record_publication(spark: SparkSession, record: dict[str, Any]) -> None:
    """Step 3: one row in output_kpis_meta.publications (a parquet table; JSON as text)."""
    from pyspark.sql import types as T

    columns = T.StructType(
        [
            T.StructField("publication_id", T.LongType(), False),
            T.StructField("published_at", T.StringType(), False),
            T.StructField("invocation_id", T.StringType(), True),
            T.StructField("as_of", T.StringType(), True),
            T.StructField("schemas", T.StringType(), False),
            T.StructField("table_row_counts", T.StringType(), False),
            T.StructField("dbt", T.StringType(), False),
            T.StructField("ge", T.StringType(), False),
            T.StructField("quarantine", T.StringType(), False),
            T.StructField("copy_seconds", T.DoubleType(), False),
            T.StructField("repoint_seconds", T.DoubleType(), False),
            T.StructField("publish_seconds", T.DoubleType(), False),
        ]
    )
    log = f"{LOG_SCHEMA}.{LOG_TABLE}"
    spark.sql(f"create database if not exists {ident(LOG_SCHEMA)}")
    spark.createDataFrame([], columns).write.format("parquet").mode("ignore").saveAsTable(log)
    # a log written by an earlier release may lack columns: add them (older rows get nulls)
    present = set(spark.table(log).columns)
    missing = [f"`{f.name}` {f.dataType.simpleString()}" for f in columns if f.name not in present]
    if missing:
        spark.sql(f"alter table {ident(LOG_SCHEMA, LOG_TABLE)} add columns ({', '.join(missing)})")
    row = (
        record["version"],
        record["published_at"],
        record["invocation_id"],
        record["as_of"],
        json.dumps(record["schemas"]),
        json.dumps(record["table_row_counts"]),
        json.dumps(record["dbt"]),
        json.dumps(record["ge"]),
        json.dumps(record["quarantine"]),
        record["copy_seconds"],
        record["repoint_seconds"],
        record["publish_seconds"],
    )
    frame = spark.createDataFrame([row], columns)
    frame.select(*spark.table(log).columns).write.insertInto(log)


def publish(
    spark: SparkSession,
    plan: SparkPublishPlan,
    audit: Audit,
    quarantine: list[QuarantinedTable] | None = None,
) -> Publication:
    """Copy, repoint, record, clean up (module docstring); SetupError when a step fails, with
    BI's names on the previous build."""
    if not audit.passed:
        raise ValueError("refusing to publish a build whose audit failed")
    started = time.perf_counter()
    before = published_versions(spark, plan)
    current = max(before.values(), default=None)
    existing, logged = plan.versions_in(databases(spark)), _log_versions(spark)
    version = max(existing | logged | {0}) + 1
    # leftovers of a publish that failed or was killed before its repoint: never recorded,
    # nothing points at them
    for stale in sorted(existing - logged - set(before.values())):
        _drop_version(spark, plan, stale)
    build = _build_objects(spark, plan)
    if not build:
        raise SetupError(f"the build schemas {', '.join(plan.build_schemas)} hold nothing")
    publication = Publication(version, current, build)
    try:
        publication.row_counts = copy_version(spark, plan, version, build)
    except Exception as exc:
        _drop_version(spark, plan, version)
        raise SetupError(f"copying the build failed, nothing was published: {exc}") from exc
    copied = time.perf_counter()
    try:
        repoint(spark, plan, version, build, before)
    except Exception as exc:
        raise SetupError(
            f"repointing the published names failed; they point at version {current} again: {exc}"
        ) from exc
    publication.record = {
        "version": version,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "invocation_id": audit.dbt_summary.get("invocation_id"),
        "as_of": _as_of(spark, plan, version),
        "schemas": {s: plan.versioned(s, version) for s in plan.schemas},
        "table_row_counts": publication.row_counts,
        "dbt": audit.dbt_summary,
        "ge": audit.ge_summary,
        "quarantine": quarantine_summary(quarantine or []),
        "copy_seconds": round(copied - started, 3),
        "repoint_seconds": round(time.perf_counter() - copied, 3),
        "publish_seconds": round(time.perf_counter() - started, 3),
    }
    record_publication(spark, publication.record)
    # one previous version is kept: the one BI read until now
    keep = {version} | ({current} if current is not None else set())
    for old in sorted(plan.versions_in(databases(spark)) - keep):
        _drop_version(spark, plan, old)
        publication.dropped_versions.append(old)
    return publication


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.publish.spark",
        description="Publish an audited Spark build: copy build_<schema> into <schema>__v<n>, "
        "then repoint the views BI reads (<schema>.<name>) to it. The Spark session is the "
        "dbt profile's spark target (profiles.yml from DBT_PROFILES_DIR).",
        epilog="Exit codes: 0 published, 1 audit refused (published names untouched), "
        "2 an input is missing, Spark cannot start or publishing failed (names on the "
        "previous build).",
    )
    parser.add_argument(
        "--schema",
        action="append",
        dest="schemas",
        metavar="NAME",
        help="published schema, built as <prefix><schema>; repeatable, published together "
        f"(default: {', '.join(DEFAULT_SCHEMAS)})",
    )
    parser.add_argument(
        "--build-prefix", default=DEFAULT_PREFIX, help="prefix of the build schemas (build_)"
    )
    parser.add_argument("--manifest", type=Path, default=Path("target/spark/manifest.json"))
    parser.add_argument("--run-results", type=Path, default=Path("target/spark/run_results.json"))
    parser.add_argument("--ge-results", type=Path, default=Path("target/spark/ge_results.json"))
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="spark.master (e.g. spark://host:7077; default: the profile's, else local[*])",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = SparkPublishPlan(tuple(args.schemas or DEFAULT_SCHEMAS), args.build_prefix)
    names = ", ".join(plan.schemas)
    try:
        from kpi_tooling.core.spark import SparkProfile

        profile = SparkProfile.load()
        # the artifacts first: a missing file should not wait for the JVM
        audit_artifacts(args.manifest, args.run_results, args.ge_results)
        spark = profile.session(args.spark_master)
        audit = audit_spark_build(spark, plan, args.manifest, args.run_results, args.ge_results)
        quarantine = read_quarantine(spark, args.manifest)
        lines, floods = quarantine_report(quarantine)
        audit.reasons += floods
        print("\n".join(lines))
        if not audit.passed:
            print(f"REFUSED: not publishing {', '.join(plan.build_schemas)}; {names} unchanged.")
            for reason in audit.reasons:
                print(f"  {reason}")
            return EXIT_REFUSED
        publication = publish(spark, plan, audit, quarantine)
    except ToolingError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_SETUP
    record = publication.record
    tables = len(publication.row_counts)
    views = sum(item.is_view for item in publication.objects)
    rows = sum(publication.row_counts.values())
    for old in publication.dropped_versions:
        print(f"dropped version {old} ({', '.join(plan.versioned(s, old) for s in plan.schemas)})")
    print(
        f"PUBLISHED: {names} -> version {publication.version} "
        f"({', '.join(record['schemas'].values())}: {tables} tables, {rows:,} rows, {views} "
        f"views; as_of {record['as_of']}; previous version {publication.previous}) in "
        f"{record['publish_seconds']} s (repoint {record['repoint_seconds']} s); recorded in "
        f"{LOG_SCHEMA}.{LOG_TABLE}"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
