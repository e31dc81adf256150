# Two-command quick start: `make build` then `make test`. Every target does its own setup.
# The tooling (kpi_tooling/, a package per concern) runs as `python -m kpi_tooling.<concern>.<tool>`
# from the repository root.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

export DBT_PROFILES_DIR := $(CURDIR)/target/profiles
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# Write-audit-publish: dbt writes the BUILD file (OUTPUT_KPIS_DUCKDB_PATH), dbt tests and GE audit
# it, and only an audited build is copied atomically onto the SERVE file BI reads (read-only).
export OUTPUT_KPIS_DUCKDB_PATH ?= $(CURDIR)/warehouse/output_kpis.duckdb
export OUTPUT_KPIS_SERVE_PATH ?= $(CURDIR)/warehouse/serve/output_kpis.duckdb
# Postgres: dbt's postgres target and the tooling read OUTPUT_KPIS_PG_* (profiles.example.yml);
# dbt builds into build_<schema> and publishing swaps build_marts with marts (PG_PUBLISHED_SCHEMAS,
# swapped together in one transaction). Its dbt artifacts go to their own target path.
PG_TARGET_PATH := target/postgres
# Empty = the tool's default: the marts and serving schemas of dbt_project.yml (kpi_tooling.config).
PG_PUBLISHED_SCHEMAS ?=
# Spark: dbt-spark with a local Spark session, in its own venv (requirements-spark.txt on top of
# requirements.txt) so build and test never download Spark. Tables and metastore go under
# OUTPUT_KPIS_SPARK_DIR; its dbt artifacts to their own target path.
SPARK_VENV := .venv-spark
SPARK_BIN := $(SPARK_VENV)/bin
SPARK_INSTALLED := $(SPARK_VENV)/.installed
SPARK_TARGET_PATH := target/spark
export OUTPUT_KPIS_SPARK_DIR ?= $(CURDIR)/warehouse/spark
# A Spark standalone master and two workers on this machine (make spark-cluster-up); dbt reaches
# it with OUTPUT_KPIS_SPARK_MASTER=spark://127.0.0.1:7077 (profiles.example.yml).
SPARK_CLUSTER_DIR ?= $(CURDIR)/warehouse/spark-cluster
# The demo data ends on 2025-12-31; pin "now" so open items and the numbers are reproducible.
DEMO_VARS ?= {"as_of": "2026-01-01 00:00:00"}
DBT := $(BIN)/dbt
DBT_FLAGS := --vars '$(DEMO_VARS)'
BUILD_SELECT := resource_type:model resource_type:test resource_type:unit_test

.PHONY: help venv profiles seed build validate publish lint test test-python docs docs-md semantic \
	dashboard clean demo-data pg-database build-postgres validate-postgres publish-postgres spark-venv \
	build-spark validate-spark publish-spark test-spark test-spark-ci spark-cluster-up \
	spark-cluster-down bench generate

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(INSTALLED)  ## create .venv with the pinned dependencies

$(DBT_PROFILES_DIR)/profiles.yml: profiles.example.yml
	@mkdir -p $(DBT_PROFILES_DIR)
	cp profiles.example.yml $@

profiles: $(DBT_PROFILES_DIR)/profiles.yml
	@mkdir -p $(dir $(OUTPUT_KPIS_DUCKDB_PATH))

seed: venv profiles  ## load the demo raw data into the raw schema
	$(DBT) seed --full-refresh $(DBT_FLAGS)

build: venv profiles  ## write-audit-publish: fresh build file, seeds, dbt build, GE, publish, summary
	@# a fresh file each time: a killed build's half-written tables can never reach the serve file
	rm -f $(OUTPUT_KPIS_DUCKDB_PATH) $(OUTPUT_KPIS_DUCKDB_PATH).wal
	$(DBT) seed --full-refresh $(DBT_FLAGS)
	@# select tests by type: excluding seeds would also drop every test that reads a seed
	$(DBT) build --select $(BUILD_SELECT) $(DBT_FLAGS)
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory publish
	$(BIN)/python -m kpi_tooling.serving.summary --db $(OUTPUT_KPIS_SERVE_PATH)

validate: venv  ## run every Great Expectations suite against the built unit models
	$(BIN)/python -m kpi_tooling.ge.validate --db $(OUTPUT_KPIS_DUCKDB_PATH) \
		--manifest target/manifest.json --suites expectations --out target/ge_results.json

publish: venv  ## copy the audited build onto the serve file (refuses unless dbt and GE passed)
	$(BIN)/python -m kpi_tooling.publish.duckdb_file --build-db $(OUTPUT_KPIS_DUCKDB_PATH) \
		--serve-db $(OUTPUT_KPIS_SERVE_PATH) --manifest target/manifest.json \
		--run-results target/run_results.json --ge-results target/ge_results.json

pg-database: venv  ## create the Postgres database (OUTPUT_KPIS_PG_*) if missing
	$(BIN)/python -m kpi_tooling.core.pg ensure-database

