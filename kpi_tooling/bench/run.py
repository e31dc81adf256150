"""``make bench``: time the package on generated data and compare it with its peers.

One run, one data size, the same data for every step:

1. generate raw data (``kpi_tooling.bench.generate_data``; reused when the same size and seed
   exist);
2. full model build: ``dbt run`` of every model on a fresh warehouse (the reference seeds are
   loaded beforehand, not timed);
3. the data and unit tests (``dbt test``) and every Great Expectations suite on that build;
4. incremental, as a scheduler runs it every day: a build of the base load (rows before a
   cut-off chosen so that ~1 % of the rows come after it), then the rest arrives in the same raw
   database and the same ``dbt run`` (same ``--vars``, same target folder, so dbt parses
   partially) runs again; its ``fct_kpi_values`` must equal the full build's;
5. the limit: one hand-written DuckDB SQL script (``limit.sql``) from the raw tables;
6. the pandas peer (``pandas_peer.py``);
both peers must equal the mart (``compare.py``) to count.

Every step runs in its own process: wall-clock seconds and peak RSS are that process's. Every
dbt step passes the same ``--vars`` (``as_of`` fixed at the demo's, so the incremental and the
full build evaluate "now" at one instant and must agree exactly) and writes a JSON event log,
from which ``dbt_timing`` splits its seconds into start-up + parsing and model time.
Results go to ``<results-dir>/bench-<rows>.json``; ``docs/BENCHMARKS.md`` gets the table of
every result file (``--report``). The DuckDB settings (threads, memory_limit, temp directory)
are the profile's: see ``bench_profile``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from kpi_tooling.bench import append, compare, dbt_timing, report
from kpi_tooling.bench.measure import Measurement, run_step
from kpi_tooling.config import DEMO_AS_OF, MARTS_SCHEMA
from kpi_tooling.demo.teams import generate as generate_team_tables
from kpi_tooling.errors import StepFailed
from kpi_tooling.publish.audit import BUILD_PREFIX

# The demo's team tables (seeds/raw; read by the demo's declared units, output_kpis_demo_units).
TEAM_SEEDS = sorted(generate_team_tables())

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FINAL_AS_OF = DEMO_AS_OF
SOURCES = ("mes", "oms", "sd", "crm", "outcomes")
RAW_ALIAS = "bench_raw"
STEPS = ("build", "tests", "ge", "incremental", "limit", "pandas", "spark", "spark_incremental")
# The Spark steps (make bench-spark): the same data built on Spark (local mode, dbt-spark's
# session method, in .venv-spark), in full and incrementally.
SPARK_STEPS = ("spark", "spark_incremental")
# Spark's schema of the marts (generate_schema_name: the build prefix on every engine).
SPARK_MARTS = f"{BUILD_PREFIX}{MARTS_SCHEMA}"


def parse_rows(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "kmg" else text
    return int(float(number) * factor)


def label_of(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def bench_profile(directory: Path, threads: int, memory_limit: str, dbt_threads: int = 2) -> Path:
    """profiles.yml for the benchmark: the example's DuckDB target, the generated raw file
    attached read-only as bench_raw (env OUTPUT_KPIS_BENCH_RAW), the DuckDB settings and the
    number of dbt threads (models built side by side share one DuckDB memory_limit); and the
    example's spark target as it is (its settings from OUTPUT_KPIS_SPARK_* variables).

    No temp_directory: dbt-duckdb applies settings to every cursor, and DuckDB refuses to
    switch the temporary directory once it has spilled; the default (<database>.tmp beside
    the warehouse file) is used."""
    import yaml

    example = yaml.safe_load((ROOT / "profiles.example.yml").read_text(encoding="utf-8"))
    output = example["output_kpis"]["outputs"]["duckdb"]
    output["attach"] = [
        {"path": "{{ env_var('OUTPUT_KPIS_BENCH_RAW') }}", "alias": RAW_ALIAS, "read_only": True}
    ]
    output["threads"] = dbt_threads
    output["settings"] = {
        **output.get("settings", {}),
        "threads": threads,
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
    }
    outputs = {"duckdb": output, "spark": example["output_kpis"]["outputs"]["spark"]}
    profile = {"output_kpis": {"target": "duckdb", "outputs": outputs}}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profiles.yml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return directory


def dbt_vars(as_of: str = FINAL_AS_OF) -> str:
    """The one --vars of every dbt step: a fixed as_of (a scheduler would leave it unset, "now"
    = run start; fixed, the incremental run and the full build it is compared with evaluate
    "now" at the same instant) and the sources read from the attached raw database."""
    values = {"as_of": as_of, **{f"{source}_database": RAW_ALIAS for source in SOURCES}}
    return json.dumps(values)


def point_at(link: Path, target: Path) -> None:
    """Make `link` a symbolic link to `target`, replacing it in one step (the raw database a
    scheduler reads keeps its path while its contents change)."""
    staging = link.with_name(link.name + ".new")
    staging.unlink(missing_ok=True)
    staging.symlink_to(target)
    os.replace(staging, link)


# What a bench run writes into the checkout: a change there does not make the code dirty.
BENCH_OUTPUTS = ("docs/benchmarks", "docs/BENCHMARKS.md")


def code_version() -> str:
    """The commit the bench measures (`git describe`), with `-dirty` when tracked files other
    than the bench's own results differ from it; 'unknown' outside a git checkout."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        described = git("describe", "--always", "--abbrev=7")
        changed = git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            *(f":(exclude){path}" for path in BENCH_OUTPUTS),
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{described}-dirty" if changed else described


