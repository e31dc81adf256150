{#- Reads a definitional var and fails the build, naming the var, when the value is not allowed. -#}
{% macro choice_var(name, allowed, default) -%}
    {%- set value = var(name, default) -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be one of " ~ (allowed | join(', ')) ~ "; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro number_var(name, default, allow_null=false) -%}
    {%- set value = var(name, default) -%}
    {%- if value is none and allow_null -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is not number or value < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a number >= 0" ~ (' or null' if allow_null else '')
            ~ "; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