build-postgres: venv profiles pg-database  ## write-audit-publish on Postgres: seeds, build_* schemas, GE, swap
	$(DBT) seed --full-refresh --target postgres --target-path $(PG_TARGET_PATH) $(DBT_FLAGS)
	$(DBT) build --select $(BUILD_SELECT) --target postgres --target-path $(PG_TARGET_PATH) \
		$(DBT_FLAGS)
	$(MAKE) --no-print-directory validate-postgres
	$(MAKE) --no-print-directory publish-postgres

validate-postgres: venv  ## run every GE suite against the Postgres build schemas
	$(BIN)/python -m kpi_tooling.ge.validate --postgres --manifest $(PG_TARGET_PATH)/manifest.json \
		--suites expectations --out $(PG_TARGET_PATH)/ge_results.json

publish-postgres: venv  ## swap audited build_* schemas in (refuses unless dbt and GE passed)
	$(BIN)/python -m kpi_tooling.publish.postgres $(foreach schema,$(PG_PUBLISHED_SCHEMAS),--schema $(schema)) \
		--manifest $(PG_TARGET_PATH)/manifest.json --run-results $(PG_TARGET_PATH)/run_results.json \
		--ge-results $(PG_TARGET_PATH)/ge_results.json

$(SPARK_INSTALLED): requirements.txt requirements-spark.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 required"'
	@java -version >/dev/null 2>&1 || { echo "Spark needs Java 17 (java not found)"; exit 1; }
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt \
		-r requirements-spark.txt
	@touch $@

spark-venv: $(SPARK_INSTALLED)  ## create .venv-spark: the pinned dependencies plus dbt-spark and PySpark

build-spark: spark-venv profiles  ## write-audit-publish on Spark (OUTPUT_KPIS_SPARK_MASTER, default local[*]): seeds, build_*, GE, publish
	$(SPARK_BIN)/dbt seed --full-refresh --target spark --target-path $(SPARK_TARGET_PATH) \
		$(DBT_FLAGS)
	$(SPARK_BIN)/dbt build --select $(BUILD_SELECT) --target spark \
		--target-path $(SPARK_TARGET_PATH) $(DBT_FLAGS)
	$(MAKE) --no-print-directory validate-spark
	$(MAKE) --no-print-directory publish-spark

validate-spark: spark-venv profiles  ## run every GE suite against the Spark build schemas (GE's Spark engine)
	$(SPARK_BIN)/python -m kpi_tooling.ge.validate --spark --manifest $(SPARK_TARGET_PATH)/manifest.json \
		--suites expectations --out $(SPARK_TARGET_PATH)/ge_results.json

publish-spark: spark-venv profiles  ## copy audited build_* schemas into a new version, repoint marts and serving
	$(SPARK_BIN)/python -m kpi_tooling.publish.spark --manifest $(SPARK_TARGET_PATH)/manifest.json \
		--run-results $(SPARK_TARGET_PATH)/run_results.json \
		--ge-results $(SPARK_TARGET_PATH)/ge_results.json

test-spark: spark-venv profiles  ## every Spark test: demo build = DuckDB, incremental = full refresh, the CI check
	OUTPUT_KPIS_TEST_SPARK=1 $(SPARK_BIN)/python -m pytest tests/python/test_spark.py \
		tests/python/test_spark_incremental.py tests/python/test_spark_wap.py \
		tests/python/test_spark_ci.py -q --durations=10

test-spark-ci: spark-venv profiles  ## the CI-sized Spark check (in make test): a 2-worker cluster, full + incremental = DuckDB
	OUTPUT_KPIS_TEST_SPARK_CI=1 $(SPARK_BIN)/python -m pytest tests/python/test_spark_ci.py -q \
		--durations=5 -p no:cacheprovider --basetemp=$(CURDIR)/target/pytest-spark-ci

spark-cluster-up: spark-venv  ## start a Spark standalone master and 2 workers here (then OUTPUT_KPIS_SPARK_MASTER=spark://127.0.0.1:7077)
	$(SPARK_BIN)/python -m kpi_tooling.core.spark_cluster start --dir $(SPARK_CLUSTER_DIR)

spark-cluster-down: spark-venv  ## stop the cluster spark-cluster-up started
	$(SPARK_BIN)/python -m kpi_tooling.core.spark_cluster stop --dir $(SPARK_CLUSTER_DIR)

lint: venv profiles  ## sqlfluff (dbt templater) and ruff, zero violations
	@# the dbt templater only compiles: give it a scratch database, never the warehouse
	OUTPUT_KPIS_DUCKDB_PATH=$(CURDIR)/target/lint.duckdb \
		$(BIN)/sqlfluff lint models tests --processes 2 --disable-progress-bar
	$(BIN)/ruff check kpi_tooling tests/python integration_tests
	$(BIN)/ruff format --check kpi_tooling tests/python integration_tests

