"""Shared fixtures: a real dbt build of the demo data on DuckDB, and one on PostgreSQL.

`make test` builds the warehouse first and exports OUTPUT_KPIS_TEST_WAREHOUSE and
OUTPUT_KPIS_TEST_MANIFEST so the suite reads that build; run alone, pytest builds its own copy
into a temporary directory (about a minute). The Postgres build (seeds, dbt build, GE; about two
minutes) goes into its own database, OUTPUT_KPIS_PG_TEST_DATABASE (default output_kpis_test) on
the server of the OUTPUT_KPIS_PG_* settings; every schema in it is dropped first.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from kpi_tooling.config import DEMO_AS_OF
from kpi_tooling.core.pg import PgSettings, ensure_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_VARS = '{"as_of": "' + DEMO_AS_OF + '"}'
# What `make build` builds after the seeds: selecting by type keeps the tests that read a seed
# (excluding resource_type:seed would drop them too).
BUILD_SELECT = ["--select", "resource_type:model", "resource_type:test", "resource_type:unit_test"]


STARTER = ROOT / "starter"


def install_consumer_project(source: Path, directory: Path) -> Path:
    """A private copy of a consumer project that installs this repository by local path, with
    its dbt packages installed (dbt deps writes dbt_packages/ next to the project; a local
    package needs no network)."""
    project = directory / source.name
    shutil.copytree(
        source, project, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs")
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    dbt_deps(project, STARTER)
    return project


def consumer_dbt_args(project: Path, db_path: Path, dbt_vars: str = "{}") -> dict:
    """run_dbt's keyword arguments for a consumer project installed by
    install_consumer_project: its own target folder, the starter's profile."""
    return {
        "db_path": db_path,
        "target_path": project / "target",
        "profiles_dir": STARTER,
        "project_dir": project,
        "dbt_vars": dbt_vars,
    }


def dbt_deps(project: Path, profiles_dir: Path) -> None:
    """`dbt deps` of a consumer project (it takes no --target-path nor --vars)."""
    deps = subprocess.run(
        [str(BIN / "dbt"), "deps", "--project-dir", str(project)],
        env={**os.environ, "DBT_PROFILES_DIR": str(profiles_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert deps.returncode == 0, deps.stdout[-3000:] + deps.stderr[-3000:]


@dataclass(frozen=True)
class Warehouse:
    db_path: Path
    manifest_path: Path


def write_profiles(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "profiles.example.yml", directory / "profiles.yml")
    return directory


class ParseReuse:
    """Lets the suite's dbt runs partially parse, as a developer's repeated runs do.

    A full `dbt parse` of this project takes about 20 s; the suite runs dbt about a hundred
    times. dbt reuses its previous parse (target/partial_parse.msgpack) only when the command
    line vars, the target and the profile's connection keys are unchanged; for DuckDB those
    include the file's `path`, and each test builds its own file. So every run here opens its
    file through one fixed path, a directory symlink pointed at the file's folder before the
    run (runs are sequential; DuckDB's .wal lands beside the real file), and a run whose target
    folder holds no parse yet starts from a copy of the last parse with the same project,
    vars, target, file name and environment. dbt itself still checks every file's checksum and
    the state, and parses in full whenever anything it tracks differs.
    """

    def __init__(self) -> None:
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="output_kpis_dbt_"))
            atexit.register(shutil.rmtree, self._root, True)
        return self._root

    def fixed_path(self, db_path: Path) -> Path:
        """The fixed path through which this run opens `db_path`."""
        link = self.root / "warehouse"
        db_path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.root / "warehouse.next"
        staged.unlink(missing_ok=True)
        staged.symlink_to(db_path.parent.resolve(), target_is_directory=True)
        os.replace(staged, link)
        return link / db_path.name

    def _cached(self, key: tuple) -> Path:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        return self.root / "parses" / f"{digest}.msgpack"

    def before(self, key: tuple, target_path: Path) -> None:
        cached = self._cached(key)
        parse = target_path / "partial_parse.msgpack"
        if cached.exists() and not parse.exists():
            target_path.mkdir(parents=True, exist_ok=True)
            shutil.copy(cached, parse)

    def after(self, key: tuple, target_path: Path) -> None:
        parse = target_path / "partial_parse.msgpack"
        if parse.exists():
            cached = self._cached(key)
            cached.parent.mkdir(exist_ok=True)
            shutil.copy(parse, cached)


PARSE_REUSE = ParseReuse()


def run_dbt(
    args: list[str],
    *,
    db_path: Path,
    target_path: Path,
    profiles_dir: Path,
    project_dir: Path = ROOT,
    dbt_vars: str = DEMO_VARS,
    check: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the venv's dbt against a given DuckDB file; output captured for assertions. The
    run may start from an earlier run's parse (ParseReuse)."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "OUTPUT_KPIS_DUCKDB_PATH": str(PARSE_REUSE.fixed_path(db_path)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(extra_env or {}),
    }
    target = args[args.index("--target") + 1] if "--target" in args else ""
    key = (
        str(project_dir.resolve()),
        str(profiles_dir.resolve()),
        dbt_vars,
        target,
        db_path.name,
        tuple(sorted((extra_env or {}).items())),
    )
    PARSE_REUSE.before(key, target_path)
    cmd = [
        str(BIN / "dbt"),
        *args,
        "--project-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--vars",
        dbt_vars,
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    PARSE_REUSE.after(key, target_path)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-6000:]}")
    return result


