{#- Custom schemas verbatim (acme_raw, acme_helpdesk, staging, marts ...), as in the package's
    own project: the raw schemas the vars name are exactly where the seeds land. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
