"""Decide what to validate before GE is even imported: suites, models, relations.

Every input is checked up front (database, manifest, suite files, each model's table) so a
missing piece stops the run with one clear message instead of half a run. A suite whose model
the project disabled (``output_kpis_enable_<domain>: false``: the manifest lists it under
``disabled``) is skipped, not an error; one whose model the manifest does not know is an error.

Beside the suite files, every unit declared in YAML gets a generated suite ``units__<unit_id>``
on ``int_units__declared_units`` (kpi_tooling.ge.declared, from the manifest's declarations);
none when nothing is declared or the model is disabled. ``--suite`` names either kind.

A suite file names the KPI that defines its unit (meta ``unit_of_output_from``); the text is
read here from that KPI's registry row (the registry seed beside the suites folder) or its
declaration (the manifest), so the suite carries no copy of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import yaml

from kpi_tooling.errors import DeclarationError, SetupError, SuiteFileError
from kpi_tooling.ge.declared import UNITS_MODEL, declarations, declared_suites
from kpi_tooling.ge.results import SkippedSuite
from kpi_tooling.ge.suites import (
    REGISTRY_PATH,
    SuiteSpec,
    builtin_definitions,
    declared_definitions,
    load_suite,
    package_root,
    registry_definitions,
    resolve_definition,
    suite_paths,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from kpi_tooling.core.spark import SparkProfile

DEFAULT_SUITES_DIR = "expectations"
DOMAIN_DISABLED = "domain disabled"

_EXISTS_SQL = (
    "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
)


@dataclass(frozen=True)
class Target:
    """The warehouse the suites run on: a DuckDB file, a SQLAlchemy URL (Postgres), or the
    Spark catalogue of the dbt profile's spark target (kpi_tooling.core.spark)."""

    duckdb_path: Path | None = None
    url: str | None = None
    # DuckDB's memory_limit for the validation's connections (e.g. "6GB"); None: DuckDB's
    # default, 80% of RAM, which at 100M raw rows let the suites' queries reach 9 GiB RSS.
    duckdb_memory_limit: str | None = None
    spark: SparkProfile | None = None
    # spark.master for the Spark session (None: the profile's, else PySpark's local[*])
    spark_master: str | None = None

    @classmethod
    def of_spark(cls, profile: SparkProfile, master: str | None = None) -> Target:
        return cls(spark=profile, spark_master=master)

    @property
    def dialect(self) -> str:
        """The SQL dialect of the generated suites: duckdb, postgres or spark."""
        if self.spark is not None:
            return "spark"
        return "duckdb" if self.is_duckdb else "postgres"

    def spark_session(self) -> SparkSession:
        """The Spark session on the profile's catalogue (SetupError without a Spark target)."""
        if self.spark is None:
            raise SetupError(f"{self} is not a Spark target")
        try:
            return self.spark.session(self.spark_master)
        except SetupError:
            raise
        except Exception as exc:  # py4j / JVM start-up errors
            raise SetupError(f"cannot start a Spark session on {self.spark}: {exc}") from exc

    @classmethod
    def of(cls, db: Path | str, duckdb_memory_limit: str | None = None) -> Target:
        """A URL when ``db`` holds ``://`` (``postgresql+psycopg2://...``), else a DuckDB file
        (opened with ``duckdb_memory_limit``, if given; SetupError for a URL)."""
        if isinstance(db, str) and "://" in db:
            target = cls(url=db)
            if duckdb_memory_limit is not None:
                # str(target) hides the URL's password
                raise SetupError(f"a memory limit applies to a DuckDB file, not to {target}")
            return target
        return cls(duckdb_path=Path(db), duckdb_memory_limit=duckdb_memory_limit)

    def duckdb_config(self) -> dict[str, str]:
        """The DuckDB settings every connection to the file is opened with."""
        if self.duckdb_memory_limit is None:
            return {}
        return {"memory_limit": self.duckdb_memory_limit}

    @property
    def is_duckdb(self) -> bool:
        return self.duckdb_path is not None

    def __str__(self) -> str:
        if self.duckdb_path is not None:
            return str(self.duckdb_path)
        if self.spark is not None:
            return str(self.spark)
        from sqlalchemy.engine import make_url

        return make_url(self.url or "").render_as_string(hide_password=True)