def machine_facts(threads: int, memory_limit: str, dbt_threads: int) -> dict:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        mem_gib = round(kib / 1024 / 1024, 1)
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "pandas": version("pandas"),
        "great_expectations": version("great_expectations"),
        "duckdb_threads": threads,
        "duckdb_memory_limit": memory_limit,
        "dbt_threads": dbt_threads,
        "load_average_at_start": list(os.getloadavg()),
        "code": code_version(),
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        # --rows demo: the demo's own raw tables (seeds/raw), not generated data
        self.demo = args.rows.strip().lower() == "demo"
        self.rows = 0 if self.demo else parse_rows(args.rows)
        self.label = "demo" if self.demo else label_of(self.rows)
        self.seed = args.seed
        self.work = Path(args.work_dir).resolve() / self.label
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs = self.work / "logs"
        self.logs.mkdir(exist_ok=True)
        self.raw_full = self.work / "generated.duckdb"
        self.raw_base = self.work / "generated_base.duckdb"
        self.threads, self.memory_limit = args.threads, args.memory_limit
        self.dbt_threads = args.dbt_threads
        self.profiles = bench_profile(
            self.work / "profiles", self.threads, self.memory_limit, self.dbt_threads
        )
        self.steps = [step.strip() for step in args.steps.split(",") if step.strip()]
        unknown = set(self.steps) - set(STEPS)
        if unknown:
            raise SystemExit(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
        self.append_share = args.append_share
        self.spark_bin = Path(args.spark_bin).resolve()
        self.spark_driver_memory = args.spark_driver_memory
        self.raw_base_cutoff: str | None = None
        self.measurements: dict[str, Measurement] = {}
        self.checks: dict[str, dict] = {}
        self.data: dict = {}

    # -- helpers --------------------------------------------------------------------------
    def dbt_command(
        self, args: list[str], db: Path, raw: Path, target: str, log_dir: Path
    ) -> tuple[list[str], dict[str, str]]:
        env = {
            "DBT_PROFILES_DIR": str(self.profiles),
            "OUTPUT_KPIS_DUCKDB_PATH": str(db),
            "OUTPUT_KPIS_BENCH_RAW": str(raw),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        return self.dbt_argv(BIN, args, target, log_dir, dbt_vars()), env

    def dbt_argv(
        self, bin_dir: Path, args: list[str], target: str, log_dir: Path, vars_json: str
    ) -> list[str]:
        """A dbt command of a step: its own target folder and JSON event log (emptied)."""
        shutil.rmtree(log_dir, ignore_errors=True)
        return [
            str(bin_dir / "dbt"),
            *args,
            "--project-dir",
            str(ROOT),
            "--target-path",
            str(self.work / target),
            "--log-path",
            str(log_dir),
            *dbt_timing.LOG_FLAGS,
            "--vars",
            vars_json,
        ]

    def warm_parse(self, db: Path, raw: Path, target: str) -> None:
        """An untimed `dbt parse` with the next step's profile and vars, so that its target
        folder holds the partial_parse.msgpack a repeated run finds (dbt parses in full after
        any change of vars or profile, the DuckDB and raw file paths included)."""
        cmd, env = self.dbt_command(["parse"], db, raw, target, self.logs / f"dbt_parse_{target}")
        run_step(f"parse ({target})", cmd, env=env, log=self.logs / f"parse_{target}.log", cwd=ROOT)

    def dbt(self, step: str, args: list[str], db: Path, raw: Path, target: str):
        log_dir = self.logs / f"dbt_{step}"
        cmd, env = self.dbt_command(args, db, raw, target, log_dir)
        return self.timed_dbt(step, cmd, env, target, log_dir)

    def spark_env(self, spark_dir: Path) -> dict[str, str]:
        return {
            "DBT_PROFILES_DIR": str(self.profiles),
            "OUTPUT_KPIS_SPARK_DIR": str(spark_dir),
            "OUTPUT_KPIS_SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "PYSPARK_PYTHON": str(self.spark_bin / "python"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def spark_dbt(self, step: str, args: list[str], spark_dir: Path, target: str):
        """A dbt step on the spark target (local mode, in .venv-spark), with the same as_of
        as every DuckDB step; the sources read Spark's raw database (spark_load)."""
        log_dir = self.logs / f"dbt_{step}"
        cmd = self.dbt_argv(
            self.spark_bin,
            [*args, "--target", "spark"],
            target,
            log_dir,
            json.dumps({"as_of": FINAL_AS_OF}),
        )
        return self.timed_dbt(step, cmd, self.spark_env(spark_dir), target, log_dir)

    def timed_dbt(
        self, step: str, cmd: list[str], env: dict[str, str], target: str, log_dir: Path
    ) -> Measurement:
        results = self.work / target / "run_results.json"
        results.unlink(missing_ok=True)
        try:
            return self.measure(step, cmd, env=env)
        finally:
            # a failed run is recorded too (measure); dbt still writes its run_results
            if step in self.measurements:
                measurement = self.measurements[step]
                measurement.detail = dbt_timing.detail(
                    results, log_dir / "dbt.log", measurement.seconds
                )

    def measure(self, step: str, cmd: list[str], env: dict[str, str] | None = None) -> Measurement:
        """Run one step and record its measurement, also when it fails (then re-raised)."""
        try:
            measurement = run_step(step, cmd, env=env, log=self.logs / f"{step}.log", cwd=ROOT)
        except StepFailed as failure:
            self.measurements[step] = failure.measurement
            raise
        self.measurements[step] = measurement
        return measurement

    def python(self, step: str, module: str, *args: str) -> Measurement:
        return self.measure(step, [sys.executable, "-m", module, *args])

    def fresh_warehouse(self, name: str) -> Path:
        db = self.work / f"{name}.duckdb"
        for path in (db, Path(f"{db}.wal")):
            path.unlink(missing_ok=True)
        shutil.copy(self.seeded, db)
        return db

    def model_seconds(self, target: str) -> dict[str, float]:
        """Seconds per model that ran (a model skipped after a failure is left out)."""
        path = self.work / target / "run_results.json"
        if not path.exists():
            return {}
        results = json.loads(path.read_text())
        return {
            r["unique_id"].rsplit(".", 1)[1]: round(r["execution_time"], 2)
            for r in results["results"]
            if r["unique_id"].startswith("model.") and r["status"] != "skipped"
        }

    # -- steps ----------------------------------------------------------------------------
    def demo_raw(self) -> None:
        """The raw file from the demo's CSVs (seeds/raw), typed as `dbt seed` loads them."""
        from kpi_tooling.core.raw_tables import demo_columns, seed_types

        self.raw_full.unlink(missing_ok=True)
        started = time.perf_counter()
        counts = {}
        with duckdb.connect(str(self.raw_full)) as con:
            con.execute("create schema raw")
            types = seed_types()
            for table, columns in demo_columns().items():
                typed = ", ".join(f"'{c}': '{types[table][c]}'" for c in columns)
                path = ROOT / "seeds" / "raw" / f"{table}.csv"
                con.execute(
                    f"create table raw.{table} as select * from "
                    f"read_csv('{path}', header = true, columns = {{{typed}}})"
                )
                counts[table] = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
        self.rows = sum(counts.values())
        self.data["generator"] = {
            "source": "seeds/raw (the demo)",
            "rows_total": self.rows,
            "rows": counts,
            "csv_seconds": round(time.perf_counter() - started, 1),
        }

    def generate(self) -> None:
        if self.demo:
            self.demo_raw()
            return
        manifest = Path(f"{self.raw_full}.manifest.json")
        if manifest.exists() and self.raw_full.exists():
            facts = json.loads(manifest.read_text())
            if facts.get("rows_requested") == self.rows and facts.get("seed") == self.seed:
                print(f"reusing {self.raw_full} ({facts.get('rows_total')} rows)", file=sys.stderr)
                self.data["generator"] = facts
                return
        self.raw_full.unlink(missing_ok=True)
        self.python(
            "generate",
            "kpi_tooling.bench.generate_data",
            "--rows",
            str(self.rows),
            "--seed",
            str(self.seed),
            "--out",
            str(self.raw_full),
            "--force",
        )
        self.data["generator"] = json.loads(manifest.read_text())

    def seed_template(self) -> None:
        """A warehouse holding the reference seeds and the demo's team tables; every build
        starts from a copy."""
        self.seeded = self.work / "seeded.duckdb"
        self.seeded.unlink(missing_ok=True)
        self.dbt(
            "seed",
            # the reference seeds and the demo's team tables (small, not scaled), which the
            # demo's declared units read
            ["seed", "--full-refresh", "--select", "path:seeds/reference", *TEAM_SEEDS],
            self.seeded,
            self.raw_full,
            "target_seed",
        )

    def build(self) -> None:
        self.full_db = self.fresh_warehouse("full")
        self.warm_parse(self.full_db, self.raw_full, "target_full")
        try:
            self.dbt("build", ["run"], self.full_db, self.raw_full, "target_full")
        finally:
            self.data["model_seconds"] = self.model_seconds("target_full")
        with duckdb.connect(str(self.full_db), read_only=True) as con:
            self.data["mart_rows"] = con.execute(
                "select count(*) from marts.fct_kpi_values"
            ).fetchone()[0]
            self.data["quarantined_rows"] = con.execute(
                "select count(*) from staging.stg_quarantine__rows"
            ).fetchone()[0]

    def tests(self) -> None:
        self.warm_parse(self.full_db, self.raw_full, "target_full_test")
        self.dbt("tests", ["test"], self.full_db, self.raw_full, "target_full_test")

    def ge(self) -> None:
        self.python(
            "ge",
            "kpi_tooling.ge.validate",
            "--db",
            str(self.full_db),
            "--manifest",
            str(self.work / "target_full" / "manifest.json"),
            "--suites",
            str(ROOT / "expectations"),
            "--out",
            str(self.work / "ge_results.json"),
            "--memory-limit",
            self.memory_limit,
        )

    def split_base(self) -> None:
        """The base load (rows before a cut-off leaving ~append_share after it), once."""
        if self.raw_base_cutoff is not None:
            return
        cutoff = append.cutoff_for_share(self.raw_full, self.append_share)
        counts = append.split(self.raw_full, self.raw_base, cutoff)
        appended = sum(c["appended"] for c in counts.values())
        total = sum(c["total"] for c in counts.values())
        self.data["append"] = {
            "cutoff": cutoff,
            "appended_rows": appended,
            "total_rows": total,
            "appended_share": round(appended / total, 4),
            "per_table": counts,
        }
        self.raw_base_cutoff = cutoff

    def incremental(self) -> None:
        self.split_base()
        self.data["incremental_form"] = "daily"  # same --vars and target for both runs
        db = self.fresh_warehouse("incremental")
        # The scheduler's raw database: one path, holding the base load, then the full data.
        daily_raw = self.work / "raw_daily.duckdb"
        target = "target_daily"
        point_at(daily_raw, self.raw_base)
        # The scheduler ran before: the target folder holds its saved parse, as the full
        # build's does.
        self.warm_parse(db, daily_raw, target)
        self.dbt("base_build", ["run"], db, daily_raw, target)
        point_at(daily_raw, self.raw_full)  # the appended rows arrive
        self.dbt("incremental", ["run"], db, daily_raw, target)
        self.data["incremental_model_seconds"] = self.model_seconds(target)
        parse = self.measurements["incremental"].detail or {}
        partial = parse.get("parse") == "partial"
        self.checks["incremental_parses_partially"] = {
            "equal": partial,
            "verdict": "partial parse" if partial else "FULL PARSE",
            "reason": parse.get("full_parse_reason")
            or ("saved partial_parse.msgpack reused" if partial else "no parse events in the log"),
        }
        if hasattr(self, "full_db"):
            self.checks["incremental_equals_full"] = self.same_marts(db, self.full_db)
        # the next day's run before any new row: the floor under the incremental ratio
        self.dbt("rerun", ["run"], db, daily_raw, target)
        self.data["rerun_model_seconds"] = self.model_seconds(target)

    # -- Spark ----------------------------------------------------------------------------
    def spark_load(self, step: str, raw: Path, spark_dir: Path) -> None:
        """Spark's raw database from a generated DuckDB file (kpi_tooling.core.spark_raw)."""
        self.measure(
            step,
            [
                str(self.spark_bin / "python"),
                "-m",
                "kpi_tooling.core.spark_raw",
                "--raw-db",
                str(raw),
                "--parquet-dir",
                str(self.work / f"parquet_{raw.stem}"),
            ],
            env=self.spark_env(spark_dir),
        )

    def fresh_spark(self, name: str, target: str) -> Path:
        """A new Spark warehouse holding the reference seeds and the team tables (the step
        also leaves dbt's saved parse in `target`, as warm_parse does for DuckDB)."""
        spark_dir = self.work / name
        shutil.rmtree(spark_dir, ignore_errors=True)
        spark_dir.mkdir(parents=True)
        self.spark_dbt(
            f"{name}_seed",
            ["seed", "--full-refresh", "--select", "path:seeds/reference", *TEAM_SEEDS],
            spark_dir,
            target,
        )
        return spark_dir

    def spark(self) -> None:
        target = "target_spark_full"
        self.spark_full = self.fresh_spark("spark_full", target)
        self.spark_load("spark_load", self.raw_full, self.spark_full)
        try:
            self.spark_dbt("spark_build", ["run"], self.spark_full, target)
        finally:
            self.data["spark_model_seconds"] = self.model_seconds(target)
        if hasattr(self, "full_db"):
            self.checks["spark_equals_duckdb"] = self.same_marts(
                self.spark_full, self.full_db, ("spark", "duckdb")
            )

    def spark_incremental(self) -> None:
        """The daily form on Spark: the base load built, then the rest arrives (Spark's raw
        tables replaced by the full data) and the same dbt run runs again."""
        self.split_base()
        target = "target_spark_daily"
        spark_dir = self.fresh_spark("spark_daily", target)
        self.spark_load("spark_load_base", self.raw_base, spark_dir)
        self.spark_dbt("spark_base_build", ["run"], spark_dir, target)
        self.spark_load("spark_load_append", self.raw_full, spark_dir)
        try:
            self.spark_dbt("spark_incremental", ["run"], spark_dir, target)
        finally:
            self.data["spark_incremental_model_seconds"] = self.model_seconds(target)
        if hasattr(self, "spark_full"):
            self.checks["spark_incremental_equals_full"] = self.same_marts(
                spark_dir, self.spark_full, ("incremental", "full")
            )
        elif hasattr(self, "full_db"):
            self.checks["spark_incremental_equals_duckdb"] = self.same_marts(
                spark_dir, self.full_db, ("spark", "duckdb")
            )

    @staticmethod
    def attach(con: duckdb.DuckDBPyConnection, alias: str, build: Path) -> None:
        """Schema `alias`.marts: a DuckDB warehouse file's marts, or views over the parquet
        files of a Spark warehouse directory's (SPARK_MARTS)."""
        if build.suffix == ".duckdb":
            con.execute(f"attach '{build}' as {alias} (read_only)")
            return
        con.execute(f"attach ':memory:' as {alias}")
        con.execute(f"create schema {alias}.marts")
        for table in ("fct_kpi_values", "fct_outcome_values"):
            files = build / "warehouse" / f"{SPARK_MARTS}.db" / table / "*.parquet"
            con.execute(
                f"create view {alias}.marts.{table} as select * from read_parquet('{files}')"
            )

    def same_marts(
        self, left: Path, right: Path, names: tuple[str, str] = ("incremental", "full")
    ) -> dict:
        """Rows of the two builds' marts, only in one or only in the other (every column but
        the run stamps; doubles rounded to 9 decimals)."""
        result = {}
        with duckdb.connect() as con:
            self.attach(con, "l", left)
            self.attach(con, "r", right)
            for table in ("marts.fct_kpi_values", "marts.fct_outcome_values"):
                only_l, only_r = compare.except_both_ways(
                    con, f"l.{table}", f"r.{table}", leave_out=("rebuilt_at", "as_of_at")
                )
                rows = con.execute(f"select count(*) from r.{table}").fetchone()[0]
                result[table] = {
                    "rows": rows,
                    f"only_{names[0]}": only_l,
                    f"only_{names[1]}": only_r,
                }
        result["equal"] = all(
            v[f"only_{names[0]}"] == v[f"only_{names[1]}"] == 0 for v in result.values()
        )
        return result

    def peer(self, step: str, module: str, table: str, *extra: str) -> None:
        out = self.work / f"{step}.duckdb"
        out.unlink(missing_ok=True)
        self.python(
            step,
            module,
            "--raw-db",
            str(self.raw_full),
            "--out-db",
            str(out),
            "--as-of",
            FINAL_AS_OF,
            *extra,
        )
        if not hasattr(self, "full_db"):
            return
        with duckdb.connect(str(self.full_db), read_only=True) as con:
            con.execute(f"attach '{out}' as peer (read_only)")
            result = compare.compare(con, f"peer.main.{table}")
        self.checks[f"{step}_equals_mart"] = {
            "equal": result.equal,
            "rows": result.expected_rows,
            "missing": result.missing,
            "extra": result.extra,
            "different": result.different,
            "kpis": list(compare.PEER_KPIS),
        }

    def lineage_model_seconds(self) -> float | None:
        """Model time of the peers' KPIs' lineage: the component models of manufacturing and
        fulfilment and every model upstream of them (a like-for-like share of the build)."""
        manifest_path = self.work / "target_full" / "manifest.json"
        build = self.measurements.get("build")
        if not manifest_path.exists() or build is None or build.failed:
            return None
        manifest = json.loads(manifest_path.read_text())
        parents = manifest["parent_map"]
        roots = [
            node
            for node in parents
            if node.rsplit(".", 1)[-1]
            in (
                "int_manufacturing__kpi_components",
                "int_fulfilment__kpi_components",
                "int_manufacturing__step_kpi_components",
            )
        ]
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(parents.get(node, []))
        names = {node.rsplit(".", 1)[-1] for node in seen if node.startswith("model.")}
        return round(sum(s for m, s in self.data["model_seconds"].items() if m in names), 2)

    def run(self) -> dict:
        """Every chosen step in order. A step that fails ends the run; it is recorded (seconds,
        peak RSS, exit code, and dbt's node statuses) with the log's tail, and nothing after it
        runs."""
        started = datetime.now(UTC)
        facts = machine_facts(self.threads, self.memory_limit, self.dbt_threads)
        try:
            self.run_steps()
        except StepFailed as failure:
            self.data["failed_step"] = {
                "step": failure.measurement.step,
                "exit_code": failure.measurement.exit_code,
                "log_tail": str(failure)[-2000:],
            }
            print(str(failure), file=sys.stderr)
        self.data["lineage_model_seconds"] = self.lineage_model_seconds()
        return {
            "label": self.label,
            "requested_rows": self.rows,
            "seed": self.seed,
            "started_at": started.isoformat(timespec="seconds"),
            "machine": facts,
            "steps": {name: m.to_dict() for name, m in self.measurements.items()},
            "checks": self.checks,
            "data": self.data,
        }

    def run_steps(self) -> None:
        self.generate()
        self.seed_template()
        for step in STEPS:
            if step not in self.steps:
                continue
            if step == "limit":
                self.peer(
                    "limit",
                    "kpi_tooling.bench.limit",
                    "limit_kpi_values",
                    "--threads",
                    str(self.threads),
                    "--memory-limit",
                    self.memory_limit,
                )
            elif step == "pandas":
                self.peer("pandas", "kpi_tooling.bench.pandas_peer", "pandas_kpi_values")
            else:
                getattr(self, step)()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.bench.run",
        description="Benchmark the package on generated data (docs/BENCHMARKS.md).",
    )
    parser.add_argument(
        "--rows",
        default="10M",
        help="total raw rows, e.g. 1M, 10M, 100M; or demo: the demo's own raw tables",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", default=str(ROOT / "warehouse" / "bench"))
    parser.add_argument("--results-dir", default=str(ROOT / "docs" / "benchmarks"))
    parser.add_argument("--report", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    parser.add_argument(
        "--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}"
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit (dbt, limit)")
    parser.add_argument(
        "--dbt-threads",
        type=int,
        default=2,
        help="dbt threads (models built side by side share the DuckDB memory_limit)",
    )
    parser.add_argument("--append-share", type=float, default=0.01)
    parser.add_argument(
        "--spark-bin",
        default=str(ROOT / ".venv-spark" / "bin"),
        help="bin directory of the Spark virtualenv (make spark-venv), for the Spark steps",
    )
    parser.add_argument(
        "--spark-driver-memory", default="8g", help="Spark's driver memory (local mode)"
    )
    args = parser.parse_args(argv)
    bench = Bench(args)
    result = bench.run()
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    # a run with Spark steps is a result of its own beside the DuckDB-only one of that size
    spark = "-spark" if set(bench.steps) & set(SPARK_STEPS) else ""
    out = results_dir / f"bench-{bench.label}{spark}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {out}", file=sys.stderr)
    report.write(results_dir, Path(args.report))
    print(f"report:  {args.report}", file=sys.stderr)
    failed = [name for name, check in result["checks"].items() if not check["equal"]]
    if failed:
        print(f"checks failed: {', '.join(failed)}", file=sys.stderr)
    if "failed_step" in result["data"]:
        print(f"step failed: {result['data']['failed_step']['step']}", file=sys.stderr)
    return 1 if failed or "failed_step" in result["data"] else 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"bench finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    raise SystemExit(code)
