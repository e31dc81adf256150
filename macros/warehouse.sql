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