@pytest.fixture(scope="session")
def profiles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profiles(tmp_path_factory.mktemp("profiles"))


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path) -> Warehouse:
    db = os.environ.get("OUTPUT_KPIS_TEST_WAREHOUSE")
    manifest = os.environ.get("OUTPUT_KPIS_TEST_MANIFEST")
    if db and manifest and Path(db).exists() and Path(manifest).exists():
        return Warehouse(Path(db), Path(manifest))
    build_dir = tmp_path_factory.mktemp("build")
    db_path = build_dir / "output_kpis.duckdb"
    target = build_dir / "target"
    common = {"db_path": db_path, "target_path": target, "profiles_dir": profiles_dir}
    run_dbt(["seed", "--full-refresh"], **common)
    run_dbt(["build", *BUILD_SELECT], **common)
    return Warehouse(db_path, target / "manifest.json")


@pytest.fixture(scope="session")
def parsed_manifest(tmp_path_factory: pytest.TempPathFactory, profiles_dir: Path) -> Path:
    """The manifest of the current sources (declared KPIs included): the build's under `make
    test` (OUTPUT_KPIS_TEST_MANIFEST), else a `dbt parse` into a temporary target (seconds;
    never the repository's target/, which may be older than the sources)."""
    manifest = os.environ.get("OUTPUT_KPIS_TEST_MANIFEST")
    if manifest and Path(manifest).exists():
        return Path(manifest)
    directory = tmp_path_factory.mktemp("parse")
    target = directory / "target"
    run_dbt(
        ["parse"],
        db_path=directory / "unused.duckdb",
        target_path=target,
        profiles_dir=profiles_dir,
    )
    return target / "manifest.json"


def copy_warehouse(warehouse: Warehouse, directory: Path) -> Path:
    """A copy of the built warehouse under its own file name: DuckDB names the catalog after
    the file, and the serving views name that catalog."""
    copy = directory / warehouse.db_path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(warehouse.db_path, copy)
    return copy


@pytest.fixture
def warehouse_copy(warehouse: Warehouse, tmp_path: Path) -> Path:
    """A private copy of the built warehouse that a test may corrupt."""
    return copy_warehouse(warehouse, tmp_path / "copy")


