"""Run planned suites through GE Checkpoints on DuckDB, Postgres or Spark, pushed down.

One ephemeral context and one datasource serve every suite; each suite gets an asset, a
ValidationDefinition and a Checkpoint. On DuckDB and Postgres the datasource is SQL (read-only
on DuckDB) and the asset a query asset (``select * from "schema"."table"``: a table asset
outside schema ``main`` loses its schema in GE's column reflection on DuckDB), so every check
runs as SQL in the database. On Spark it is GE's Spark datasource on the profile's session
(kpi_tooling.core.spark) and a dataframe asset over ``spark.table(...)``: every metric is a
Spark job, nothing is collected but its result. GE 1.24.1 runs ``unexpected_rows_expectation``
on Spark itself: it registers the batch as temp view ``tmp_view``, puts that name for
``{batch}`` and runs the query with ``spark.sql`` (rows counted in Spark; at most 200 fetched).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.core.expectation_validation_result import (
    ExpectationValidationResult,
)
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.expectations.expectation_configuration import (
    ExpectationConfiguration,
)

from kpi_tooling.ge.duckdb_patch import (
    enable_duckdb_persisted_connection,
    release_duckdb_connections,
)
from kpi_tooling.ge.plan import PlannedSuite, Relation, Target

if TYPE_CHECKING:
    from great_expectations.datasource.fluent import SparkDatasource
    from pyspark.sql import DataFrame, SparkSession
from kpi_tooling.ge.results import SAMPLE_SIZE, ExpectationOutcome, SuiteOutcome, jsonable
from kpi_tooling.ge.suites import SuiteSpec

UNEXPECTED_ROWS = "unexpected_rows_expectation"
_JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)
# Temp view of the batch for the sample-key queries on Spark (GE's own is tmp_view).
SAMPLE_VIEW = "output_kpis_sample_batch"
WHOLE_DATAFRAME = "whole_dataframe"


def make_context(data_docs_dir: Path | None) -> AbstractDataContext:
    """Ephemeral context: nothing persisted but the optional Data Docs site."""
    sites: dict[str, Any] = {}
    if data_docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(data_docs_dir.resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def add_duckdb_datasource(
    context: AbstractDataContext, db_path: Path, config: dict[str, str] | None = None
) -> SQLDatasource:
    """GE's SQL datasource on the DuckDB file, opened read-only with the DuckDB settings in
    ``config`` (e.g. memory_limit)."""
    enable_duckdb_persisted_connection()
    # Read-only: a BI tool may hold the file, and validation never writes.
    connect_args: dict[str, Any] = {"read_only": True}
    if config:
        connect_args["config"] = dict(config)
    return context.data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{db_path.resolve()}",
        kwargs={"connect_args": connect_args},
    )


def add_datasource(context: AbstractDataContext, target: Target) -> SQLDatasource | SparkDatasource:
    if target.spark is not None:
        # GE reuses the session running in this process (Target.spark_session opened it with
        # the profile's settings); persist: each suite's table is read once, then cached.
        target.spark_session()
        return context.data_sources.add_spark(name="warehouse", persist=True)
    if target.duckdb_path is not None:
        return add_duckdb_datasource(context, target.duckdb_path, target.duckdb_config())
    # GE supports Postgres natively: no patch, one pooled connection per metric query is fine.
    return context.data_sources.add_postgres(name="warehouse", connection_string=target.url)


def release_connections(datasource: SQLDatasource | SparkDatasource, target: Target) -> None:
    if target.spark is not None:
        # The session stays up for its owner (a test, the next step); the cached tables go.
        target.spark_session().catalog.clearCache()
    elif target.is_duckdb:
        release_duckdb_connections(datasource)
    else:
        datasource.get_execution_engine().engine.dispose()
        datasource.get_engine().dispose()


def gx_suite(spec: SuiteSpec) -> gx.ExpectationSuite:
    """The GE suite for a suite file; each expectation keeps its rule/kpi meta."""
    expectations = [
        ExpectationConfiguration(
            type=item["type"], kwargs=item.get("kwargs", {}), meta=item["meta"]
        ).to_domain_obj()
        for item in spec.expectations
    ]
    meta = {"model": spec.model, "kpis": spec.kpis, "unit_of_output": spec.unit_of_output}
    if spec.unit_of_output_from:
        meta["unit_of_output_from"] = spec.unit_of_output_from
    return gx.ExpectationSuite(
        name=spec.name, expectations=expectations, meta=meta, notes=definition_note(spec)
    )


def definition_note(spec: SuiteSpec) -> str:
    """The unit's definition as Data Docs shows it above the suite, naming where it lives."""
    source = spec.unit_of_output_from
    where = f" (the registry entry of `{source}`, read at run time)" if source else ""
    return f"**Unit of output**{where}: {spec.unit_of_output}"


def _checkpoint(
    context: AbstractDataContext,
    datasource: SQLDatasource | SparkDatasource,
    planned: PlannedSuite,
) -> gx.Checkpoint:
    spec = planned.spec
    # One asset per suite: several suites (the declared units') read the same model.
    if isinstance(datasource, SQLDatasource):
        query = f"select * from {planned.relation.sql}"
        batches = datasource.add_query_asset(name=spec.name, query=query)
        batch = batches.add_batch_definition_whole_table("whole_table")
    else:  # Spark: the dataframe comes with each run (_run_suite)
        frames = datasource.add_dataframe_asset(name=spec.name)
        batch = frames.add_batch_definition_whole_dataframe(WHOLE_DATAFRAME)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=spec.name, data=batch, suite=context.suites.add(gx_suite(spec))
        )
    )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"{spec.name}__checkpoint",
            validation_definitions=[definition],
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": [spec.key_column],
            },
        )
    )


