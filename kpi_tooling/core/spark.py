"""A Spark session configured from the dbt profile's spark target: one place for its settings.

dbt-spark's ``session`` method builds its session from the target's ``server_side_parameters``
(warehouse directory, Derby metastore, time zone, driver memory...). GE validation and
publishing read the tables dbt wrote, so they must open the same catalogue with the same
settings: ``SparkProfile.load`` reads ``profiles.yml`` (``DBT_PROFILES_DIR``, else the current
directory, else ``~/.dbt``) and renders its Jinja the way dbt does (``env_var(name, default)``,
the ``as_number`` / ``as_bool`` / ``as_text`` / ``as_native`` filters), and ``session()``
returns a Hive-enabled SparkSession built from those parameters, as dbt-spark does.

The parameters may name ``spark.master``; ``session(master=...)`` overrides it (a standalone
cluster, ``spark://host:7077``: then the warehouse directory must be a path every executor
sees). Without either, PySpark's default applies (``local[*]``), as for dbt.

An embedded Derby metastore admits one process at a time: open the session after dbt has
exited. A session already running in this process is reused (Spark keeps one per JVM); one
on another warehouse directory is an error, never silently used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kpi_tooling.config import project
from kpi_tooling.errors import SetupError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_TARGET = "spark"
WAREHOUSE_KEY = "spark.sql.warehouse.dir"
APP_NAME = "output_kpis_tooling"


def profiles_file(env: Mapping[str, str] | None = None) -> Path:
    """Where dbt looks for ``profiles.yml``: DBT_PROFILES_DIR, the current directory, ~/.dbt."""
    env = os.environ if env is None else env
    if env.get("DBT_PROFILES_DIR"):
        return Path(env["DBT_PROFILES_DIR"]).expanduser() / "profiles.yml"
    local = Path("profiles.yml")
    return local if local.is_file() else Path.home() / ".dbt" / "profiles.yml"


def _as_number(value: Any) -> int | float:
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def _as_bool(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def render(value: Any, env: Mapping[str, str]) -> Any:
    """Render every string of a profile value with dbt's profile Jinja context: ``env_var``
    (a missing variable without a default is an error, as in dbt) and its cast filters."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise SetupError(f"env var required but not provided: {name!r} (profiles.yml)")

    jinja = SandboxedEnvironment(undefined=StrictUndefined)
    jinja.globals["env_var"] = env_var
    jinja.filters.update(
        as_number=_as_number, as_bool=_as_bool, as_text=str, as_native=lambda item: item
    )

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        if isinstance(item, str) and ("{{" in item or "{%" in item):
            return jinja.from_string(item).render()
        return item

    return walk(value)


def _local_path(uri: str) -> Path:
    """A warehouse directory as a local path (Spark reports it as a ``file:`` URI)."""
    text = uri.removeprefix("file://").removeprefix("file:")
    return Path(text).expanduser().resolve()


@dataclass(frozen=True)
class SparkProfile:
    """The rendered spark target of the dbt profile: its ``server_side_parameters``."""

    parameters: dict[str, str]
    source: Path
    target: str = DEFAULT_TARGET

    @classmethod
    def load(
        cls,
        target: str = DEFAULT_TARGET,
        profiles_path: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SparkProfile:
        """The target ``target`` of this project's profile; SetupError when it is missing or
        not a dbt-spark ``session`` target."""
        env = dict(os.environ if env is None else env)
        path = profiles_path or profiles_file(env)
        profile_name = str(project().get("profile") or "")
        try:
            profiles = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SetupError(f"cannot read dbt profiles {path}: {exc}") from exc
        outputs = (profiles.get(profile_name) or {}).get("outputs") or {}
        if target not in outputs:
            raise SetupError(f"{path}: profile {profile_name!r} has no target {target!r}")
        output = render(outputs[target], env)
        if output.get("type") != "spark" or output.get("method") != "session":
            raise SetupError(
                f"{path}: target {target!r} is not a dbt-spark session target "
                f"(type {output.get('type')!r}, method {output.get('method')!r})"
            )
        parameters = output.get("server_side_parameters") or {}
        if WAREHOUSE_KEY not in parameters:
            raise SetupError(f"{path}: target {target!r} sets no {WAREHOUSE_KEY}")
        return cls({str(k): str(v) for k, v in parameters.items()}, path, target)

    @property
    def warehouse_dir(self) -> Path:
        return _local_path(self.parameters[WAREHOUSE_KEY])

    def __str__(self) -> str:
        return f"Spark warehouse {self.warehouse_dir} (dbt target {self.target})"

    def session(self, master: str | None = None, app_name: str = APP_NAME) -> SparkSession:
        """A SparkSession with the profile's parameters and Hive support, as dbt-spark builds
        its own; ``master`` overrides the parameters' ``spark.master``."""
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName(app_name).enableHiveSupport()
        for key, value in self.parameters.items():
            builder = builder.config(key, value)
        if master:
            builder = builder.master(master)
        # the session already running in this process, as is (no builder: it would set every
        # runtime parameter again and warn that the static ones cannot change)
        session = SparkSession.getActiveSession() or builder.getOrCreate()
        running = _local_path(session.conf.get(WAREHOUSE_KEY) or "")
        if running != self.warehouse_dir:
            raise SetupError(
                f"a Spark session on warehouse {running} is already running in this process; "
                f"cannot open {self.warehouse_dir} beside it"
            )
        return session
