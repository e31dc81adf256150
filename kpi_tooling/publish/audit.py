"""The audit of write-audit-publish, shared by every engine's publisher.

A build may be published only when the dbt ``run_results.json`` of the invocation that wrote
``manifest.json`` ran every model, data test and unit test with no error or failure (warn is
fine), and the GE results file, written after that run, is successful. A killed run fails this:
dbt writes the manifest when it starts and the run results only when it ends. Each publisher
adds the checks of its own engine (``duckdb_file`` for DuckDB files, ``postgres`` and
``spark`` for schemas on a server, which share ``build_schema_reasons`` and
``ge_relation_reasons``: the artifacts must belong to the ``build_*`` schemas).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kpi_tooling.config import MARTS_SCHEMA, SERVING_SCHEMA
from kpi_tooling.errors import SetupError

BAD_STATUSES = frozenset({"error", "fail", "runtime error", "skipped"})
# What the server publishers (Postgres, Spark) share: the schemas BI reads (models/marts and
# models/serving, kpi_tooling.config), published together; the prefix of the schemas dbt builds
# beside them (macros/generate_schema_name.sql); where a publication is recorded; the mart
# whose as_of_at is the build's as_of.
PUBLISHED_SCHEMAS = (MARTS_SCHEMA, SERVING_SCHEMA)
BUILD_PREFIX = "build_"
LOG_SCHEMA, LOG_TABLE = "output_kpis_meta", "publications"
AS_OF_TABLE = "fct_kpi_values"


@dataclass
class Audit:
    """What the audit found: ``reasons`` empty means the build may be published."""

    reasons: list[str] = field(default_factory=list)
    dbt_summary: dict[str, Any] = field(default_factory=dict)
    ge_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.reasons


def read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise SetupError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read {what} {path}: {exc}") from exc


def _iso_to_epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def expected_nodes(manifest: dict[str, Any]) -> list[str]:
    """What a complete build runs: every model, every data test, every unit test.

    Tests that touch a seed are left out: `make build` excludes seeds (they load separately).
    """
    nodes = manifest.get("nodes", {})
    models = {
        node_id
        for node_id, node in nodes.items()
        if node.get("resource_type") == "model"
        and node.get("config", {}).get("enabled", True)
        and node.get("config", {}).get("materialized") != "ephemeral"
    }
    tests = [
        node_id
        for node_id, node in nodes.items()
        if node.get("resource_type") == "test"
        and node.get("config", {}).get("enabled", True)
        and not any(
            parent.startswith("seed.") for parent in node.get("depends_on", {}).get("nodes", [])
        )
    ]
    return sorted(models) + tests + list(manifest.get("unit_tests", {}))


def audit_dbt(manifest: dict[str, Any], run_results: dict[str, Any]) -> tuple[list[str], dict]:
    """Reasons to refuse from dbt: other invocation, failed nodes, models that did not run."""
    reasons: list[str] = []
    built_by = manifest.get("metadata", {}).get("invocation_id")
    results_of = run_results.get("metadata", {}).get("invocation_id")
    if built_by != results_of:
        reasons.append(
            f"dbt: run_results.json is from invocation {results_of}, manifest.json from "
            f"{built_by}: the last dbt run did not finish (killed?) or another command ran since"
        )
    statuses: dict[str, int] = {}
    ran: set[str] = set()
    for result in run_results.get("results", []):
        status = str(result.get("status"))
        statuses[status] = statuses.get(status, 0) + 1
        ran.add(result["unique_id"])
        if status in BAD_STATUSES:
            message = (result.get("message") or "").strip().splitlines()
            reasons.append(f"dbt: {result['unique_id']} {status}: {message[0] if message else ''}")
    missing = sorted(set(expected_nodes(manifest)) - ran)
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        shown = ", ".join(missing[:5]) + more
        reasons.append(
            f"dbt: {len(missing)} models or tests did not run in this invocation: {shown}"
        )
    summary = {"invocation_id": results_of, "statuses": statuses, "nodes": len(ran)}
    summary["generated_at"] = run_results.get("metadata", {}).get("generated_at")
    return reasons, summary


def _known(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The keys of a results-file entry that ``cls`` knows; a missing ``success`` is a failure."""
    names = {item.name for item in dataclasses.fields(cls)}
    return {"success": False, **{key: value for key, value in values.items() if key in names}}


