"""Each unit's definition text is written once (shared/STYLE.md): in the registry seed for a
unit whose logic is SQL, in its declaration for a declared one. The GE suite files name the
KPI whose entry defines their unit (meta ``unit_of_output_from``) and carry no copy of the
text; the runner reads it at run time; the unit models' yml descriptions show the generated
docs block (models/_definitions.md, ``python -m kpi_tooling.serving.semantic_layer``); the docs
catalogue reads the same rows. These tests fail when a copy appears, differs or goes stale.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from kpi_tooling.errors import SetupError, SuiteFileError
from kpi_tooling.ge.plan import _resolve_definitions, unit_definitions
from kpi_tooling.ge.suites import (
    builtin_definitions,
    load_suite,
    registry_definitions,
    resolve_definition,
)
from kpi_tooling.serving import semantic_layer

SUITES = ROOT / "expectations"
REGISTRY = ROOT / "seeds" / "reference" / "kpi_registry.csv"
DEFINITIONS = ROOT / "models" / "_definitions.md"
CATALOGUE = ROOT / "models" / "serving" / "_kpi_catalogue.md"
# what a suite file's meta may hold: references, never text of its own
SUITE_META = {"model", "key_column", "kpis", "unit_of_output_from"}
BLOCK = re.compile(r"\{% docs (\w+) %\}\n(.*?)\n\{% enddocs %\}", re.DOTALL)
UNIT_TEXT = re.compile(r"^\*\*Unit of output:\*\* (.*?)(?: \*Excluded:\*.*)?$", re.MULTILINE)


def suite_copies(folder: Path) -> list[str]:
    """Suite files whose meta holds more than the references: their own definition text."""
    found = []
    for path in sorted(folder.glob("*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))["meta"]
        extra = sorted(set(meta) - SUITE_META)
        if extra or meta.get("unit_of_output_from") not in meta.get("kpis", []):
            found.append(f"{path.name}: meta {extra or 'unit_of_output_from'}")
    return found


def docs_blocks(path: Path) -> dict[str, str]:
    """name -> the unit-of-output text of each docs block of the generated file."""
    blocks = {}
    for name, body in BLOCK.findall(path.read_text(encoding="utf-8")):
        match = UNIT_TEXT.search(body)
        blocks[name] = match.group(1) if match else ""
    return blocks


def source_texts() -> dict[str, str]:
    """kpi_id -> unit_of_output where it is written: the registry seed, the declarations."""
    return {
        **registry_definitions(REGISTRY),
        **builtin_definitions(ROOT / "dbt_project.yml"),
    }


def texts_per_unit(
    manifest: Path, suites: Path, definitions: Path, catalogue: Path
) -> dict[str, set[str]]:
    """Every text given for each suite's unit: where it is defined, what the GE run reads,
    its docs block, and its KPI's row of the docs catalogue (whitespace-normalised)."""
    defined = source_texts()
    at_run_time = unit_definitions(manifest, suites)
    blocks = docs_blocks(definitions)
    rows = catalogue.read_text(encoding="utf-8").splitlines()
    found: dict[str, set[str]] = {}
    for path in sorted(suites.glob("*.json")):
        spec = load_suite(path)
        kpi = spec.unit_of_output_from or ""
        texts = {
            defined.get(kpi, "<not defined>"),
            resolve_definition(spec, at_run_time).unit_of_output,
            blocks.get(semantic_layer.definition_doc_name(spec.model), "<no docs block>"),
        }
        row = next((r for r in rows if r.startswith(f"| `{kpi}` ")), "")
        if semantic_layer.cell(defined.get(kpi, "")) not in row:
            texts.add("<catalogue row differs>")
        found[spec.name] = {semantic_layer.cell(text) for text in texts}
    return found


def test_suite_files_name_their_definition_and_carry_no_copy_of_it() -> None:
    assert suite_copies(SUITES) == []
    assert len(list(SUITES.glob("*.json"))) == 5


def test_a_suite_file_with_its_own_definition_text_is_caught(tmp_path: Path) -> None:
    folder = tmp_path / "expectations"
    shutil.copytree(SUITES, folder)
    path = folder / "int_manufacturing__first_pass_inspections.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["meta"]["unit_of_output"] = "A unit that entered an inspection step, in other words."
    path.write_text(json.dumps(suite), encoding="utf-8")
    assert suite_copies(folder) == [
        "int_manufacturing__first_pass_inspections.json: meta ['unit_of_output']"
    ]
    with pytest.raises(SuiteFileError, match="exactly one of meta keys"):
        load_suite(path)


