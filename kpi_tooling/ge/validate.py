"""Validate the unit-of-output models with their Great Expectations suites.

Each ``expectations/<model>.json`` is the executable definition of one unit of output. This
runner finds the model's table through the dbt manifest, runs the suite through a GE
Checkpoint (every check pushed down to SQL on DuckDB or Postgres, run as Spark jobs on Spark:
``--spark`` opens the catalogue of the dbt profile's spark target), prints one line per broken
rule naming the KPI, the rule and sample offending keys, and writes a JSON results file plus GE
Data Docs. Each unit declared in YAML (docs/adding_a_kpi.md) adds a suite ``units__<unit_id>``
generated from the manifest (kpi_tooling.ge.declared), run in the same pass.

A suite whose model the project disabled (its domain's ``output_kpis_enable_<domain>`` var is
false) is skipped with a one-line note and listed under ``skipped`` in the results file. When
every suite is skipped nothing is validated: the runner says so and exits 0 (the project builds
no unit of output to check). Run from a consumer project without ``--suites``, it reads the
installed package's suites (``dbt_packages/output_kpis/expectations``).

Exit codes: 0 every rule holds (or every suite skipped), 1 a rule is broken, 2 the database,
the manifest, a suite, a suite's model (unknown to the manifest) or a model's table is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from kpi_tooling.errors import SetupError, ToolingError
from kpi_tooling.ge.plan import (
    DEFAULT_SUITES_DIR,
    DOMAIN_DISABLED,
    Target,
    default_suites_dir,
    plan_suites,
)
from kpi_tooling.ge.results import Report

EXIT_OK, EXIT_FAILED, EXIT_SETUP = 0, 1, 2

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_SETUP", "Report", "SetupError", "main", "run_suites"]


def run_suites(
    db_path: Path | str | Target,
    manifest_path: Path | str,
    suites_dir: Path | str,
    out_path: Path | str | None,
    suite_names: list[str] | None = None,
    data_docs_dir: Path | str | None = None,
    progress: bool = False,
    memory_limit: str | None = None,
) -> Report:
    """Run the suites, write ``out_path`` (if given); raise SetupError when an input is missing.

    ``db_path`` is a DuckDB file, a SQLAlchemy URL (``postgresql+psycopg2://...``), or a
    Target (``Target.of_spark``); ``memory_limit``: DuckDB's memory_limit for a DuckDB file
    (e.g. "6GB").
    """
    target = db_path if isinstance(db_path, Target) else Target.of(db_path, memory_limit)
    plan = plan_suites(target, Path(manifest_path), Path(suites_dir), suite_names)
    report = Report(suites=[], skipped=plan.skipped)
    # Every suite skipped: no GE run, no Data Docs; the results file still says what was skipped.
    if plan.suites:
        # GE takes ~3 s to import: setup errors and --help should not wait for it.
        from kpi_tooling.ge.runner import run_planned

        docs_dir = Path(data_docs_dir) if data_docs_dir is not None else None
        bar = tqdm(
            plan.suites, desc="GE suites", unit="suite", disable=not progress, file=sys.stderr
        )
        report.suites = run_planned(target, bar, docs_dir)
        if docs_dir is not None:
            report.data_docs_index = str(docs_dir.resolve() / "index.html")
    if out_path is not None:
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.ge.validate",
        description="Validate each unit-of-output model with its Great Expectations suite.",
        epilog=(
            "A suite whose model the project disabled (output_kpis_enable_<domain>: false) is "
            "skipped with a note. Exit codes: 0 all rules hold (or every suite skipped), 1 a "
            "rule is broken, 2 an input is missing or a suite names a model the manifest does "
            "not know."
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", type=Path, help="DuckDB warehouse file")
    where.add_argument("--url", help="SQLAlchemy URL of the warehouse (postgresql+psycopg2://...)")
    where.add_argument(
        "--postgres",
        action="store_true",
        help="the Postgres database of the dbt profile's postgres target (OUTPUT_KPIS_PG_* env)",
    )
    where.add_argument(
        "--spark",
        action="store_true",
        help="the Spark catalogue of the dbt profile's spark target (its server_side_parameters: "
        "warehouse dir, metastore; profiles.yml from DBT_PROFILES_DIR)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="spark.master for --spark (e.g. spark://host:7077; default: the profile's, else "
        "local[*])",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path("target/manifest.json"),
        help="dbt manifest (default: %(default)s)",
    )
    parser.add_argument(
        "--suites",
        type=Path,
        help="folder of suite JSON files (default: ./expectations; in a consumer project "
        "without one, the installed package's, e.g. dbt_packages/output_kpis/expectations, "
        "found through the manifest and dbt_project.yml's packages-install-path)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("target/ge_results.json"),
        help="results JSON file (default: %(default)s)",
    )
    parser.add_argument(
        "--suite",
        action="append",
        dest="suite_names",
        metavar="NAME",
        help="run only this suite (file name without .json); repeatable",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="DuckDB's memory_limit for a --db file (e.g. 6GB; default DuckDB's, 80%% of RAM): "
        "beyond it DuckDB spills or fails instead of growing",
    )
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument(
        "--data-docs", type=Path, help="GE Data Docs folder (default: ge_data_docs beside --out)"
    )
    docs.add_argument("--no-data-docs", action="store_true", help="do not build GE Data Docs")
    return parser


def _summary(report: Report, out: Path) -> str:
    if not report.suites:
        return (
            f"NOTHING VALIDATED: all {len(report.skipped)} suites skipped, their models are "
            f"disabled in this project; results in {out}"
        )
    total = sum(len(suite.expectations) for suite in report.suites)
    failed = sum(len(suite.failures()) for suite in report.suites)
    verdict = "PASS" if report.success else "FAIL"
    line = f"{verdict}: {total - failed}/{total} rules hold in {len(report.suites)} suites"
    if report.skipped:
        line += f" ({len(report.skipped)} skipped: {DOMAIN_DISABLED})"
    line += f"; results in {out}"
    if report.data_docs_index:
        line += f"; Data Docs at {report.data_docs_index}"
    return line


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    docs_dir = None if args.no_data_docs else args.data_docs or args.out.parent / "ge_data_docs"
    db: Path | str | Target = args.db or args.url
    if args.postgres:
        from kpi_tooling.core.pg import PgSettings

        db = PgSettings.from_env().sqlalchemy_url()
    try:
        if args.spark_master and not args.spark:
            raise SetupError("--spark-master applies to --spark only")
        if args.spark:
            from kpi_tooling.core.spark import SparkProfile

            if args.memory_limit:
                raise SetupError("--memory-limit applies to a DuckDB file, not to --spark")

            db = Target.of_spark(SparkProfile.load(), args.spark_master)
        suites = args.suites or default_suites_dir(args.manifest)
        if suites.resolve() != Path(DEFAULT_SUITES_DIR).resolve():
            print(f"suites: {suites}")
        report = run_suites(
            db,
            args.manifest,
            suites,
            args.out,
            args.suite_names,
            docs_dir,
            True,
            args.memory_limit,
        )
    except ToolingError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_SETUP
    for item in report.skipped:
        print(item.note())
    for message in report.failure_messages():
        print(message)
    print(_summary(report, args.out))
    return EXIT_OK if report.success else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
