{#- Housekeeping hooks whose SQL differs by engine. -#}

{% macro analyze_relation(relation) -%}
    {{ return(adapter.dispatch('analyze_relation', 'output_kpis')(relation)) }}
{%- endmacro %}

{% macro default__analyze_relation(relation) -%}
    {#- DuckDB keeps its statistics up to date as it writes: nothing to do (an empty hook is
        skipped). -#}
{%- endmacro %}

{% macro postgres__analyze_relation(relation) -%}
    {#- A table dbt just created has no statistics until autovacuum gets to it; the planner
        would then guess a few hundred rows per CTE and nest loops over tens of thousands. -#}
    analyze {{ relation }}
{%- endmacro %}

{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}
{%- endmacro %}

{% macro postgres__planner_settings() -%}
    {#- For this model's transaction only (set local). The tables dbt builds carry no indexes,
        so a nested loop wins only over a handful of rows; yet Postgres estimates a CTE joined
        on several columns at ~1 row and nests loops over 100k-row windows (fct_kpi_anomalies:
        over 10 minutes instead of seconds). JIT off: the models are few, wide statements run
        once, and compiling them costs more than it saves (demo: int_units__declared_units
        25.5 s with JIT, 4.5 s without; all models 114 s -> 64 s; docs/ENGINES.md). -#}
    set local enable_nestloop = off; set local jit = off
{%- endmacro %}

{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    {#- Postgres and Spark keep their own CTE plans (Postgres spills a materialized CTE to disk). -#}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    {#- DuckDB (1.4) materializes every CTE referenced more than once, even a plain
        `select * from` a table, and holds it for the whole statement: at 100M raw rows the
        copies alone outgrew a 6GB memory_limit. Written between `as` and the CTE's bracket,
        this inlines a CTE that is cheaper to recompute (or to scan again) than to copy. -#}
    not materialized
{%- endmacro %}

{% macro evaluated_once() -%}
    {#- Written after the last clause of a CTE whose computed columns its readers refer to
        many times: the engine computes them once per row. -#}
    {{ return(adapter.dispatch('evaluated_once', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__evaluated_once() -%}
    {#- DuckDB and Spark compute a column once however often it is referred to. -#}
{%- endmacro %}

{% macro postgres__evaluated_once() -%}
    {#- Postgres pulls a plain subquery up into the query reading it and writes each of its
        expressions in again wherever a column of it is referred to: a chain of CTEs each
        reading the last one's columns several times grows the expression with every link (the
        declared units' timestamp parsing: 4.5 s became more than 400 s). `offset 0` keeps the
        subquery a step of its own, computed once per row. -#}
    offset 0
{%- endmacro %}

{% macro memory_bytes_per_raw_row() -%}
    {#- DuckDB memory one model needs per row of the largest raw table, measured by make bench
        (docs/PERFORMANCE.md "Memory"): at 100M raw rows (30.3M unit events), with one thread,
        int_manufacturing__first_pass_inspections ran out of a 6GB memory_limit (5.5 GiB as
        DuckDB reads it: more than 195 bytes a row) on 2026-12-04 and completes under 6.5GB
        (6.0 GiB: at most 212); 200 refuses the first and lets the second run. -#}
    {{ return(200) }}
{%- endmacro %}

{% macro check_memory_budget() -%}
    {{ return(adapter.dispatch('check_memory_budget', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__check_memory_budget() -%}
    {#- Only DuckDB runs in one process whose memory_limit the threads share. -#}
    select 1
{%- endmacro %}

{% macro duckdb__check_memory_budget() -%}
    {#- Refuses a `dbt run` or `dbt build` up front, with what to set, when the models built side
        by side (one per dbt thread) would need more than DuckDB's memory_limit: threads x rows of
        the largest raw table x memory_bytes_per_raw_row. Without it such a build runs for
        minutes and then fails out of memory in whichever large model met another. -#}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {#- Row counts from DuckDB's catalogue (duckdb_tables().estimated_size: no scan); a raw
            table that is missing or a view is skipped here (check_source_columns names a
            missing one). -#}
        {%- set matches = [] -%}
        {%- for source_name, table_name, staging_model in output_kpis.quarantine_tables()
            if output_kpis.raw_table_present(table_name) -%}
            {%- set relation = source(source_name, table_name) -%}
            {%- set parts = ["lower(schema_name) = lower('" ~ relation.schema ~ "')",
                             "lower(table_name) = lower('" ~ relation.identifier ~ "')"] -%}
            {%- if relation.database -%}
                {%- do parts.append("lower(database_name) = lower('" ~ relation.database ~ "')") -%}
            {%- endif -%}
            {%- do matches.append('(' ~ parts | join(' and ') ~ ')') -%}
        {%- endfor -%}
        {%- if matches -%}
            {%- set query -%}
                with counts as (
                    select table_name, estimated_size as n
                    from duckdb_tables()
                    where {{ matches | join(' or ') }}
                )
                select
                    (select table_name from counts order by n desc limit 1) as largest,
                    coalesce((select max(n) from counts), 0) as largest_rows,
                    (select value from duckdb_settings() where name = 'memory_limit') as memory_limit
            {%- endset -%}
            {%- set row = run_query(query).rows[0] -%}
            {%- set limit_bytes = output_kpis.size_in_bytes(row[2]) -%}
            {%- set per_model = row[1] * output_kpis.memory_bytes_per_raw_row() -%}
            {%- if limit_bytes is not none and per_model * target.threads > limit_bytes -%}
                {%- set gib = 1024 * 1024 * 1024 -%}
                {%- set fitting = (limit_bytes // per_model) | int -%}
                {%- set needed = (per_model * target.threads / gib) | round(0, 'ceil') | int -%}
                {%- set one = (per_model / gib) | round(0, 'ceil') | int -%}
                {%- if fitting >= 1 -%}
                    {%- set what = "Set `threads: " ~ fitting ~ "` in the profile, or raise its"
                        ~ " `settings: {memory_limit: ...}` to at least " ~ needed ~ "GiB" -%}
                {%- elif target.threads > 1 -%}
                    {%- set what = "Raise the profile's `settings: {memory_limit: ...}` to at"
                        ~ " least " ~ needed ~ "GiB (or " ~ one ~ "GiB with `threads: 1`)" -%}
                {%- else -%}
                    {%- set what = "Raise the profile's `settings: {memory_limit: ...}` to at"
                        ~ " least " ~ one ~ "GiB" -%}
                {%- endif -%}
                {%- if target.threads > 1 -%}
                    {%- set need = "each large model needs about " ~ '%.1f' | format(per_model / gib)
                        ~ " GiB and " ~ target.threads ~ " built side by side need "
                        ~ '%.1f' | format(per_model * target.threads / gib) ~ " GiB" -%}
                {%- else -%}
                    {%- set need = "its largest models need about "
                        ~ '%.1f' | format(per_model / gib) ~ " GiB" -%}
                {%- endif -%}
                {{ exceptions.raise_compiler_error(
                    "not enough memory for " ~ target.threads ~ " dbt thread(s): raw table "
                    ~ row[0] ~ " has " ~ '{:,}'.format(row[1]) ~ " rows, so " ~ need
                    ~ ", over DuckDB's memory_limit of " ~ row[2] ~ ". " ~ what
                    ~ " (docs/PERFORMANCE.md, \"Memory\").") }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro size_in_bytes(text) -%}
    {#- DuckDB's memory_limit as it shows it ('5.5 GiB', '953.6 MiB', '6GB') in bytes; none when
        unlimited or unreadable. -#}
    {%- set match = modules.re.fullmatch('\s*([0-9.]+)\s*([KMGT]i?B|bytes?)\s*', text or '') -%}
    {%- if not match -%}{{ return(none) }}{%- endif -%}
    {%- set unit = match.group(2) -%}
    {%- set powers = {'K': 1, 'M': 2, 'G': 3, 'T': 4} -%}
    {%- if unit.startswith('byte') -%}{{ return(match.group(1) | float) }}{%- endif -%}
    {%- set base = 1024 if 'i' in unit else 1000 -%}
    {{ return(match.group(1) | float * base ** powers[unit[0]]) }}
{%- endmacro %}
