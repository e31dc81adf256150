{#- Time handling shared by every layer. All *_at columns are naive timestamps in UTC;
    engine-specific SQL sits behind adapter.dispatch so DuckDB, Postgres and Spark share models. -#}

{% macro as_of_timestamp() -%}
    {#- The instant every "now" is evaluated at: var('as_of') or the build's start time. -#}
    {%- set raw_value = var('as_of', none) -%}
    {%- if raw_value is none or raw_value | string | trim == '' -%}
        {%- set value = run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- else -%}
        {%- set value = raw_value | string | trim | replace('T', ' ') | replace('Z', '') -%}
        {%- if value | length == 10 -%}{%- set value = value ~ ' 00:00:00' -%}{%- endif -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}', value) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of' must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (UTC); got '"
                ~ raw_value ~ "'") }}
        {%- endif -%}
    {%- endif -%}
    cast('{{ value }}' as timestamp)
{%- endmacro %}

{% macro run_started_timestamp() -%}
    {#- The start of this dbt invocation (UTC) as a SQL timestamp: when rows were written. -#}
    cast('{{ run_started_at.strftime('%Y-%m-%d %H:%M:%S') }}' as timestamp)
{%- endmacro %}

{% macro parse_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'output_kpis')(column)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(column) -%}
    {#- ISO-8601 text with a trailing Z (or already a timestamp) -> naive UTC timestamp. -#}
    cast(replace(replace(cast({{ column }} as {{ dbt.type_string() }}), 'T', ' '), 'Z', '') as timestamp)
{%- endmacro %}

{% macro local_to_utc(column, time_zone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'output_kpis')(column, time_zone)) }}
{%- endmacro %}

{% macro default__local_to_utc(column, time_zone) -%}
    (cast({{ column }} as timestamp) at time zone {{ time_zone }}) at time zone 'UTC'
{%- endmacro %}

{% macro duckdb__local_to_utc(column, time_zone) -%}
    timezone('UTC', timezone({{ time_zone }}, cast({{ column }} as timestamp)))
{%- endmacro %}

