{#- Robust statistics whose SQL differs by engine. Aggregates only: Postgres has no ordered-set
    aggregate as a window function, so models build windows as joins and group by. -#}

{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'output_kpis')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}