@pytest.fixture(scope="module")
def module_warehouse_copy(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the built warehouse shared by a module's tests (read, not corrupted)."""
    return copy_warehouse(warehouse, tmp_path_factory.mktemp("warehouse_copy"))


PG_TEST_DATABASE = os.environ.get("OUTPUT_KPIS_PG_TEST_DATABASE", "output_kpis_test")


@pytest.fixture(scope="session")
def postgres() -> PgSettings:
    """Settings of the Postgres test database. The one place that decides, for every Postgres
    test, to skip when the server is unreachable, or to fail when CI=true."""
    settings = dataclasses.replace(PgSettings.from_env(), database=PG_TEST_DATABASE)
    try:
        settings.connect(database="postgres").close()
    except psycopg2.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(
                f"PostgreSQL not reachable at {settings.address} and CI=true: the Postgres "
                f"tests must run ({detail})"
            )
        pytest.skip(
            f"PostgreSQL not reachable at {settings.address} — skipping; set CI=true to make "
            f"this an error ({detail})"
        )
    return settings


@dataclass(frozen=True)
class PgBuild:
    """The demo built on Postgres (into the build_* schemas) with its dbt and GE artifacts."""

    settings: PgSettings
    manifest: Path
    run_results: Path
    ge_results: Path
    seconds: dict[str, float]

    @property
    def env(self) -> dict[str, str]:
        return pg_env(self.settings)


def pg_env(settings: PgSettings) -> dict[str, str]:
    """What dbt's postgres target reads (profiles.example.yml)."""
    return {
        "OUTPUT_KPIS_PG_HOST": settings.host,
        "OUTPUT_KPIS_PG_PORT": str(settings.port),
        "OUTPUT_KPIS_PG_USER": settings.user,
        "OUTPUT_KPIS_PG_PASSWORD": settings.password,
        "OUTPUT_KPIS_PG_DATABASE": settings.database,
    }


def pg_dbt_args(settings: PgSettings, target: Path, profiles_dir: Path) -> dict:
    """run_dbt's keyword arguments (add --target postgres) for a build into the Postgres
    database of `settings`, its artifacts in `target`."""
    return {
        "db_path": target.parent / "unused.duckdb",
        "target_path": target,
        "profiles_dir": profiles_dir,
        "extra_env": pg_env(settings),
    }


def reset_database(settings: PgSettings) -> None:
    """Create the test database when missing and drop every schema of a previous run."""
    ensure_database(settings)
    con = settings.connect()
    try:
        with con, con.cursor() as cur:
            cur.execute(
                "select nspname from pg_namespace where nspname not like 'pg\\_%' "
                "and nspname not in ('information_schema', 'public')"
            )
            for (schema,) in cur.fetchall():
                cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    finally:
        con.close()


@pytest.fixture(scope="session")
def pg_build(
    postgres: PgSettings, profiles_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> PgBuild:
    """Seeds, `dbt build` (models, data tests, unit tests) and every GE suite on Postgres."""
    from kpi_tooling.ge.validate import run_suites

    reset_database(postgres)
    target = tmp_path_factory.mktemp("pg_build") / "target"
    common = pg_dbt_args(postgres, target, profiles_dir)
    seconds = {}
    for step, args in (
        ("seed", ["seed", "--full-refresh"]),
        ("build", ["build", *BUILD_SELECT]),
    ):
        started = time.perf_counter()
        run_dbt([*args, "--target", "postgres"], **common)
        seconds[step] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    ge_results = target / "ge_results.json"
    report = run_suites(
        postgres.sqlalchemy_url(), target / "manifest.json", ROOT / "expectations", ge_results
    )
    seconds["ge"] = round(time.perf_counter() - started, 1)
    assert report.success, "\n".join(report.failure_messages())
    return PgBuild(
        postgres, target / "manifest.json", target / "run_results.json", ge_results, seconds
    )


def pg_publish_args(
    build: PgBuild,
    manifest: Path | None = None,
    run_results: Path | None = None,
    ge_results: Path | None = None,
) -> list[str]:
    """The publish_postgres command line for a build (artifacts may be swapped for copies)."""
    return [
        "--manifest",
        str(manifest or build.manifest),
        "--run-results",
        str(run_results or build.run_results),
        "--ge-results",
        str(ge_results or build.ge_results),
        "--lock-timeout",
        "20",
    ]


@pytest.fixture(scope="session")
def pg_published(pg_build: PgBuild) -> PgBuild:
    """The Postgres build, published: build_marts swapped in as marts. Tests that publish
    another build swap this one back before they end, so marts always holds it between tests."""
    from kpi_tooling.publish.postgres import EXIT_OK, main

    assert main(pg_publish_args(pg_build), settings=pg_build.settings) == EXIT_OK
    return pg_build
