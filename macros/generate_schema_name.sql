{#- Custom schemas are used verbatim (raw, staging, intermediate, marts) so the demo warehouse
    reads like the layer diagram in README. A project installing this package keeps its own
    generate_schema_name: the root project's macro wins.

    Write-audit-publish on a server (Postgres) needs the build to land beside the schemas BI
    reads: there every custom schema gets the prefix of build_schema_prefix() (build_marts,
    build_staging...), and publishing swaps build_marts with marts. The raw schema the sources
    read (var output_kpis_raw_schema) is input, never prefixed: the demo seeds load where
    the sources look. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == var('output_kpis_raw_schema', 'raw') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ output_kpis.build_schema_prefix() }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{% macro build_schema_prefix() -%}
    {#- var output_kpis_build_schema_prefix, or the engine's default when it is null. -#}
    {%- set value = var('output_kpis_build_schema_prefix', none) -%}
    {%- if value is none -%}
        {%- set value = adapter.dispatch('build_schema_prefix', 'output_kpis')() -%}
    {%- endif -%}
    {%- if value is not string or not modules.re.fullmatch('[a-z0-9_]*', value) -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_build_schema_prefix' must be lowercase letters, digits and"
            ~ " underscores (or empty); got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro default__build_schema_prefix() -%}
    {#- A server publishes by swapping schemas: build beside them, never into them. -#}
    {{ return('build_') }}
{%- endmacro %}

{% macro duckdb__build_schema_prefix() -%}
    {#- DuckDB publishes by copying the whole build file: schema names stay verbatim. -#}
    {{ return('') }}
{%- endmacro %}