@dataclass(frozen=True)
class Relation:
    """Where dbt built a model. Queries omit the database: the --db file (or the URL's
    database, or Spark's session catalogue) is the catalog."""

    database: str
    schema: str
    alias: str

    @property
    def sql(self) -> str:
        return f'"{self.schema}"."{self.alias}"'

    def quoted(self, dialect: str) -> str:
        """``sql`` in a dialect's identifier quotes (backticks on Spark)."""
        if dialect == "spark":
            return f"`{self.schema}`.`{self.alias}`"
        return self.sql

    def __str__(self) -> str:
        # dbt-spark leaves the database empty: the schema names the relation there
        return ".".join(part for part in (self.database, self.schema, self.alias) if part)


@dataclass(frozen=True)
class PlannedSuite:
    spec: SuiteSpec
    relation: Relation
    row_count: int


@dataclass(frozen=True)
class Plan:
    """The suites to run on existing tables, and those skipped because dbt does not build
    their model in this project."""

    suites: list[PlannedSuite]
    skipped: list[SkippedSuite]


@dataclass(frozen=True)
class ManifestModels:
    """The models a dbt manifest knows: those it builds, with their relation, and the disabled
    ones (a domain switched off by its ``output_kpis_enable_<domain>`` var)."""

    project: str
    built: dict[str, Relation]
    disabled: set[str]
    packages: dict[str, str]  # model name -> package that defines it, built or disabled


