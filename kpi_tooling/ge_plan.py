"""Decide what to validate before GE is even imported: suites, models, relations.

Every input is checked up front (database, manifest, suite files, each model's table) so a
missing piece stops the run with one clear message instead of half a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kpi_tooling.ge_suites import SuiteFileError, SuiteSpec, load_suite, suite_paths

_EXISTS_SQL = (
    "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
)


class SetupError(RuntimeError):
    """The run cannot start: database, manifest, suite or model missing (exit 2)."""


@dataclass(frozen=True)
class Target:
    """The warehouse the suites run on: a DuckDB file, or a SQLAlchemy URL (Postgres)."""

    duckdb_path: Path | None = None
    url: str | None = None

    @classmethod
    def of(cls, db: Path | str) -> Target:
        """A URL when ``db`` holds ``://`` (``postgresql+psycopg2://...``), else a DuckDB file."""
        return cls(url=db) if isinstance(db, str) and "://" in db else cls(duckdb_path=Path(db))

    @property
    def is_duckdb(self) -> bool:
        return self.duckdb_path is not None

    def __str__(self) -> str:
        if self.duckdb_path is not None:
            return str(self.duckdb_path)
        from sqlalchemy.engine import make_url

        return make_url(self.url or "").render_as_string(hide_password=True)


@dataclass(frozen=True)
class Relation:
    """Where dbt built a model. Queries omit the database: the --db file (or the URL's
    database) is the catalog."""

    database: str
    schema: str
    alias: str

    @property
    def sql(self) -> str:
        return f'"{self.schema}"."{self.alias}"'

    def __str__(self) -> str:
        return f"{self.database}.{self.schema}.{self.alias}"


@dataclass(frozen=True)
class PlannedSuite:
    spec: SuiteSpec
    relation: Relation
    row_count: int


def load_relations(manifest_path: Path) -> dict[str, Relation]:
    """Model name → relation, from the dbt manifest's model nodes."""
    if not manifest_path.is_file():
        raise SetupError(f"dbt manifest not found: {manifest_path} (run `dbt build` first)")
    try:
        nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError) as exc:
        raise SetupError(f"cannot read dbt manifest {manifest_path}: {exc}") from exc
    return {
        node["name"]: Relation(
            node.get("database") or "", node["schema"], node.get("alias") or node["name"]
        )
        for node in nodes.values()
        if node.get("resource_type") == "model"
    }


def _load_specs(suites_dir: Path, suite_names: list[str] | None) -> list[SuiteSpec]:
    try:
        specs = [load_suite(path) for path in suite_paths(suites_dir, suite_names)]
    except SuiteFileError as exc:
        raise SetupError(str(exc)) from exc
    if not specs:
        raise SetupError(f"no suite files in {suites_dir}")
    return specs


def _row_counts(target: Target, relations: list[Relation]) -> list[int | None]:
    """Row count per relation, None when the relation is not in the database."""
    if target.duckdb_path is None:
        return _server_row_counts(target, relations)
    db_path = target.duckdb_path
    if not db_path.is_file():
        raise SetupError(f"database not found: {db_path} (run `make build` first)")
    try:
        # Read-only and closed again before GE opens the file with its own settings.
        with duckdb.connect(str(db_path), read_only=True) as conn:
            return [_count(conn, relation) for relation in relations]
    except duckdb.Error as exc:
        raise SetupError(f"cannot read database {db_path}: {exc}") from exc


def _server_row_counts(target: Target, relations: list[Relation]) -> list[int | None]:
    import sqlalchemy as sa

    engine = sa.create_engine(target.url or "")
    exists = sa.text(_EXISTS_SQL.replace("?", ":schema", 1).replace("?", ":name", 1))
    counts: list[int | None] = []
    try:
        with engine.connect() as conn:
            for relation in relations:
                found = conn.execute(exists, {"schema": relation.schema, "name": relation.alias})
                if not found.scalar():
                    counts.append(None)
                    continue
                total = conn.execute(sa.text(f"select count(*) from {relation.sql}")).scalar()
                counts.append(int(total or 0))
    except sa.exc.SQLAlchemyError as exc:
        raise SetupError(f"cannot read database {target}: {exc}") from exc
    finally:
        engine.dispose()
    return counts


def _count(conn: duckdb.DuckDBPyConnection, relation: Relation) -> int | None:
    found = conn.execute(_EXISTS_SQL, [relation.schema, relation.alias]).fetchone()
    if not (found and found[0]):
        return None
    row = conn.execute(f"select count(*) from {relation.sql}").fetchone()
    return int(row[0]) if row else 0


def plan_suites(
    target: Target, manifest_path: Path, suites_dir: Path, suite_names: list[str] | None = None
) -> list[PlannedSuite]:
    """Load the suites and resolve each model to a table that exists, or raise SetupError."""
    specs = _load_specs(suites_dir, suite_names)
    relations = load_relations(manifest_path)
    unknown = [spec.model for spec in specs if spec.model not in relations]
    if unknown:
        raise SetupError(f"model(s) not in the dbt manifest {manifest_path}: {', '.join(unknown)}")
    resolved = [relations[spec.model] for spec in specs]
    planned = zip(specs, resolved, _row_counts(target, resolved), strict=True)
    plan = [PlannedSuite(spec, rel, count) for spec, rel, count in planned if count is not None]
    if len(plan) < len(specs):
        found = {item.spec.name for item in plan}
        missing = [
            f"{s.model} ({r})" for s, r in zip(specs, resolved, strict=True) if s.name not in found
        ]
        raise SetupError(
            f"model table(s) not in {target}: {', '.join(missing)} (run `dbt build` first)"
        )
    return plan
