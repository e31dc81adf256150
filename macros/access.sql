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
    {#- The grants config of a serving view: SELECT for the reader role on PostgreSQL. The var
        is validated on every engine, so a bad value fails wherever it is set. -#}
    {%- set role = output_kpis.serving_reader_role() -%}
    {{ return({'select': [role]} if target.type == 'postgres' else {}) }}
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

{% macro secure_serving_schemas() -%}
    {{ return(adapter.dispatch('secure_serving_schemas', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__secure_serving_schemas() -%}
    select 1
{%- endmacro %}

{% macro postgres__secure_serving_schemas() -%}
    {#- on-run-end: the reader role must never see a build. A serving view built under the
        build prefix (build_serving) gets no USAGE for the role (revoked, in case the schema
        was published before: privileges travel with a renamed schema); publishing
        (kpi_tooling.publish.postgres) grants USAGE on the published name in its swap. Built
        with no prefix, straight into the schema BI reads, the role gets USAGE here. -#}
    {%- set role = output_kpis.serving_reader_role() -%}
    {%- set prefix = output_kpis.build_schema_prefix() -%}
    {%- set schemas = [] -%}
    {%- for node in (graph.nodes.values() if execute else []) -%}
        {%- if node.resource_type == 'model' and node.fqn[1] == 'serving'
            and node.config.enabled and node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for schema in schemas %}
    do $$
    begin
        if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema }}')
            and exists (select from pg_catalog.pg_roles where rolname = '{{ role }}') then
            {%- if prefix and schema.startswith(prefix) %}
            revoke all on schema {{ adapter.quote(schema) }} from {{ role }};
            {%- else %}
            grant usage on schema {{ adapter.quote(schema) }} to {{ role }};
            {%- endif %}
        end if;
    end
    $$;
    {%- endfor %}
    select 1
{%- endmacro %}