def _model_nodes(manifest: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    nodes = [n for n in manifest["nodes"].values() if n.get("resource_type") == "model"]
    # `disabled` maps a unique_id to the list of its disabled definitions
    off = [n for ns in manifest.get("disabled", {}).values() for n in ns]
    return nodes, [n for n in off if n.get("resource_type") == "model"]


def load_manifest_models(manifest_path: Path) -> ManifestModels:
    """The manifest's models; one built in any package wins over a disabled namesake."""
    if not manifest_path.is_file():
        raise SetupError(f"dbt manifest not found: {manifest_path} (run `dbt build` first)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        nodes, disabled = _model_nodes(manifest)
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise SetupError(f"cannot read dbt manifest {manifest_path}: {exc}") from exc
    built = {
        node["name"]: Relation(
            node.get("database") or "", node["schema"], node.get("alias") or node["name"]
        )
        for node in nodes
    }
    return ManifestModels(
        project=manifest.get("metadata", {}).get("project_name") or "",
        built=built,
        disabled={node["name"] for node in disabled} - set(built),
        packages={node["name"]: node.get("package_name") or "" for node in disabled + nodes},
    )


def _packages_install_path(project_dir: Path) -> Path:
    """Where ``dbt deps`` installs packages: the project's ``packages-install-path``."""
    project_file = project_dir / "dbt_project.yml"
    config: dict[str, Any] = {}
    if project_file.is_file():
        try:
            config = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SetupError(f"cannot read {project_file}: {exc}") from exc
    return project_dir / str(config.get("packages-install-path", "dbt_packages"))


def _suite_models(folder: Path) -> set[str]:
    models = set()
    for path in folder.glob("*.json"):
        try:
            models.add(load_suite(path).model)
        except SuiteFileError:
            continue  # not a suite of ours; the chosen folder's files are checked when loaded
    return models


def default_suites_dir(manifest_path: Path, project_dir: Path | None = None) -> Path:
    """The suites when ``--suites`` is not given: ``./expectations`` in the package itself;
    in a consumer project, the ``expectations/`` folder of the installed package whose suites
    name its own models (``dbt_packages/output_kpis/expectations``)."""
    project_dir = project_dir or Path()
    local = project_dir / DEFAULT_SUITES_DIR
    if local.is_dir():
        return local
    models = load_manifest_models(manifest_path)
    install = _packages_install_path(project_dir)
    for package in sorted(set(models.packages.values()) - {models.project}):
        folder = install / package / DEFAULT_SUITES_DIR
        if folder.is_dir() and any(
            models.packages.get(model) == package for model in _suite_models(folder)
        ):
            return folder
    raise SetupError(
        f"no suites folder: neither {local} nor an installed package of {manifest_path} under "
        f"{install} ships {DEFAULT_SUITES_DIR}/ suites for its models (run `dbt deps`, or pass "
        "--suites)"
    )


def _load_specs(
    suites_dir: Path, suite_names: list[str] | None, generated: list[SuiteSpec]
) -> list[SuiteSpec]:
    """The suite files (all, or the named ones) plus the generated suites (all, or the named
    ones); a name may be either."""
    generated_names = {spec.name for spec in generated}
    file_names = [name for name in suite_names or [] if name not in generated_names]
    try:
        if suite_names and not file_names:
            specs = []
        else:
            specs = [load_suite(path) for path in suite_paths(suites_dir, file_names or None)]
    except SuiteFileError as exc:
        raise SetupError(str(exc)) from exc
    if not specs and not suite_names:
        raise SetupError(f"no suite files in {suites_dir}")
    wanted = set(suite_names or generated_names)
    return specs + [spec for spec in generated if spec.name in wanted]


def generated_specs(manifest_path: Path, models: ManifestModels, dialect: str) -> list[SuiteSpec]:
    """One suite per unit declared in YAML (kpi_tooling.ge.declared), read from the manifest;
    none when nothing is declared or the project does not build int_units__declared_units."""
    if UNITS_MODEL not in models.built:
        return []
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return declared_suites(manifest, dialect, manifest_path)
    except (OSError, ValueError, KeyError, TypeError, DeclarationError) as exc:
        raise SetupError(f"cannot generate the declared units' suites: {exc}") from exc


def unit_definitions(manifest_path: Path, suites_dir: Path) -> dict[str, str]:
    """kpi_id -> unit-of-output text: the rows of the registry seed of the package the suites
    ship with, its own declared KPIs (its dbt_project.yml), then the manifest's declarations."""
    root = package_root(suites_dir)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        texts = registry_definitions(root / REGISTRY_PATH)
        texts.update(builtin_definitions(root / "dbt_project.yml"))
    except (OSError, ValueError, SuiteFileError) as exc:
        raise SetupError(f"cannot read the unit definitions: {exc}") from exc
    return {**texts, **declared_definitions(declarations(manifest))}


def _resolve_definitions(
    specs: list[SuiteSpec], manifest_path: Path, suites_dir: Path
) -> list[SuiteSpec]:
    if not any(spec.unit_of_output_from for spec in specs):
        return specs
    definitions = unit_definitions(manifest_path, suites_dir)
    try:
        return [resolve_definition(spec, definitions) for spec in specs]
    except SuiteFileError as exc:
        raise SetupError(str(exc)) from exc


def _count_sql(relation: Relation, row_filter: str | None, dialect: str = "duckdb") -> str:
    where = f" where {row_filter}" if row_filter else ""
    return f"select count(*) from {relation.quoted(dialect)}{where}"


def _row_counts(
    target: Target, relations: list[Relation], filters: list[str | None]
) -> list[int | None]:
    """Row count per relation (of the rows its suite reads), None when the relation is not in
    the database."""
    if target.spark is not None:
        return _spark_row_counts(target, relations, filters)
    if target.duckdb_path is None:
        return _server_row_counts(target, relations, filters)
    db_path = target.duckdb_path
    if not db_path.is_file():
        raise SetupError(f"database not found: {db_path} (run `make build` first)")
    try:
        # Read-only and closed again before GE opens the file with its own settings.
        with duckdb.connect(str(db_path), read_only=True, config=target.duckdb_config()) as conn:
            return [_count(conn, rel, f) for rel, f in zip(relations, filters, strict=True)]
    except duckdb.Error as exc:
        raise SetupError(f"cannot read database {db_path}: {exc}") from exc


def _server_row_counts(
    target: Target, relations: list[Relation], filters: list[str | None]
) -> list[int | None]:
    import sqlalchemy as sa

    engine = sa.create_engine(target.url or "")
    exists = sa.text(_EXISTS_SQL.replace("?", ":schema", 1).replace("?", ":name", 1))
    counts: list[int | None] = []
    try:
        with engine.connect() as conn:
            for relation, row_filter in zip(relations, filters, strict=True):
                found = conn.execute(exists, {"schema": relation.schema, "name": relation.alias})
                if not found.scalar():
                    counts.append(None)
                    continue
                total = conn.execute(sa.text(_count_sql(relation, row_filter))).scalar()
                counts.append(int(total or 0))
    except sa.exc.SQLAlchemyError as exc:
        raise SetupError(f"cannot read database {target}: {exc}") from exc
    finally:
        engine.dispose()
    return counts


def _spark_row_counts(
    target: Target, relations: list[Relation], filters: list[str | None]
) -> list[int | None]:
    """Counted by Spark on the profile's catalogue; None for a table the catalogue lacks."""
    session = target.spark_session()
    counts: list[int | None] = []
    for relation, row_filter in zip(relations, filters, strict=True):
        if not session.catalog.tableExists(f"{relation.schema}.{relation.alias}"):
            counts.append(None)
            continue
        rows = session.sql(_count_sql(relation, row_filter, "spark")).collect()
        counts.append(int(rows[0][0]))
    return counts


def _count(
    conn: duckdb.DuckDBPyConnection, relation: Relation, row_filter: str | None
) -> int | None:
    found = conn.execute(_EXISTS_SQL, [relation.schema, relation.alias]).fetchone()
    if not (found and found[0]):
        return None
    row = conn.execute(_count_sql(relation, row_filter)).fetchone()
    return int(row[0]) if row else 0


def plan_suites(
    target: Target, manifest_path: Path, suites_dir: Path, suite_names: list[str] | None = None
) -> Plan:
    """Load the suites and resolve each model to a table that exists, or raise SetupError.

    A suite whose model the manifest lists as disabled is skipped; one whose model the manifest
    does not know at all (a typo, a stale suite) is an error, and so is a built model's
    missing table (dbt has not run, or ran on another database).
    """
    models = load_manifest_models(manifest_path)
    generated = generated_specs(manifest_path, models, target.dialect)
    specs = _load_specs(suites_dir, suite_names, generated)
    known = models.built.keys() | models.disabled
    unknown = [spec.model for spec in specs if spec.model not in known]
    if unknown:
        raise SetupError(
            f"model(s) not in the dbt manifest {manifest_path}, neither built nor disabled: "
            f"{', '.join(unknown)}"
        )
    skipped = [
        SkippedSuite(s.name, s.model, DOMAIN_DISABLED) for s in specs if s.model in models.disabled
    ]
    specs = [spec for spec in specs if spec.model in models.built]
    specs = _resolve_definitions(specs, manifest_path, suites_dir)
    resolved = [models.built[spec.model] for spec in specs]
    filters = [spec.row_filter for spec in specs]
    planned = zip(specs, resolved, _row_counts(target, resolved, filters), strict=True)
    plan = [PlannedSuite(spec, rel, count) for spec, rel, count in planned if count is not None]
    if len(plan) < len(specs):
        found = {item.spec.name for item in plan}
        missing = [
            f"{s.model} ({r})" for s, r in zip(specs, resolved, strict=True) if s.name not in found
        ]
        raise SetupError(
            f"model table(s) not in {target}: {', '.join(missing)} (run `dbt build` first)"
        )
    if not suite_names:
        _check_every_output_kpi_has_its_suite(target, models, {spec.name for spec in specs})
    return Plan(plan, skipped)


def _fetch(target: Target, sql: str) -> list[tuple]:
    """Rows of one query on the warehouse (DuckDB file read-only, the URL, or Spark)."""
    if target.spark is not None:
        return [tuple(row) for row in target.spark_session().sql(sql).collect()]
    if target.duckdb_path is not None:
        with duckdb.connect(
            str(target.duckdb_path), read_only=True, config=target.duckdb_config()
        ) as conn:
            return conn.execute(sql).fetchall()
    import sqlalchemy as sa

    engine = sa.create_engine(target.url or "")
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _check_every_output_kpi_has_its_suite(
    target: Target, models: ManifestModels, suites: set[str]
) -> None:
    """The hub names a GE suite for every output KPI (dim_kpis.ge_suite): a suite no file
    and no declaration provides is a KPI whose definition nothing enforces, so the run stops
    naming it. Needs dim_kpis (the published catalogue, enabled KPIs only)."""
    catalogue = models.built.get("dim_kpis")
    if catalogue is None:
        return
    try:
        rows = _fetch(
            target,
            f"select kpi_id, ge_suite from {catalogue.quoted(target.dialect)} "
            "where layer = 'output'",
        )
    except Exception as exc:  # any driver error: the table is not there yet
        raise SetupError(f"cannot read {catalogue} (run `dbt build` first): {exc}") from exc
    unenforced = sorted(
        f"{kpi} (suite {suite or 'none'})" for kpi, suite in rows if suite not in suites
    )
    if unenforced:
        raise SetupError(
            "output KPI(s) whose GE suite does not exist (no file in the suites folder, no "
            f"declaration): {', '.join(unenforced)}"
        )
