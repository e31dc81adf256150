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

{% macro choice_list_var(name, allowed, default) -%}
    {#- A list var whose every item must be one of `allowed` (values are interpolated into SQL,
        so nothing else may pass); null stands for the default. -#}
    {%- set value = var(name, default) -%}
    {%- if value is none -%}{%- set value = default -%}{%- endif -%}
    {%- if value is string or value is not iterable or value | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a non-empty list drawn from " ~ (allowed | join(', '))
            ~ "; got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- for item in value -%}
        {%- if item not in allowed -%}
            {{ exceptions.raise_compiler_error(
                "var '" ~ name ~ "' items must be among " ~ (allowed | join(', '))
                ~ "; got '" ~ item ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(value) }}
{%- endmacro %}

{% macro date_var(name, default) -%}
    {#- A 'YYYY-MM-DD' date var; anything else fails naming the var. -#}
    {%- set value = var(name, default) | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a date 'YYYY-MM-DD'; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
