{#- Read-only BI access (PostgreSQL): the role var serving_reader_role (default kpi_reader) may
    SELECT the serving views and nothing else. The views carry a dbt `grants` config; the role
    itself and USAGE on the serving schema come from the project's run hooks. A view runs with
    its owner's rights, so the role needs no grant on marts, intermediate, staging or raw. On
    other engines these macros do nothing. -#}

{% macro serving_reader_role() -%}
    {%- set role = var('serving_reader_role', 'kpi_reader') | string -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role) -%}
        {{ exceptions.raise_compiler_error(
            "var 'serving_reader_role' must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at"
            ~ " most 63 characters); got '" ~ role ~ "'") }}
    {%- endif -%}
    {{ return(role) }}
{%- endmacro %}

{% macro serving_grants() -%}
    {#- The grants config of a serving view: SELECT for the reader role on PostgreSQL. -#}
    {{ return({'select': [output_kpis.serving_reader_role()]} if target.type == 'postgres' else {}) }}
{%- endmacro %}

{% macro create_serving_reader_role() -%}
    {{ return(adapter.dispatch('create_serving_reader_role', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__create_serving_reader_role() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_serving_reader_role() -%}
    {#- on-run-start: create the reader role when missing (var serving_reader_role_create:
        false expects it to exist). A password comes only from env OUTPUT_KPIS_READER_PASSWORD;
        none is kept in the repository. -#}
    {%- set role = output_kpis.serving_reader_role() -%}
    {%- set password = env_var('OUTPUT_KPIS_READER_PASSWORD', '') -%}
    {%- if var('serving_reader_role_create', true) -%}
    do $$
    begin
        if not exists (select from pg_catalog.pg_roles where rolname = '{{ role }}') then
            create role {{ role }} login nosuperuser nocreatedb nocreaterole noinherit;
        end if;
    end
    $$;
    {%- endif %}
    {%- if password %}
    alter role {{ role }} password '{{ password | replace("'", "''") }}';
    {%- endif %}
    select 1
{%- endmacro %}

{% macro grant_serving_schema_usage() -%}
    {{ return(adapter.dispatch('grant_serving_schema_usage', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__grant_serving_schema_usage() -%}
    select 1
{%- endmacro %}

{% macro postgres__grant_serving_schema_usage() -%}
    {#- on-run-end: USAGE on each schema holding a serving view, so the role can reach the
        views its SELECT grants name (and nothing else in those schemas is granted). -#}
    {%- set role = output_kpis.serving_reader_role() -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.fqn[1] == 'serving'
            and node.config.enabled and node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for schema in schemas %}
    do $$
    begin
        if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema }}') then
            grant usage on schema {{ adapter.quote(schema) }} to {{ role }};
        end if;
    end
    $$;
    {%- endfor %}
    select 1
{%- endmacro %}
