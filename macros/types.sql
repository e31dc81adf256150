{#- Type names that differ by engine. Spark knows no varchar without a length and no
    "double precision"; DuckDB's and Postgres's "float" is not the same width, so models and
    yml spell types as below instead of dbt.type_float(). -#}

{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    {{ return('varchar') }}
{%- endmacro %}

{% macro spark__type_text() -%}
    {{ return('string') }}
{%- endmacro %}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ return('double precision') }}
{%- endmacro %}

{% macro spark__type_double() -%}
    {{ return('double') }}
{%- endmacro %}

{% macro engine_type(data_type) -%}
    {{ return(adapter.dispatch('engine_type', 'output_kpis')(data_type)) }}
{%- endmacro %}

{% macro default__engine_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__engine_type(data_type) -%}
    {#- The portable names the yml files use (contracts, seed column_types) -> Spark's. -#}
    {%- set name = data_type | string | trim | lower -%}
    {%- if name in ('varchar', 'text', 'character varying') -%}
        {{ return('string') }}
    {%- elif name == 'double precision' -%}
        {{ return('double') }}
    {%- else -%}
        {{ return(data_type) }}
    {%- endif -%}
{%- endmacro %}

{% macro round_double(expr, digits) -%}
    {{ return(adapter.dispatch('round_double', 'output_kpis')(expr, digits)) }}
{%- endmacro %}

{% macro default__round_double(expr, digits) -%}
    {#- Through numeric: Postgres has no round(double precision, integer). -#}
    cast(round(cast({{ expr }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{% macro spark__round_double(expr, digits) -%}
    {#- Spark's numeric is decimal(10, 0), which would drop the fraction before rounding. -#}
    round(cast({{ expr }} as double), {{ digits }})
{%- endmacro %}
