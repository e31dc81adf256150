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
    {#- true/false are numbers to Jinja, and .nan and .inf compare as no finite number does. -#}
    {%- if value is not number or value is sameas true or value is sameas false
        or value != value or (value != 0 and value == value * 2) or value < 0 -%}
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
    {%- if not output_kpis.is_calendar_date(value) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a date 'YYYY-MM-DD' of the calendar; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro is_calendar_date(value) -%}
    {#- Whether text is 'YYYY-MM-DD' naming a day of the calendar (not 2026-02-30): checked
        here, as a cast would fail later without naming the var. -#}
    {%- set match = modules.re.fullmatch('([0-9]{4})-([0-9]{2})-([0-9]{2})', value | string) -%}
    {%- if match is none -%}{{ return(false) }}{%- endif -%}
    {%- set year, month, day = match.group(1) | int, match.group(2) | int, match.group(3) | int -%}
    {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
    {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {{ return(year >= 1 and 1 <= month <= 12 and 1 <= day <= month_days[month - 1]) }}
{%- endmacro %}

{% macro is_calendar_timestamp(value) -%}
    {#- Whether text is 'YYYY-MM-DD HH:MM:SS' naming an instant of the calendar and the clock. -#}
    {%- set match = modules.re.fullmatch(
        '([0-9-]{10}) ([0-9]{2}):([0-9]{2}):([0-9]{2})', value | string) -%}
    {{ return(match is not none and output_kpis.is_calendar_date(match.group(1))
        and match.group(2) | int < 24 and match.group(3) | int < 60
        and match.group(4) | int < 60) }}
{%- endmacro %}
