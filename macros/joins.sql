{#- Join conditions on a shared key: the series keys of the KPI marts repeat in many joins. -#}

{% macro same_keys(left, right, columns) -%}
    {#- `left.c = right.c and ...` for every column in `columns` (non-null keys only). -#}
    {%- for column in columns -%}
        {% if not loop.first %} and {% endif %}{{ left }}.{{ column }} = {{ right }}.{{ column }}
    {%- endfor -%}
{%- endmacro %}

{% macro kpi_series_keys() -%}
    {#- One KPI series: a KPI at a grain for one dimension value. -#}
    {{ return(['kpi_id', 'grain', 'dimension_name', 'dimension_value']) }}
{%- endmacro %}

{% macro kpi_point_keys() -%}
    {#- One point of a KPI series: the key of fct_kpi_values and the marts built on it. -#}
    {{ return(output_kpis.kpi_series_keys() + ['period_start']) }}
{%- endmacro %}

{% macro pair_series_keys() -%}
    {#- One output -> outcome series: a linked pair at a grain and dimension value. -#}
    {{ return(['output_kpi_id', 'outcome_kpi_id', 'grain', 'dimension_name', 'dimension_value']) }}
{%- endmacro %}