def audit_ge(ge_results: dict[str, Any], ge_mtime: float, dbt_finished: float) -> tuple[list, dict]:
    """Reasons to refuse from GE: failed rules, no suites, or results older than the dbt run.

    No suites is fine only when the results file lists every suite as skipped (the project
    disabled each domain that has one): there was no unit of output to validate.
    """
    from kpi_tooling.ge.results import ExpectationOutcome, SuiteOutcome, failure_message

    reasons: list[str] = []
    suites = ge_results.get("suites", [])
    skipped = ge_results.get("skipped", [])
    if not suites and not skipped:
        reasons.append("GE: the results file holds no suites")
    if ge_mtime < dbt_finished:
        reasons.append("GE: the results file is older than the dbt run: run validate again")
    rules = failed = 0
    for raw in suites:
        suite = SuiteOutcome(**{**_known(SuiteOutcome, raw), "expectations": []})
        for item in raw.get("expectations", []):
            rules += 1
            outcome = ExpectationOutcome(**_known(ExpectationOutcome, item))
            if not outcome.success:
                failed += 1
                reasons.append(f"GE: {failure_message(suite, outcome)}")
    if not ge_results.get("success", False) and not failed:
        reasons.append("GE: the results file says the run did not succeed")
    counts = {"suites": len(suites), "skipped_suites": len(skipped), "rules": rules}
    return reasons, {**counts, "failed_rules": failed}


def audit_artifacts(manifest_path: Path, run_results_path: Path, ge_results_path: Path) -> Audit:
    """The engine-independent checks of the dbt and GE artifacts.

    Raise SetupError only when an input cannot be read at all.
    """
    manifest = read_json(manifest_path, "dbt manifest")
    run_results = read_json(run_results_path, "dbt run results")
    ge_results = read_json(ge_results_path, "GE results")
    dbt_reasons, dbt_summary = audit_dbt(manifest, run_results)
    finished = _iso_to_epoch(dbt_summary["generated_at"] or "1970-01-01T00:00:00Z")
    ge_mtime = ge_results_path.stat().st_mtime
    try:
        ge_reasons, ge_summary = audit_ge(ge_results, ge_mtime, finished)
    except TypeError as exc:
        raise SetupError(f"GE results {ge_results_path} are not a validate results file") from exc
    return Audit(dbt_reasons + ge_reasons, dbt_summary, ge_summary)


def build_schema_reasons(
    manifest: dict[str, Any], schemas: tuple[str, ...], prefix: str, database: str | None
) -> list[str]:
    """Reasons to refuse when the manifest did not build the ``<prefix><schema>`` schemas of
    ``database`` beside the published ``schemas`` (a server publisher's check: Postgres,
    Spark). ``database`` None: the engine leaves it empty (dbt-spark), nothing to compare."""
    reasons = []
    models = [
        node for node in manifest.get("nodes", {}).values() if node.get("resource_type") == "model"
    ]
    for schema in schemas:
        direct = sorted(node["name"] for node in models if node.get("schema") == schema)
        if direct:
            reasons.append(
                f"dbt: {len(direct)} models were built straight into published schema {schema} "
                f"(e.g. {direct[0]}), not {prefix}{schema}: this build was not written "
                "beside the published data (var output_kpis_build_schema_prefix)"
            )
        elif not any(node.get("schema") == prefix + schema for node in models):
            reasons.append(f"dbt: the manifest builds no model into {prefix}{schema}")
    databases = {node.get("database") for node in models} - {database}
    if databases:
        reasons.append(
            f"dbt: the manifest built into database {', '.join(sorted(map(str, databases)))}, "
            f"not {database}"
        )
    return reasons


