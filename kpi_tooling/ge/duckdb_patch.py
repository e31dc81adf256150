"""Make Great Expectations' SQL datasources see data on DuckDB.

Why: GE 1.x opens a fresh pooled SQLAlchemy connection for every metric query unless the
dialect is listed in ``sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS``. On DuckDB
that yields empty metric results (great_expectations issue #10738): observed values come
back as ``None``/0 and expectations pass or fail for the wrong reason. Registering ``duckdb``
as a persisted-connection dialect makes GE keep one connection per execution engine, which
is how DuckDB expects to be used.

When to remove: once GE lists DuckDB in ``_PERSISTED_CONNECTION_DIALECTS`` itself (or fixes
#10738 another way). ``tests/python/test_ge_duckdb_patch.py`` shows whether the patch is
still needed: it fails loudly if GE starts returning correct values without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from great_expectations.execution_engine import sqlalchemy_execution_engine as _engine_module

if TYPE_CHECKING:
    from great_expectations.datasource.fluent import SQLDatasource

DUCKDB_DIALECT = "duckdb"


class _DuckDBDialect(str):
    """Stands in for a ``GXSqlDialect`` member, which GE has none of for DuckDB.

    GE reads the tuple two ways: ``entry.value`` (prefix of the connection string) and
    ``dialect_name in tuple`` (string equality), so the entry is a ``str`` with ``.value``.
    """

    value = DUCKDB_DIALECT


def is_duckdb_persisted_connection_enabled() -> bool:
    """True when GE already keeps a persisted connection for DuckDB."""
    return DUCKDB_DIALECT in _engine_module._PERSISTED_CONNECTION_DIALECTS


def enable_duckdb_persisted_connection() -> None:
    """Register DuckDB as a persisted-connection dialect in GE (idempotent).

    Call before creating any GE datasource or execution engine on DuckDB.
    """
    if is_duckdb_persisted_connection_enabled():
        return
    _engine_module._PERSISTED_CONNECTION_DIALECTS = (
        *_engine_module._PERSISTED_CONNECTION_DIALECTS,
        _DuckDBDialect(DUCKDB_DIALECT),
    )


def release_duckdb_connections(datasource: SQLDatasource) -> None:
    """Close the connection the patch makes GE keep, and dispose of the datasource's engines.

    DuckDB refuses a second connection to a file that is open in the same process with other
    settings, so a persisted connection left open would block the next run (or a later
    ``duckdb.connect``) in that process.
    """
    execution_engine = datasource.get_execution_engine()
    connection = getattr(execution_engine, "_connection", None)
    if connection is not None:
        connection.close()
        execution_engine._connection = None
    execution_engine.engine.dispose()
    datasource.get_engine().dispose()