{% macro spark__local_to_utc(column, time_zone) -%}
    {#- Spark timestamps are instants shown in the session zone, which the spark target sets
        to UTC: to_utc_timestamp reads the value as wall-clock time in the zone. -#}
    to_utc_timestamp(cast({{ column }} as timestamp), {{ time_zone }})
{%- endmacro %}

{% macro utc_to_local(column, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'output_kpis')(column, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local(column, time_zone) -%}
    (cast({{ column }} as timestamp) at time zone 'UTC') at time zone {{ time_zone }}
{%- endmacro %}

{% macro duckdb__utc_to_local(column, time_zone) -%}
    timezone({{ time_zone }}, timezone('UTC', cast({{ column }} as timestamp)))
{%- endmacro %}

{% macro spark__utc_to_local(column, time_zone) -%}
    from_utc_timestamp(cast({{ column }} as timestamp), {{ time_zone }})
{%- endmacro %}

{% macro add_minutes(timestamp_expr, minutes_expr) -%}
    {{ return(adapter.dispatch('add_minutes', 'output_kpis')(timestamp_expr, minutes_expr)) }}
{%- endmacro %}

{% macro default__add_minutes(timestamp_expr, minutes_expr) -%}
    {#- Whole milliseconds: multiplying an interval by a fractional minute count truncates on
        some engines and can land a deadline a microsecond early, breaking "exactly at the
        deadline is on time". -#}
    {{ dbt.dateadd('millisecond', 'cast(round(cast(' ~ minutes_expr ~ ' as double precision) * 60000) as bigint)', timestamp_expr) }}
{%- endmacro %}

{% macro duckdb__add_minutes(timestamp_expr, minutes_expr) -%}
    {#- DuckDB narrows interval * integer to INT32; to_milliseconds takes a BIGINT. -#}
    ({{ timestamp_expr }} + to_milliseconds(
        cast(round(cast({{ minutes_expr }} as double precision) * 60000) as bigint)))
{%- endmacro %}

{% macro spark__add_minutes(timestamp_expr, minutes_expr) -%}
    {#- dbt-spark's dateadd works in whole seconds (its millisecond step rounds to 0). -#}
    timestamp_millis(unix_millis(cast({{ timestamp_expr }} as timestamp))
        + cast(round(cast({{ minutes_expr }} as double) * 60000) as bigint))
{%- endmacro %}

{% macro minutes_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('minutes_between', 'output_kpis')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__minutes_between(start_expr, end_expr) -%}
    (extract(epoch from ({{ end_expr }}) - ({{ start_expr }})) / 60.0)
{%- endmacro %}

{% macro postgres__minutes_between(start_expr, end_expr) -%}
    {#- extract(epoch) is numeric on Postgres: return double precision, as on DuckDB. -#}
    (cast(extract(epoch from ({{ end_expr }}) - ({{ start_expr }})) as double precision) / 60.0)
{%- endmacro %}

{% macro duckdb__minutes_between(start_expr, end_expr) -%}
    (epoch_ms(cast({{ end_expr }} as timestamp)) - epoch_ms(cast({{ start_expr }} as timestamp))) / 60000.0
{%- endmacro %}

{% macro spark__minutes_between(start_expr, end_expr) -%}
    {#- As on DuckDB, in milliseconds; double, not Spark's decimal division. -#}
    (cast(unix_millis(cast({{ end_expr }} as timestamp))
        - unix_millis(cast({{ start_expr }} as timestamp)) as double) / 60000.0)
{%- endmacro %}

{% macro period_start(grain, date_expr) -%}
    {{ return(adapter.dispatch('period_start', 'output_kpis')(grain, date_expr)) }}
{%- endmacro %}

{% macro default__period_start(grain, date_expr) -%}
    {%- if grain not in ['day', 'week', 'month', 'quarter', 'year'] -%}
        {{ exceptions.raise_compiler_error(
            "period grain must be one of day, week, month, quarter, year; got '" ~ grain ~ "'") }}
    {%- endif -%}
    {#- Weeks start on var kpi_week_start, quarters on the fiscal quarters of var
        kpi_fiscal_year_start_month: shift the date back by the offset, truncate, shift forward
        (date_trunc weeks start on Monday on every supported engine). -#}
    {%- set offset = {'week': output_kpis.week_start_offset_days(),
                      'quarter': output_kpis.fiscal_quarter_offset_months()}.get(grain, 0) -%}
    {%- set unit = 'day' if grain == 'week' else 'month' -%}
    {%- if grain == 'day' -%}
        cast({{ date_expr }} as date)
    {%- elif offset == 0 -%}
        cast(date_trunc('{{ grain }}', cast({{ date_expr }} as date)) as date)
    {%- else -%}
        cast({{ dbt.dateadd(unit, offset, "date_trunc('" ~ grain ~ "', "
            ~ dbt.dateadd(unit, -offset, 'cast(' ~ date_expr ~ ' as date)') ~ ')') }} as date)
    {%- endif -%}
{%- endmacro %}

{% macro dbt_date_part(part, date_expr) -%}
    {{ return(adapter.dispatch('dbt_date_part', 'output_kpis')(part, date_expr)) }}
{%- endmacro %}

{% macro default__dbt_date_part(part, date_expr) -%}
    extract({{ part }} from {{ date_expr }})
{%- endmacro %}

{% macro spark__dbt_date_part(part, date_expr) -%}
    {#- Spark spells the ISO weekday (1 = Monday) dayofweek_iso. -#}
    extract({{ 'dayofweek_iso' if part == 'isodow' else part }} from {{ date_expr }})
{%- endmacro %}

{% macro add_periods(grain, periods, date_expr) -%}
    {{ return(adapter.dispatch('add_periods', 'output_kpis')(grain, periods, date_expr)) }}
{%- endmacro %}

{% macro default__add_periods(grain, periods, date_expr) -%}
    {#- A quarter is 3 months: Postgres has no 'quarter' interval unit. -#}
    {%- if grain == 'quarter' -%}
        {{ dbt.dateadd('month', '3 * (' ~ periods ~ ')', date_expr) }}
    {%- else -%}
        {{ dbt.dateadd(grain, periods, date_expr) }}
    {%- endif -%}
{%- endmacro %}

{% macro number_to_text(number_expr) -%}
    {{ return(adapter.dispatch('number_to_text', 'output_kpis')(number_expr)) }}
{%- endmacro %}

{% macro default__number_to_text(number_expr) -%}
    cast({{ number_expr }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__number_to_text(number_expr) -%}
    {#- As DuckDB spells a double: shortest round-trip digits and a whole number keeps '.0'
        (Postgres prints 50000 where DuckDB prints 50000.0). -#}
    case
        when
            {{ number_expr }} = trunc({{ number_expr }})
            and abs({{ number_expr }}) < 1e15
            then cast(cast({{ number_expr }} as numeric) as {{ dbt.type_string() }}) || '.0'
        else cast(cast({{ number_expr }} as double precision) as {{ dbt.type_string() }})
    end
{%- endmacro %}

{% macro spark__number_to_text(number_expr) -%}
    {#- As DuckDB spells a double: Spark writes 1.0E7 where DuckDB writes 10000000.0. -#}
    case
        when
            {{ number_expr }} = floor({{ number_expr }})
            and abs({{ number_expr }}) < 1e15
            then cast(cast({{ number_expr }} as bigint) as string) || '.0'
        else cast(cast({{ number_expr }} as double) as string)
    end
{%- endmacro %}