def ge_relation_reasons(ge_results: dict[str, Any], prefix: str, database: str | None) -> list[str]:
    """Reasons to refuse when GE validated something else than the build: every suite's
    relation must be ``database.<prefix>*.table`` (``<prefix>*.table`` when ``database`` is
    None, as on Spark), not the published copy."""
    reasons = []
    where = f"a {prefix}* schema" + (f" of database {database}" if database is not None else "")
    for suite in ge_results.get("suites", []):
        parts = str(suite.get("relation", "")).split(".")
        if database is not None:
            parts = parts[1:] if parts[0] == database else []
        if len(parts) != 2 or not parts[0].startswith(prefix):
            reasons.append(
                f"GE: suite {suite.get('suite')} validated {suite.get('relation')}, not {where}"
            )
    return reasons


QUARANTINE_MODEL = "stg_quarantine__tables"
QUARANTINE_COLUMNS = (
    "source_table, raw_rows, quarantined_rows, quarantined_share, max_quarantined_share, is_flood"
)


@dataclass(frozen=True)
class QuarantinedTable:
    """One row of stg_quarantine__tables: what a raw table lost to the quarantine."""

    source_table: str
    raw_rows: int
    quarantined_rows: int
    quarantined_share: float
    max_quarantined_share: float
    is_flood: bool


def quarantine_relation(manifest_path: Path) -> tuple[str | None, str, str] | None:
    """(database, schema, table) of stg_quarantine__tables in the build, from the manifest;
    None when the project has no such model (nothing to report)."""
    nodes = read_json(manifest_path, "dbt manifest").get("nodes", {})
    for node in nodes.values():
        if node.get("resource_type") == "model" and node.get("name") == QUARANTINE_MODEL:
            return node.get("database"), node["schema"], node.get("alias") or node["name"]
    return None


def quarantine_query(schema: str, table: str, quote: str = '"') -> str:
    """The one query every publisher runs (schema and table come from the manifest; ``quote``
    the engine's identifier quote: a backtick on Spark)."""
    relation = f"{quote}{schema}{quote}.{quote}{table}{quote}"
    return f"select {QUARANTINE_COLUMNS} from {relation} order by source_table"


def quarantine_report(rows: list[QuarantinedTable]) -> tuple[list[str], list[str]]:
    """(report lines, refusal reasons). Quarantined rows never block publishing; a flood (the
    dbt model's is_flood, which also fails assert_quarantine_below_flood_limit) is a refusal
    naming the table, its share and the var."""
    lines = [
        f"quarantine: {row.source_table}: {row.quarantined_rows:,} of {row.raw_rows:,} rows "
        f"({row.quarantined_share:.3%})"
        for row in rows
        if row.quarantined_rows
    ] or ["quarantine: no row quarantined"]
    reasons = [
        f"quarantine flood: {row.source_table} has {row.quarantined_share:.1%} of its rows "
        f"quarantined ({row.quarantined_rows:,} of {row.raw_rows:,}), above var "
        f"output_kpis_max_quarantine_share = {row.max_quarantined_share:g}: a broken feed; fix "
        f"it (stg_quarantine__rows says why each row was refused) or raise the var"
        for row in rows
        if row.is_flood
    ]
    return lines, reasons


def quarantine_summary(rows: list[QuarantinedTable]) -> dict[str, dict[str, Any]]:
    """What the publish record keeps: rows and share quarantined per table that lost any."""
    return {
        row.source_table: {
            "quarantined_rows": row.quarantined_rows,
            "raw_rows": row.raw_rows,
            "share": round(row.quarantined_share, 6),
        }
        for row in rows
        if row.quarantined_rows
    }
