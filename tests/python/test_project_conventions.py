"""The project's own rules, checked on the real manifest and warehouse: every model and every
column a user reads is documented, public marts are contracted, every KPI (registry seed and
declared) is published and catalogued, only staging reads sources, every macro is documented,
every unit test pins the definitional vars its model reads (a consumer's vars never reach it)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import ROOT, Warehouse
from definitional_vars import CONSUMER_VALUES, DEPLOYMENT_VARS
from kpi_tooling.serving import semantic_layer


@pytest.fixture(scope="module")
def manifest(warehouse: Warehouse) -> dict:
    return json.loads(warehouse.manifest_path.read_text())


@pytest.fixture(scope="module")
def models(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "output_kpis"
    ]


def registry() -> list[dict[str, str]]:
    with (ROOT / "seeds" / "reference" / "kpi_registry.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def every_kpi(warehouse: Warehouse) -> list[dict[str, str]]:
    """Every KPI of the build: the registry seed's and the declared ones (its manifest)."""
    kpis = semantic_layer.read_kpis(warehouse.manifest_path)
    assert {k["kpi_id"] for k in registry()} < {k["kpi_id"] for k in kpis}
    return kpis


def test_every_model_and_column_is_documented(models: list[dict], warehouse: Warehouse) -> None:
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    missing: list[str] = []
    try:
        for node in models:
            if not node["description"].strip():
                missing.append(f"{node['name']}: no description")
            columns = con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [node["schema"], node["alias"]],
            ).fetchall()
            assert columns, f"{node['name']} is not in the warehouse"
            documented = {
                name.lower(): col["description"].strip() for name, col in node["columns"].items()
            }
            # A column family whose names come from the declarations (dim_<name> of
            # int_units__declared_units) is documented once, as `dim_<name>`.
            families = [name[: -len("<name>")] for name in documented if name.endswith("<name>")]
            missing += [
                f"{node['name']}.{name}"
                for (name,) in columns
                if not documented.get(name.lower())
                and not any(name.lower().startswith(prefix) for prefix in families)
            ]
    finally:
        con.close()
    assert not missing, "undocumented: " + ", ".join(missing)


def test_public_marts_are_contracted(models: list[dict]) -> None:
    marts = [n for n in models if n["schema"] == "marts"]
    assert len(marts) >= 9
    uncontracted = [n["name"] for n in marts if not n["config"]["contract"]["enforced"]]
    assert not uncontracted


# Counts the raw rows of every table for the flood limit: a count, not a second read of rows.
RAW_COUNTER = "stg_quarantine__tables"


def test_only_base_models_read_sources(models: list[dict]) -> None:
    """The quarantine types and checks each raw row once, in its table's base model: no other
    model reads a source (staging reads its base model's kept rows)."""
    readers = {
        n["name"]
        for n in models
        if any(dep.startswith("source.") for dep in n["depends_on"]["nodes"])
    }
    assert readers - {RAW_COUNTER} == {n["name"] for n in models if n["name"].startswith("base_")}


def test_every_registry_kpi_is_published(
    warehouse: Warehouse, every_kpi: list[dict[str, str]]
) -> None:
    """Every KPI, seeded or declared, is in the hub (dim_kpis) and has values in its mart."""
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    try:
        hub = dict(con.execute("select kpi_id, mart from marts.dim_kpis").fetchall())
        published = {
            (kpi_id, mart)
            for mart in ("fct_kpi_values", "fct_outcome_values")
            for (kpi_id,) in con.execute(f"select distinct kpi_id from marts.{mart}").fetchall()
        }
    finally:
        con.close()
    assert set(hub) == {k["kpi_id"] for k in every_kpi}
    # a seed KPI's own mart (fct_<domain>_kpis) feeds fct_kpi_values / fct_outcome_values
    assert {kpi_id for kpi_id, _ in published} == set(hub)
    declared = {(k["kpi_id"], k["mart"]) for k in every_kpi if k["defined_in"] == "declaration"}
    assert declared <= published


def test_readme_catalogue_lists_every_kpi(every_kpi: list[dict[str, str]]) -> None:
    """The package's KPIs (seed and var output_kpis_builtin_units); the demo's declared KPIs
    are catalogued in docs/DEMO_TEAMS.md."""
    readme = (ROOT / "README.md").read_text()
    demo = (ROOT / "docs" / "DEMO_TEAMS.md").read_text()
    absent = [
        k["kpi_id"]
        for k in every_kpi
        if k["origin"] != semantic_layer.DEMO_ORIGIN and f"| `{k['kpi_id']}` |" not in readme
    ]
    absent += [
        k["kpi_id"]
        for k in every_kpi
        if k["origin"] == semantic_layer.DEMO_ORIGIN and f"`{k['kpi_id']}`" not in demo
    ]
    assert not absent


def test_every_macro_is_documented() -> None:
    documented = {
        m["name"] for m in yaml.safe_load((ROOT / "macros" / "_macros.yml").read_text())["macros"]
    }
    defined = set()
    for path in Path(ROOT / "macros").glob("*.sql"):
        for kind, name in re.findall(r"{%-?\s*(macro|test)\s+(\w+)", path.read_text()):
            if "__" not in name:  # adapter-specific implementations share the public docs
                defined.add(f"test_{name}" if kind == "test" else name)
    assert defined - documented == set()


