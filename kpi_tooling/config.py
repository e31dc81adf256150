"""The tooling's defaults that dbt also needs, read from ``dbt_project.yml`` (their one place).

``dbt_var`` returns a var's default as the project declares it; ``model_schema`` the custom
schema of a model folder (``models: output_kpis: <folder>: +schema``). The demo's pinned "now"
(``DEMO_AS_OF``) is the one Python default the Makefile repeats (``DEMO_VARS``); a test checks
they agree (tests/python/test_tooling_layout.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kpi_tooling.errors import SetupError

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILE = ROOT / "dbt_project.yml"
PROJECT_NAME = "output_kpis"
# The demo data ends on 2025-12-31; its numbers are computed at this instant (Makefile DEMO_VARS).
DEMO_AS_OF = "2026-01-01 00:00:00"


@cache
def project() -> dict[str, Any]:
    """``dbt_project.yml`` as YAML (Jinja in values is left as text)."""
    try:
        return yaml.safe_load(PROJECT_FILE.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SetupError(f"cannot read {PROJECT_FILE}: {exc}") from exc


def dbt_var(name: str) -> Any:
    """The default of dbt var ``name`` in ``dbt_project.yml``."""
    variables = project().get("vars") or {}
    if name not in variables:
        raise SetupError(f"var {name!r} is not declared in {PROJECT_FILE}")
    return variables[name]


def model_schema(folder: str) -> str:
    """The custom schema of the models under ``models/<folder>``."""
    try:
        return project()["models"][PROJECT_NAME][folder]["+schema"]
    except (KeyError, TypeError) as exc:
        raise SetupError(f"{PROJECT_FILE} sets no +schema for models/{folder}") from exc


RAW_SCHEMA: str = dbt_var("output_kpis_raw_schema")
MARTS_SCHEMA: str = model_schema("marts")
SERVING_SCHEMA: str = model_schema("serving")
READER_ROLE: str = dbt_var("serving_reader_role")