test: lint build  ## lint, full build with dbt tests and GE, pytest on that build (and on Postgres), the Spark check
	@# The Spark check runs beside pytest, which leaves about half of 2 cores idle (the check
	@# mostly waits on Spark's scheduling), on its own copy of the warehouse; its output follows
	@# pytest's, and either failing fails the target.
	cp $(OUTPUT_KPIS_DUCKDB_PATH) $(CURDIR)/target/spark_check_warehouse.duckdb
	OUTPUT_KPIS_TEST_WAREHOUSE=$(CURDIR)/target/spark_check_warehouse.duckdb \
	OUTPUT_KPIS_TEST_MANIFEST=$(CURDIR)/target/manifest.json \
		$(MAKE) --no-print-directory test-spark-ci > $(CURDIR)/target/test-spark-ci.log 2>&1 & \
	spark=$$!; \
	OUTPUT_KPIS_TEST_WAREHOUSE=$(OUTPUT_KPIS_DUCKDB_PATH) \
	OUTPUT_KPIS_TEST_MANIFEST=$(CURDIR)/target/manifest.json \
		$(BIN)/python -m pytest tests/python -q --durations=25; pytest_rc=$$?; \
	wait $$spark; spark_rc=$$?; \
	echo "== the Spark check (make test-spark-ci, run beside pytest): exit $$spark_rc =="; \
	cat $(CURDIR)/target/test-spark-ci.log; \
	test $$pytest_rc -eq 0 -a $$spark_rc -eq 0

test-python: venv profiles  ## pytest alone (builds its own warehouse in a temp dir)
	$(BIN)/python -m pytest tests/python -q

docs: venv profiles  ## dbt docs (KPI catalogue, lineage raw -> serving) + GE Data Docs of the last validation
	@test -f $(OUTPUT_KPIS_DUCKDB_PATH) || $(MAKE) --no-print-directory build
	$(DBT) docs generate $(DBT_FLAGS)
	@test -f target/ge_data_docs/index.html || $(MAKE) --no-print-directory validate
	@echo "dbt docs:     target/index.html  (browse: $(DBT) docs serve --port 8080)"
	@echo "GE Data Docs: target/ge_data_docs/index.html"

semantic: venv profiles  ## regenerate the semantic layer, the KPI catalogues (dbt docs, README) and the unit definition docs from the seed + declared KPIs
	@# the declared KPIs are read from the manifest: parse first so it holds the current vars
	$(DBT) parse $(DBT_FLAGS)
	$(BIN)/python -m kpi_tooling.serving.semantic_layer --manifest target/manifest.json
	$(BIN)/python -m kpi_tooling.serving.readme_catalogue --manifest target/manifest.json

docs-md: venv  ## regenerate docs/VARS.md from the vars of dbt_project.yml
	$(BIN)/python -m kpi_tooling.serving.vars_doc

dashboard: venv  ## Streamlit KPI dashboard on the served file (read-only; never blocks a build)
	$(BIN)/streamlit run kpi_tooling/serving/dashboard.py --server.headless true \
		--browser.gatherUsageStats false -- --db $(OUTPUT_KPIS_SERVE_PATH)

# Benchmark (docs/BENCHMARKS.md): BENCH_ROWS of generated raw data (1M, 10M, 100M), the steps
# to run (build,tests,ge,incremental,limit,pandas), DuckDB memory_limit, and dbt threads (models
# built side by side share that memory_limit: 100M runs with BENCH_DBT_THREADS=1 and
# BENCH_MEMORY_LIMIT=6.5GB).
BENCH_ROWS ?= 10M
BENCH_SEED ?= 42
BENCH_STEPS ?= build,tests,ge,incremental,limit,pandas
BENCH_MEMORY_LIMIT ?= 6GB
BENCH_DBT_THREADS ?= 2

bench: venv  ## time build, tests, GE, incremental, hand-written SQL and pandas on generated data
	$(BIN)/python -m kpi_tooling.bench.run --rows $(BENCH_ROWS) --seed $(BENCH_SEED) \
		--steps $(BENCH_STEPS) --memory-limit $(BENCH_MEMORY_LIMIT) \
		--dbt-threads $(BENCH_DBT_THREADS)

bench-spark: venv spark-venv  ## the benchmark's DuckDB build and incremental run, and the same on Spark (local mode)
	$(BIN)/python -m kpi_tooling.bench.run --rows $(BENCH_ROWS) --seed $(BENCH_SEED) \
		--steps build,incremental,spark,spark_incremental --memory-limit $(BENCH_MEMORY_LIMIT) \
		--dbt-threads $(BENCH_DBT_THREADS) --spark-bin $(SPARK_BIN)

demo-data: venv  ## regenerate the demo seeds (deterministic)
	$(BIN)/python -m kpi_tooling.demo.data --out seeds/raw --seed 42

generate: venv  ## rewrite the files derived from kpi_tooling/core/raw_tables.yml (macro, sources, seeds, docs)
	$(BIN)/python -m kpi_tooling.core.raw_tables

clean:  ## remove build outputs (keeps .venv)
	rm -rf target warehouse logs