def test_names_fit_postgres_identifiers(manifest: dict) -> None:
    """Postgres truncates nothing for dbt: a model, seed or unit test named past 63 bytes fails
    there (a unit test builds a relation named after itself), so keep every name within it."""
    nodes = [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]
    too_long = [
        node["name"]
        for node in nodes
        if node["resource_type"] in ("model", "seed", "unit_test") and len(node["name"]) > 63
    ]
    assert too_long == []


def test_readme_vars_table_lists_every_project_var() -> None:
    """Every var dbt_project.yml declares has a row (name, default, meaning) in docs/VARS.md."""
    declared = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    readme = (ROOT / "docs" / "VARS.md").read_text()
    assert [name for name in declared if f"| `{name}` |" not in readme] == []


def test_every_project_var_is_definitional_or_deployment() -> None:
    """dbt_project.yml holds every default; each var is classified once (definitional_vars.py),
    and each consumer value really differs from the default it stands in for."""
    declared = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    assert set(CONSUMER_VALUES).isdisjoint(DEPLOYMENT_VARS)
    assert set(declared) - set(CONSUMER_VALUES) - DEPLOYMENT_VARS == set(), "unclassified"
    assert set(CONSUMER_VALUES) | DEPLOYMENT_VARS <= set(declared), "no default"
    assert [n for n, value in CONSUMER_VALUES.items() if value == declared[n]] == []


# Macros that name vars without reading them (kpi_tooling/core/raw_tables.yml, generated).
NAMES_VARS_ONLY = frozenset({"raw_table_declarations"})


def vars_read(node: dict, manifest: dict) -> set[str]:
    """Definitional vars a model reads, itself or through the macros it calls (transitively,
    with every adapter's implementation of a dispatched macro): each var's name is a quoted
    literal in that code, whether read by var() or a checking helper such as number_var(); a
    name used as a mapping key (a registry such as code_vars()) is not a read, nor is a name in
    the generated raw-table declarations (which name each coded column's var; quarantine_spec
    reads it)."""
    macros = {
        unique_id: macro
        for unique_id, macro in manifest["macros"].items()
        if macro["name"] not in NAMES_VARS_ONLY
    }
    seen: set[str] = set()
    stack = list(node["depends_on"]["macros"])
    while stack:
        macro_id = stack.pop()
        if macro_id in seen or macro_id not in macros:
            continue
        seen.add(macro_id)
        macro = macros[macro_id]
        stack += macro["depends_on"]["macros"]
        stack += [
            other_id
            for other_id, other in macros.items()
            if other["package_name"] == macro["package_name"]
            and other["name"].endswith("__" + macro["name"])
        ]
    code = node["raw_code"] + "".join(macros[m]["macro_sql"] for m in seen)
    return {name for name in CONSUMER_VALUES if re.search(rf"['\"]{name}['\"](?!\s*:)", code)}


def test_unit_tests_pin_the_definitional_vars_their_model_reads(manifest: dict) -> None:
    """A consumer's vars (project vars or --vars) would otherwise change the definition a unit
    test's expected rows assume: `overrides: vars:` beats both (tests/python/test_consumer_vars.py
    builds with every one changed)."""
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "output_kpis"
    }
    unit_tests = [u for u in manifest["unit_tests"].values() if u["package_name"] == "output_kpis"]
    assert len(unit_tests) >= 30
    unpinned = {
        f"{u['name']} ({u['model']})": sorted(
            vars_read(models[u["model"]], manifest) - set((u["overrides"] or {}).get("vars") or {})
        )
        for u in unit_tests
    }
    assert {name: missing for name, missing in unpinned.items() if missing} == {}


class _AnchorKeepingLoader(yaml.SafeLoader):
    """PyYAML (which dbt uses) forgets anchors once a document is composed; keep them."""

    def compose_document(self) -> yaml.Node:
        self.get_event()
        node = self.compose_node(None, None)  # type: ignore[arg-type]
        self.get_event()
        self.kept_anchors, self.anchors = self.anchors, {}
        return node


def test_unit_test_definition_anchors_restate_the_project_defaults() -> None:
    """Each unit-test yml restates the package's definition once, as the anchor `&definition`
    its tests merge (`<<: *definition`); a test varying a var writes it beside the merge. The
    restatement must equal dbt_project.yml, so a changed default cannot leave it stale."""
    declared = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    stale: dict[str, dict] = {}
    anchored = 0
    for path in sorted((ROOT / "models").rglob("*.yml")):
        loader = _AnchorKeepingLoader(path.read_text())
        try:
            loader.get_single_node()
            node = loader.kept_anchors.get("definition")
            if node is None:
                continue
            definition = loader.construct_object(node, deep=True)
        finally:
            loader.dispose()
        anchored += 1
        wrong = {k: v for k, v in definition.items() if k not in declared or declared[k] != v}
        if wrong:
            stale[str(path.relative_to(ROOT))] = wrong
    assert anchored >= 5
    assert stale == {}