def test_the_registry_and_the_ge_suite_give_one_text(parsed_manifest: Path) -> None:
    """The original complaint: the first-pass unit had one text in the registry and another
    in its suite. The suite now reads the registry's at run time."""
    with REGISTRY.open(newline="", encoding="utf-8") as handle:
        registry = {row["kpi_id"]: row["unit_of_output"] for row in csv.DictReader(handle)}
    definitions = unit_definitions(parsed_manifest, SUITES)
    spec = load_suite(SUITES / "int_manufacturing__first_pass_inspections.json")
    assert spec.unit_of_output == "" and spec.unit_of_output_from == "first_pass_yield"
    resolved = resolve_definition(spec, definitions)
    assert resolved.unit_of_output == registry["first_pass_yield"]
    assert resolved.unit_of_output.startswith("A unit entering an inspection step; first-pass")


def test_each_unit_has_one_text_across_registry_suite_and_docs(parsed_manifest: Path) -> None:
    texts = texts_per_unit(parsed_manifest, SUITES, DEFINITIONS, CATALOGUE)
    assert len(texts) == 5
    assert {name: len(found) for name, found in texts.items()} == dict.fromkeys(texts, 1), texts


def test_a_docs_block_that_differs_from_the_registry_is_caught(
    parsed_manifest: Path, tmp_path: Path
) -> None:
    edited = tmp_path / "_definitions.md"
    edited.write_text(
        DEFINITIONS.read_text(encoding="utf-8").replace(
            "first-pass when its first inspection passed", "first-pass when it passed"
        ),
        encoding="utf-8",
    )
    texts = texts_per_unit(parsed_manifest, SUITES, edited, CATALOGUE)
    assert len(texts["int_manufacturing__first_pass_inspections"]) == 2
    assert len(texts["int_fulfilment__order_lines"]) == 1


def test_the_generated_definitions_are_current(parsed_manifest: Path) -> None:
    rows = semantic_layer.read_kpis(parsed_manifest)
    rendered = semantic_layer.render_definitions(rows, semantic_layer.read_suites())
    assert DEFINITIONS.read_text(encoding="utf-8") == rendered, "run `make semantic`"


def test_a_changed_registry_text_leaves_the_definitions_stale(
    parsed_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "kpi_registry.csv"
    registry.write_text(
        REGISTRY.read_text(encoding="utf-8").replace("A unit entering", "A serial entering"),
        encoding="utf-8",
    )
    args = ["--check", "--manifest", str(parsed_manifest), "--registry", str(registry)]
    assert semantic_layer.main(args) == 1
    assert f"{DEFINITIONS} is stale" in capsys.readouterr().err


def _unit_model_descriptions() -> dict[str, str]:
    """The hand-written description of every model in models/**/*.yml, by name."""
    found = {}
    for path in (ROOT / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            found[model["name"]] = model.get("description", "")
    return found


def test_unit_models_show_the_definition_through_its_docs_block(parsed_manifest: Path) -> None:
    written = _unit_model_descriptions()
    nodes = json.loads(parsed_manifest.read_text(encoding="utf-8"))["nodes"]
    rendered = {node["name"]: node["description"] for node in nodes.values()}
    defined = source_texts()
    for path in sorted(SUITES.glob("*.json")):
        spec = load_suite(path)
        doc = semantic_layer.definition_doc_name(spec.model)
        assert f"{{{{ doc('{doc}') }}}}" in written[spec.model], spec.model
        text = defined[spec.unit_of_output_from or ""]
        assert text in rendered[spec.model], spec.model


def test_no_yml_or_suite_file_holds_a_hand_copy_of_a_definition() -> None:
    """A definition text appears verbatim only where it is written and where it is generated."""
    texts = {text for text in source_texts().values() if len(text) > 40}
    generated = {DEFINITIONS, CATALOGUE}
    files = [*(ROOT / "models").rglob("*.yml"), *(ROOT / "models").rglob("*.md")]
    files += list(SUITES.glob("*.json"))
    copies = [
        f"{path.relative_to(ROOT)}: {text[:50]}"
        for path in files
        if path not in generated
        for text in texts
        if text in " ".join(path.read_text(encoding="utf-8").split())
    ]
    assert copies == []


def test_a_suite_naming_a_kpi_nothing_defines_stops_the_run(
    parsed_manifest: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "expectations"
    shutil.copytree(SUITES, folder)
    path = folder / "int_fulfilment__order_lines.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["meta"]["kpis"].append("on_time_rate_typo")
    suite["meta"]["unit_of_output_from"] = "on_time_rate_typo"
    path.write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(SetupError, match="'on_time_rate_typo', a KPI neither the registry"):
        _resolve_definitions([load_suite(path)], parsed_manifest, folder)
    suite["meta"]["unit_of_output_from"] = "first_pass_yield"  # not one of the suite's KPIs
    path.write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(SuiteFileError, match="is not one of its kpis"):
        load_suite(path)
