"""KPI governance: each broken rule makes `dbt build` fail with a message naming the KPI.

Every case copies the project to a temp dir, injects exactly one fault into the reference seeds,
builds the governance model and its upstream (seeds, calendar, targets) on an empty DuckDB, and
checks the exit code, the message and that the violations table holds exactly that rule.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, Warehouse, run_dbt
from kpi_tooling.serving import semantic_layer

Rows = list[dict[str, str]]
Seeds = dict[str, Rows]
REFERENCE = ROOT / "seeds" / "reference"
# cautious: leave out tests that also read models outside the selection (the marts)
SELECT = ["build", "--select", "+int_governance__kpi_violations"]
SELECT += ["--indirect-selection", "cautious"]


def read_seeds() -> Seeds:
    return {p.stem: list(csv.DictReader(p.open())) for p in REFERENCE.glob("*.csv")}


def write_seeds(directory: Path, seeds: Seeds) -> None:
    for name, rows in seeds.items():
        with (directory / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def kpi(seeds: Seeds, kpi_id: str) -> dict[str, str]:
    return next(row for row in seeds["kpi_registry"] if row["kpi_id"] == kpi_id)


def drop_links_of(kpi_id: str) -> Callable[[Seeds], None]:
    def fault(seeds: Seeds) -> None:
        seeds["kpi_links"] = [r for r in seeds["kpi_links"] if r["output_kpi_id"] != kpi_id]

    return fault


def drop_pair_of(kpi_id: str) -> Callable[[Seeds], None]:
    def fault(seeds: Seeds) -> None:
        seeds["kpi_pairs"] = [r for r in seeds["kpi_pairs"] if r["volume_kpi_id"] != kpi_id]

    return fault


def add_row(seed: str, **values: str) -> Callable[[Seeds], None]:
    def fault(seeds: Seeds) -> None:
        template = seeds[seed][0]
        seeds[seed].append({key: values.get(key, template[key]) for key in template})

    return fault


def set_field(kpi_id: str, field: str, value: str) -> Callable[[Seeds], None]:
    def fault(seeds: Seeds) -> None:
        kpi(seeds, kpi_id)[field] = value

    return fault


def drop_targets_of(kpi_id: str) -> Callable[[Seeds], None]:
    def fault(seeds: Seeds) -> None:
        seeds["output_targets"] = [r for r in seeds["output_targets"] if r["kpi_id"] != kpi_id]

    return fault


# (case id, fault, rule expected in the violations table, text expected in dbt's output)
FAULTS = [
    (
        "orphan_output",
        drop_links_of("on_time_rate"),
        "orphan_output",
        "output KPI on_time_rate is not linked to any outcome KPI",
    ),
    (
        "volume_without_quality",
        drop_pair_of("cancelled_order_lines"),
        "volume_without_quality",
        "volume KPI cancelled_order_lines has no paired quality KPI",
    ),
    (
        "link_unknown_kpi",
        add_row(
            "kpi_links",
            output_kpi_id="on_time_rate",
            outcome_kpi_id="customer_happiness",
            expected_relationship="positive",
        ),
        "link_unknown_kpi",
        "names a KPI that is not in kpi_registry: customer_happiness",
    ),
    (
        "link_output_to_output",
        add_row(
            "kpi_links",
            output_kpi_id="throughput_rate",
            outcome_kpi_id="first_pass_yield",
            expected_relationship="positive",
        ),
        "link_not_output_to_outcome",
        "kpi_links row throughput_rate -> first_pass_yield must link an output KPI to an "
        "outcome KPI; it links output -> output",
    ),
    (
        "pair_unknown_kpi",
        add_row("kpi_pairs", volume_kpi_id="units_per_shift", quality_kpi_id="scrap_ratio"),
        "pair_unknown_kpi",
        "names a KPI that is not in kpi_registry: scrap_ratio",
    ),
    (
        "pair_volume_with_volume",
        add_row("kpi_pairs", volume_kpi_id="good_units", quality_kpi_id="units_per_shift"),
        "pair_not_volume_to_quality",
        "must pair an output volume KPI with an output quality or delivery KPI",
    ),
    (
        "missing_owner",
        set_field("sla_first_reply_compliance", "owner", ""),
        "missing_owner",
        "KPI sla_first_reply_compliance has no owner",
    ),
    (
        "missing_review_cadence",
        set_field("sla_first_reply_compliance", "review_cadence", ""),
        "missing_review_cadence",
        "KPI sla_first_reply_compliance has no review cadence",
    ),
    (
        "weekly_review_cadence",
        set_field("otif_rate", "review_cadence", "weekly"),
        "missing_review_cadence",
        "KPI otif_rate has no review cadence: set kpi_registry.review_cadence to monthly or "
        "quarterly (got weekly)",
    ),
    (
        "missing_target_definition",
        set_field("sla_first_reply_compliance", "target_method", ""),
        "missing_target_definition",
        "KPI sla_first_reply_compliance has no target definition",
    ),
    (
        "missing_producer",
        set_field("on_time_rate", "unit_model", "int_fulfilment__order_linez"),
        "missing_producer",
        "KPI on_time_rate has no producer: its unit_model (int_fulfilment__order_linez) is no "
        "model of this project",
    ),
    (
        "missing_suite",
        set_field("otif_rate", "ge_suite", ""),
        "missing_suite",
        "output KPI otif_rate has no Great Expectations suite",
    ),
    (
        "target_method_without_target",
        drop_targets_of("sla_first_reply_compliance"),
        "missing_target",
        "KPI sla_first_reply_compliance has target_method explicit but no target: add rows to "
        "output_targets",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with its seeds; only the reference seeds are loaded (the governance model
    reads no raw table), the raw ones are there for the declarations that ref them."""
    root = tmp_path_factory.mktemp("governance") / "project"
    root.mkdir()
    shutil.copy(ROOT / "dbt_project.yml", root)
    for folder in ("macros", "models"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(REFERENCE, root / "seeds" / "reference")
    # declarations (var output_kpis_demo_units) ref the raw demo seeds: parsing needs them
    shutil.copytree(ROOT / "seeds" / "raw", root / "seeds" / "raw")
    return root


def build(project: Path, seeds: Seeds, tmp_path: Path, profiles_dir: Path):
    write_seeds(project / "seeds" / "reference", seeds)
    db_path = tmp_path / "output_kpis.duckdb"
    result = run_dbt(
        SELECT,
        db_path=db_path,
        target_path=project / "target",
        profiles_dir=profiles_dir,
        project_dir=project,
        check=False,
    )
    with duckdb.connect(str(db_path), read_only=True) as con:
        rules = con.sql(
            "select rule_id, severity, message from intermediate.int_governance__kpi_violations"
        ).fetchall()
    return result, rules


def test_clean_registry_passes(project: Path, tmp_path: Path, profiles_dir: Path) -> None:
    result, rules = build(project, read_seeds(), tmp_path, profiles_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    assert rules == []
    assert "KPI governance" not in result.stdout


@pytest.mark.parametrize(
    ("fault", "rule", "message"),
    [case[1:] for case in FAULTS],
    ids=[case[0] for case in FAULTS],
)
def test_each_fault_fails_the_build(
    fault: Callable[[Seeds], None],
    rule: str,
    message: str,
    project: Path,
    tmp_path: Path,
    profiles_dir: Path,
) -> None:
    seeds = read_seeds()
    fault(seeds)
    result, rules = build(project, seeds, tmp_path, profiles_dir)
    assert result.returncode != 0
    assert "KPI governance: 1 violation:" in result.stdout, result.stdout[-3000:]
    assert message in result.stdout
    assert {(r[0], r[1]) for r in rules} == {(rule, "error")}


def test_too_many_kpis_per_team_only_warns(
    project: Path, tmp_path: Path, profiles_dir: Path, parsed_manifest: Path
) -> None:
    seeds = read_seeds()
    # every KPI counts, seeded or declared (tickets_resolved_per_agent_day is declared)
    owners = [r["owner"] for r in semantic_layer.read_kpis(parsed_manifest)]
    assert owners.count("Customer support") == 5  # at the limit: no warning on the demo
    kpi(seeds, "in_full_rate")["owner"] = "Customer support"
    result, rules = build(project, seeds, tmp_path, profiles_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "team Customer support owns 6 KPIs (more than 5)" in result.stdout
    assert [(r[0], r[1]) for r in rules] == [("too_many_kpis_per_owner", "warn")]


def test_kpi_marts_wait_for_governance(warehouse: Warehouse) -> None:
    """A failing governance test skips the public KPI marts: they depend on the check."""
    nodes = json.loads(warehouse.manifest_path.read_text())["nodes"]
    governance = "model.output_kpis.int_governance__kpi_violations"
    for mart in ("fct_kpi_values", "fct_outcome_values"):
        assert governance in nodes[f"model.output_kpis.{mart}"]["depends_on"]["nodes"]
