{#- Custom schemas are used verbatim (raw, staging, intermediate, marts) so the demo warehouse
    reads like the layer diagram in README. A project installing this package keeps its own
    generate_schema_name: the root project's macro wins. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
