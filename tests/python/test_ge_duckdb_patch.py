"""The DuckDB patch for GE (kpi_tooling/ge/duckdb_patch.py): needed, effective, idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

from kpi_tooling.ge.duckdb_patch import (
    enable_duckdb_persisted_connection,
    is_duckdb_persisted_connection_enabled,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "patch.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema main_intermediate")
        conn.execute(
            "create table main_intermediate.units as"
            " select 'SN' || i as serial_number, case when i % 4 = 0 then null else i end as qty"
            " from range(10) as r(i)"
        )
    return path


@pytest.fixture
def unpatched(monkeypatch: pytest.MonkeyPatch) -> None:
    """GE's own dialect list, whatever earlier tests did to it (restored afterwards)."""
    original = tuple(d for d in engine_module._PERSISTED_CONNECTION_DIALECTS if str(d) != "duckdb")
    monkeypatch.setattr(engine_module, "_PERSISTED_CONNECTION_DIALECTS", original)


def _observed(db_path: Path) -> list[dict[str, Any]]:
    """Run a 2-expectation suite through a Checkpoint; return what GE observed."""
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_sql(
        name="wh", connection_string=f"duckdb:///{db_path}"
    ).add_query_asset(name="units", query='select * from "main_intermediate"."units"')
    suite = context.suites.add(
        gx.ExpectationSuite(
            name="units",
            expectations=[
                gx.expectations.ExpectTableRowCountToEqual(value=10),
                gx.expectations.ExpectColumnValuesToNotBeNull(column="qty"),
            ],
        )
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name="units", data=asset.add_batch_definition_whole_table("all"), suite=suite
        )
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name="units", validation_definitions=[definition])
    )
    run = checkpoint.run()
    return [
        {"success": result.success, **result.result}
        for validation in run.run_results.values()
        for result in validation.results
    ]


@pytest.mark.usefixtures("unpatched")
def test_patch_is_still_needed(db_path: Path) -> None:
    observed = _observed(db_path)
    assert observed[0].get("observed_value") != 10, (
        "GE now reads DuckDB correctly without the patch (issue #10738 fixed?): "
        "kpi_tooling/ge/duckdb_patch.py can be removed"
    )


@pytest.mark.usefixtures("unpatched")
def test_patch_gives_correct_observed_values(db_path: Path) -> None:
    enable_duckdb_persisted_connection()
    row_count, not_null = _observed(db_path)
    assert row_count["success"] is True
    assert row_count["observed_value"] == 10
    assert not_null["success"] is False
    assert not_null["element_count"] == 10
    assert not_null["unexpected_count"] == 3  # i = 0, 4, 8


@pytest.mark.usefixtures("unpatched")
def test_patch_is_idempotent() -> None:
    assert not is_duckdb_persisted_connection_enabled()
    enable_duckdb_persisted_connection()
    once = engine_module._PERSISTED_CONNECTION_DIALECTS
    enable_duckdb_persisted_connection()
    assert engine_module._PERSISTED_CONNECTION_DIALECTS is once  # not rebound again
    assert sum(str(d) == "duckdb" for d in once) == 1
    assert is_duckdb_persisted_connection_enabled()


def test_validation_opens_duckdb_with_the_memory_limit_it_is_given(db_path: Path) -> None:
    """--memory-limit reaches the connection GE's checks run on (DuckDB's default is 80% of
    RAM: at 100M raw rows the suites reached 9 GiB RSS); without it DuckDB keeps its own."""
    import sqlalchemy as sa

    from kpi_tooling.ge.plan import Target
    from kpi_tooling.ge.runner import add_datasource, make_context, release_connections

    def memory_limit(target: Target) -> str:
        datasource = add_datasource(make_context(None), target)
        try:
            query = sa.text("select current_setting('memory_limit')")
            return datasource.get_execution_engine().execute_query(query).fetchall()[0][0]
        finally:
            release_connections(datasource, target)

    with duckdb.connect() as conn:
        default = conn.execute("select current_setting('memory_limit')").fetchone()[0]
    assert memory_limit(Target.of(db_path, "1GB")) == "953.6 MiB"
    assert memory_limit(Target.of(db_path)) == default != "953.6 MiB"


def test_a_memory_limit_is_refused_for_a_server_warehouse() -> None:
    from kpi_tooling.errors import SetupError
    from kpi_tooling.ge.plan import Target

    with pytest.raises(SetupError, match="applies to a DuckDB file") as refused:
        Target.of("postgresql+psycopg2://u:s3cret@localhost/db", "1GB")
    assert "s3cret" not in str(refused.value)
