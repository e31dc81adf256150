"""A declaration that does not hold stops the build before any model runs, naming the var, the
unit and the field (docs/adding_a_kpi.md). Shape errors fail while the project parses; the
warehouse is asked at the run's start (on-run-start hook check_unit_declarations) for what
only it knows: the relation, its columns, whether a predicate compiles, the seed's KPI ids."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from conftest import run_dbt

# A valid declaration on the demo's content table (a seed every demo warehouse holds).
BASE = {
    "content": {
        "description": "A content piece published on a public channel.",
        "relation": "ref('mkt_content_pieces')",
        "key": "content_id",
        "completed_at": "published_at",
        "counts_when": "status = 'published'",
        "quality": {"when": "revision_count = 0", "means": "approved first time"},
        "deadline": {"column": "scheduled_for"},
        "actor": "author_id",
        "kpis": {
            "pieces_shipped": {
                "measure": "count",
                "name": "Pieces shipped",
                "owner": "Editorial",
                "target": {"grain": "month", "value": 10},
            }
        },
    }
}


def _set(path: str, value: object) -> dict:
    declared = copy.deepcopy(BASE)
    node = declared["content"]
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    if value is None:
        node.pop(last)
    else:
        node[last] = value
    return declared


CASES = [
    ("unknown_column", _set("key", "content_idd"), "field 'key': column 'content_idd' is not in"),
    ("missing_key", _set("key", None), "field 'key': is missing"),
    (
        "predicate_does_not_compile",
        _set("counts_when", "status = "),
        "field 'counts_when': does not compile",
    ),
    (
        "predicate_unbalanced",
        _set("counts_when", "(status = 'published'"),
        "field 'counts_when': does not compile",
    ),
    (
        "predicate_names_unknown_column",
        _set("quality.when", "revison_count = 0"),
        "field 'quality.when': names column 'revison_count', which is not in",
    ),
    (
        "duplicate_kpi_id_declared",
        _set("kpis", {"win_rate": BASE["content"]["kpis"]["pieces_shipped"]}),
        "duplicate KPI id 'win_rate' (also declared by unit closed_qualified_deal)",
    ),
    (
        "duplicate_kpi_id_in_seed",
        _set("kpis", {"throughput_rate": BASE["content"]["kpis"]["pieces_shipped"]}),
        "duplicate KPI id 'throughput_rate': the kpi_registry seed defines it",
    ),
    (
        "delivery_kpi_without_deadline",
        {
            "content": {
                **_set("deadline", None)["content"],
                "kpis": {
                    "pieces_on_time": {
                        **BASE["content"]["kpis"]["pieces_shipped"],
                        "measure": "on_time_rate",
                    }
                },
            }
        },
        "KPI 'pieces_on_time', field 'measure': on_time_rate needs the unit's deadline",
    ),
    (
        "per_actor_kpi_without_actor",
        {
            "content": {
                **_set("actor", None)["content"],
                "kpis": {
                    "pieces_per_author": {
                        **BASE["content"]["kpis"]["pieces_shipped"],
                        "measure": "per_actor",
                        "per": "month",
                    }
                },
            }
        },
        "KPI 'pieces_per_author', field 'measure': per_actor needs the unit's actor",
    ),
    (
        "unknown_field",
        _set("counts_whenn", "true"),
        "field 'counts_whenn': is not a field of a unit",
    ),
]


def run_declared(declared: dict, db_path: Path, tmp_path: Path, profiles_dir: Path):
    """`dbt run` of the declared units model with these declarations as the project's."""
    return run_dbt(
        ["run", "--select", "int_units__declared_units"],
        db_path=db_path,
        target_path=tmp_path / "target",
        profiles_dir=profiles_dir,
        dbt_vars=json.dumps({"as_of": "2026-01-01 00:00:00", "output_kpis_units": declared}),
        check=False,
    )


@pytest.mark.parametrize(("declared", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_declaration_stops_the_run_naming_unit_and_field(
    declared: dict, message: str, module_warehouse_copy: Path, tmp_path: Path, profiles_dir: Path
) -> None:
    result = run_declared(declared, module_warehouse_copy, tmp_path, profiles_dir)
    assert result.returncode != 0
    assert "var 'output_kpis_units', unit 'content'" in result.stdout
    assert message in result.stdout
    assert "sql table model" not in result.stdout, "a model ran before the declaration failed"


def test_unknown_relation_stops_the_run_naming_it(
    module_warehouse_copy: Path, tmp_path: Path, profiles_dir: Path
) -> None:
    """A ref or source no node answers: dbt itself refuses the graph before any model runs,
    naming the relation as the declaration wrote it."""
    declared = _set("relation", "source('cms', 'contnet')")
    result = run_declared(declared, module_warehouse_copy, tmp_path, profiles_dir)
    assert result.returncode != 0
    assert "depends on a source named 'cms.contnet' which was not found" in result.stdout
    assert "sql table model" not in result.stdout


def test_the_valid_declaration_builds(
    module_warehouse_copy: Path, tmp_path: Path, profiles_dir: Path
) -> None:
    """The base of every case above is valid: each failure comes from its one change."""
    result = run_declared(BASE, module_warehouse_copy, tmp_path, profiles_dir)
    assert result.returncode == 0, result.stdout[-3000:]