def _key_text(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _outcome(result: ExpectationValidationResult, key_column: str) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    exception = result.exception_info or {}
    count = details.get("unexpected_count")
    if config.type == UNEXPECTED_ROWS:
        count = details.get("observed_value")
    index_rows = details.get("partial_unexpected_index_list") or []
    keys = [_key_text(row.get(key_column)) for row in index_rows]
    return ExpectationOutcome(
        rule=config.meta.get("rule", config.type),
        kpi=config.meta.get("kpi", ""),
        type=config.type,
        success=bool(result.success),
        unexpected_count=count,
        sample_keys=list(dict.fromkeys(keys))[:SAMPLE_SIZE],
        observed_value=jsonable(details.get("observed_value")),
        details=jsonable(details.get("details")),
        error=exception.get("exception_message") if exception.get("raised_exception") else None,
    )


def _rule_sample_keys(
    engine: sa.Engine, query: str, key_column: str, relation: Relation
) -> list[str]:
    """GE's SUMMARY result carries no rows for UnexpectedRowsExpectation: fetch a few keys."""
    batch = f"(select * from {relation.sql})"
    # As GE does: a query that joins aliases the batch itself, any other gets an alias.
    rule_sql = query.format(batch=batch if _JOIN.search(query) else f"{batch} as subselect")
    sample = f'select "{key_column}" from ({rule_sql}) as unexpected limit {SAMPLE_SIZE}'
    try:
        with engine.connect() as conn:
            return [_key_text(row[0]) for row in conn.execute(sa.text(sample))]
    except sa.exc.SQLAlchemyError:
        return []  # the rule query does not expose the key column; the count still stands


def _spark_rule_sample_keys(frame: DataFrame, query: str, key_column: str) -> list[str]:
    """The Spark twin of _rule_sample_keys: the batch as a temp view, as GE runs the rule."""
    frame.createOrReplaceTempView(SAMPLE_VIEW)
    session = frame.sparkSession
    try:
        rule = session.sql(query.format(batch=SAMPLE_VIEW))
        rows = rule.select(f"`{key_column}`").limit(SAMPLE_SIZE).collect()
        return [_key_text(row[0]) for row in rows]
    except Exception:  # AnalysisException: the rule query does not expose the key column
        return []
    finally:
        session.catalog.dropTempView(SAMPLE_VIEW)


def _outcomes(
    run: gx.checkpoint.CheckpointResult,
    planned: PlannedSuite,
    engine: sa.Engine | None,
    frame: DataFrame | None = None,
) -> list[ExpectationOutcome]:
    """The run's outcomes; sample keys of broken SQL rules come from ``engine`` (SQL) or
    from ``frame`` (the Spark batch)."""
    outcomes = []
    key = planned.spec.key_column
    for validation in run.run_results.values():
        for result in validation.results:
            outcome = _outcome(result, key)
            query = result.expectation_config.kwargs.get("unexpected_rows_query")
            if query and not (outcome.success or outcome.error):
                if frame is not None:
                    outcome.sample_keys = _spark_rule_sample_keys(frame, query, key)
                elif engine is not None:
                    outcome.sample_keys = _rule_sample_keys(engine, query, key, planned.relation)
            outcomes.append(outcome)
    # GE groups expectations by metric; report them in the order the suite file states them.
    position = {item["meta"]["rule"]: i for i, item in enumerate(planned.spec.expectations)}
    return sorted(outcomes, key=lambda outcome: position.get(outcome.rule, len(position)))


def _run_suite(
    context: AbstractDataContext,
    datasource: SQLDatasource | SparkDatasource,
    planned: PlannedSuite,
    session: SparkSession | None = None,
) -> SuiteOutcome:
    started = time.perf_counter()
    checkpoint = _checkpoint(context, datasource, planned)
    if session is None:
        run = checkpoint.run()
        outcomes = _outcomes(run, planned, datasource.get_engine())
    else:
        frame = session.table(planned.relation.quoted("spark"))
        run = checkpoint.run(batch_parameters={"dataframe": frame})
        outcomes = _outcomes(run, planned, None, frame)
        session.catalog.clearCache()  # GE persisted the batch: free it before the next suite
    return SuiteOutcome(
        suite=planned.spec.name,
        model=planned.spec.model,
        relation=str(planned.relation),
        kpis=planned.spec.kpis,
        unit_of_output=planned.spec.unit_of_output,
        success=bool(run.success),
        row_count=planned.row_count,
        duration_seconds=round(time.perf_counter() - started, 3),
        expectations=outcomes,
    )


def run_planned(
    target: Target, plan: Iterable[PlannedSuite], data_docs_dir: Path | None
) -> list[SuiteOutcome]:
    """Validate each planned suite, then build the Data Docs site once (if asked for)."""
    context = make_context(data_docs_dir)
    datasource = add_datasource(context, target)
    session = target.spark_session() if target.spark is not None else None
    try:
        suites = [_run_suite(context, datasource, planned, session) for planned in plan]
        if data_docs_dir is not None:
            context.build_data_docs()
        return suites
    finally:
        release_connections(datasource, target)
