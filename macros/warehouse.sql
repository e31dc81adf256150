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
        over 10 minutes instead of seconds). -#}
    set local enable_nestloop = off
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
