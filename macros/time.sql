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
        {%- if not output_kpis.is_calendar_timestamp(value) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of' must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (UTC) of the calendar; got '"
                ~ raw_value ~ "'") }}
        {%- endif -%}
    {%- endif -%}
    cast('{{ value }}' as timestamp)
{%- endmacro %}

{% macro run_started_timestamp() -%}
    {#- The start of this dbt invocation (UTC) as a SQL timestamp: when rows were written. -#}
    cast('{{ run_started_at.strftime('%Y-%m-%d %H:%M:%S') }}' as timestamp)
{%- endmacro %}

{#- Timestamp text, one rule on every engine (docs/YOUR_DATA.md "Timestamps"): ISO-8601
    YYYY-MM-DD, T or a blank, HH:MM[:SS[.fraction]], then optionally a zone: Z or a UTC offset
    (+HH, +HHMM, +HH:MM, or -). A zone names an instant, converted exactly; a value without
    one is a wall time. The shapes are in cast_patterns (macros/quarantine.sql). -#}

{% macro timestamp_text(column) -%}
    {#- A raw value as trimmed text, null when empty or blank. -#}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{% macro iso_wall_time(text) -%}
    {#- The wall time of ISO-8601 text (its zone dropped) as a timestamp; null when the text is
        no ISO-8601 timestamp (cast_patterns iso_timestamp; every engine casts a T). -#}
    case
        when {{ output_kpis.regex_matches(text, output_kpis.cast_patterns()['iso_timestamp']) }}
            then {{ adapter.dispatch('cast_shaped', 'output_kpis')("regexp_replace(" ~ text
                ~ ", '" ~ output_kpis.cast_patterns()['utc_offset'] ~ "', '')", 'timestamp') }}
    end
{%- endmacro %}

{% macro has_utc_offset(text) -%}
    {#- Whether ISO-8601 text carries a zone (Z or an offset); false for null. -#}
    ({{ text }} is not null and {{ output_kpis.regex_matches(text,
        output_kpis.cast_patterns()['utc_offset']) }})
{%- endmacro %}

{% macro iso_instant(text, wall=none) -%}
    {#- ISO-8601 text with a zone -> the naive UTC timestamp of the instant it names (wall time
        minus the offset, exact to the fraction); null without a zone or when unreadable.
        wall: iso_wall_time(text), when the caller has computed it already. -#}
    {%- set hours = output_kpis.regex_group(text, '[+-]([0-9]{2}):?[0-9]{0,2}$') -%}
    {%- set minutes = output_kpis.regex_group(text, '[+-][0-9]{2}:?([0-9]{2})$') -%}
    {%- set minutes_to_utc = '(case when ' ~ output_kpis.regex_matches(text, '-[0-9:]+$')
        ~ ' then 1 else -1 end) * (coalesce(cast(nullif(' ~ hours ~ ", '') as integer), 0) * 60"
        ~ ' + coalesce(cast(nullif(' ~ minutes ~ ", '') as integer), 0))" -%}
    case
        when {{ output_kpis.has_utc_offset(text) }} then
            {{ output_kpis.add_minutes(wall or output_kpis.iso_wall_time(text), minutes_to_utc) }}
    end
{%- endmacro %}

{% macro regex_group(text, pattern) -%}
    {{ return(adapter.dispatch('regex_group', 'output_kpis')(text, pattern)) }}
{%- endmacro %}

{% macro default__regex_group(text, pattern) -%}
    {#- The first group of the pattern's match in text; '' or null when none. -#}
    regexp_extract({{ text }}, '{{ pattern }}', 1)
{%- endmacro %}

{% macro postgres__regex_group(text, pattern) -%}
    substring({{ text }} from '{{ pattern }}')
{%- endmacro %}

{% macro parse_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'output_kpis')(column)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(column) -%}
    {#- A utc column (quarantine type utc) -> naive UTC timestamp: text with Z or an offset is
        the instant it names; a column the warehouse types TIMESTAMP WITH TIME ZONE reads as
        text with its offset, so the same. A wall time without a zone (text, or a naive
        TIMESTAMP column) is null, quarantined as timestamp_without_time_zone, unless var
        output_kpis_naive_timestamps_are_utc says the sources write UTC. -#}
    {{ output_kpis.utc_text_to_timestamp(output_kpis.timestamp_text(column)) }}
{%- endmacro %}

{% macro utc_text_to_timestamp(text, wall=none) -%}
    {#- parse_utc_timestamp of trimmed text (blank as null); wall: iso_wall_time(text), when the
        caller has computed it already. -#}
    {%- set wall = wall or output_kpis.iso_wall_time(text) -%}
    {%- if output_kpis.naive_timestamps_are_utc() -%}
        coalesce({{ output_kpis.iso_instant(text, wall) }}, {{ wall }})
    {%- else -%}
        {{ output_kpis.iso_instant(text, wall) }}
    {%- endif -%}
{%- endmacro %}

{% macro naive_timestamps_are_utc() -%}
    {%- set value = var('output_kpis_naive_timestamps_are_utc', false) -%}
    {%- if value not in (true, false) -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_naive_timestamps_are_utc' must be true or false; got '"
            ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro site_local_to_utc(text, time_zone, offsets=none, wall=none, has_offset=none) -%}
    {#- A site-local timestamp (quarantine type timestamp, as text) -> naive UTC: a value with
        Z or an offset is the instant it names; a naive wall time is read in the site's zone
        (local_to_utc: a DST gap or fold follows its rule). offsets: the zone-offset CTE of
        the fast DuckDB path (local_to_utc_via, joined on site_local_wall_date). wall and
        has_offset: iso_wall_time(text) and has_utc_offset(text), when the caller has them
        (each a regular expression per row). -#}
    {%- set wall = wall or output_kpis.iso_wall_time(text) -%}
    case
        when {{ has_offset or output_kpis.has_utc_offset(text) }}
            then {{ output_kpis.iso_instant(text, wall) }}
        {%- if offsets %}
        else {{ output_kpis.local_to_utc_via(offsets, wall, time_zone) }}
        {%- else %}
        else {{ output_kpis.local_to_utc(wall, time_zone) }}
        {%- endif %}
    end
{%- endmacro %}

{% macro site_local_wall_time(text, time_zone, wall=none, has_offset=none) -%}
    {#- The site's wall time of a site-local timestamp: as written when naive, the instant
        read in the site's zone when it carries Z or an offset. wall, has_offset: as
        site_local_to_utc. -#}
    {%- set wall = wall or output_kpis.iso_wall_time(text) -%}
    case
        when {{ has_offset or output_kpis.has_utc_offset(text) }}
            then {{ output_kpis.utc_to_local(output_kpis.iso_instant(text, wall), time_zone) }}
        else {{ wall }}
    end
{%- endmacro %}

{% macro local_to_utc(column, time_zone) -%}
    {#- Local wall time in a zone -> naive UTC. DST rule (docs/YOUR_DATA.md "Timestamps"), the
        same on every engine: a wall time in the spring-forward gap is read with the offset in
        force before the gap (02:30 in a 02:00-03:00 gap is 03:30 after it); a wall time in
        the autumn fold is its later occurrence (after the clocks went back). -#}
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
        to UTC: to_utc_timestamp reads the value as wall-clock time in the zone. In a fold it
        picks the earlier instant; the rule (as DuckDB and Postgres) is the later one: the
        wall time less the offset in force a day later, when that names the same wall time. -#}
    {%- set wall = 'cast(' ~ column ~ ' as timestamp)' -%}
    {%- set first = 'to_utc_timestamp(' ~ wall ~ ', ' ~ time_zone ~ ')' -%}
    {%- set day_after = first ~ ' + interval 1 day' -%}
    {%- set later = 'timestamp_micros(unix_micros(' ~ wall ~ ') - (unix_micros(from_utc_timestamp('
        ~ day_after ~ ', ' ~ time_zone ~ ')) - unix_micros(' ~ day_after ~ ')))' -%}
    case
        when {{ later }} > {{ first }}
            and from_utc_timestamp({{ later }}, {{ time_zone }}) = {{ wall }}
            then {{ later }}
        else {{ first }}
    end
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

{% macro known_grains() -%}
    {#- Every reporting grain the package knows, finest first: the one list of them (the
        default of var kpi_grains; kpi_tooling.core.grains and the yml tests derive from it). -#}
    {{ return(['day', 'week', 'month', 'quarter', 'year']) }}
{%- endmacro %}

{% macro reporting_grains() -%}
    {#- var kpi_grains (default: every known grain), each one a known grain. -#}
    {{ return(output_kpis.choice_list_var(
        'kpi_grains', output_kpis.known_grains(), output_kpis.known_grains())) }}
{%- endmacro %}

{% macro period_start(grain, date_expr) -%}
    {{ return(adapter.dispatch('period_start', 'output_kpis')(grain, date_expr)) }}
{%- endmacro %}

{% macro default__period_start(grain, date_expr) -%}
    {%- if grain not in output_kpis.known_grains() -%}
        {{ exceptions.raise_compiler_error(
            "period grain must be one of " ~ output_kpis.known_grains() | join(', ')
            ~ "; got '" ~ grain ~ "'") }}
    {%- endif -%}
    {#- Weeks start on var kpi_week_start, quarters and years on the fiscal year of var
        kpi_fiscal_year_start_month: shift the date back by the offset, truncate, shift forward
        (date_trunc weeks start on Monday on every supported engine). A fiscal year is labelled
        by its first day: with April, 2025-03-15 is in the year starting 2024-04-01. -#}
    {%- set offset = {'week': output_kpis.week_start_offset_days(),
                      'quarter': output_kpis.fiscal_quarter_offset_months(),
                      'year': output_kpis.fiscal_year_offset_months()}.get(grain, 0) -%}
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

{% macro days_between(bounds, start_column, end_column) -%}
    {{ return(adapter.dispatch('days_between', 'output_kpis')(bounds, start_column, end_column)) }}
{%- endmacro %}

{% macro default__days_between(bounds, start_column, end_column) -%}
    {#- One row (calendar_date) per day from start to end (inclusive) of each row of `bounds`,
        bounds read from data: no row count to know at compile time (dbt.date_spine's
        get_intervals_between queries the warehouse while compiling). -#}
    select
        cast(generate_series(
            cast({{ start_column }} as timestamp),
            cast({{ end_column }} as timestamp),
            interval '1 day'
        ) as date) as calendar_date
    from {{ bounds }}
{%- endmacro %}

{% macro duckdb__days_between(bounds, start_column, end_column) -%}
    select
        cast(unnest(generate_series(
            cast({{ start_column }} as timestamp),
            cast({{ end_column }} as timestamp),
            interval 1 day
        )) as date) as calendar_date
    from {{ bounds }}
{%- endmacro %}

{% macro spark__days_between(bounds, start_column, end_column) -%}
    select
        explode(sequence(
            cast({{ start_column }} as date), cast({{ end_column }} as date), interval 1 day
        )) as calendar_date
    from {{ bounds }}
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
    {#- A quarter is 3 months (Postgres has no 'quarter' interval unit), a year 12 months (the
        same month arithmetic on every engine). -#}
    {%- if grain in ('quarter', 'year') -%}
        {{ dbt.dateadd('month', ('3' if grain == 'quarter' else '12') ~ ' * (' ~ periods ~ ')',
            date_expr) }}
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

{#- Fast zone conversion for large tables. Converting with a zone read from a column costs
    DuckDB an ICU calendar per row (about 14 us: 40 s for 3M rows on 2 cores). A zone's UTC
    offset only changes at DST transitions, so a model converts through a small CTE of
    offsets per zone and day (time_zone_offsets), joined on zone and day
    (time_zone_offset_join), and passes its name to local_to_utc_via / utc_to_local_via. A day
    whose offset changes (a DST transition) has a null offset and converts row by row with
    the exact expression, so results are identical. Engines other than DuckDB convert row by
    row (their conversions are fast); the CTE is empty there and the join is not emitted. -#}
{% macro time_zone_offsets(zones_relation, zone_column, direction) -%}
    {{ return(adapter.dispatch('time_zone_offsets', 'output_kpis')(
        zones_relation, zone_column, direction)) }}
{%- endmacro %}

{% macro default__time_zone_offsets(zones_relation, zone_column, direction) -%}
    select cast(null as {{ output_kpis.type_text() }}) as time_zone where 1 = 0
{%- endmacro %}

{% macro duckdb__time_zone_offsets(zones_relation, zone_column, direction) -%}
    {#- direction 'local': days are local wall-clock days (offset = local - UTC for any local
        time of the day); 'utc': days are UTC days (offset for any instant of the UTC day).
        Days from ten years before as_of (or var kpi_calendar_start_date, when earlier) to two
        years after it; others convert row by row (the same result, slower). -#}
    {%- if direction not in ('local', 'utc') -%}
        {{ exceptions.raise_compiler_error("time_zone_offsets: direction must be 'local' or 'utc'") }}
    {%- endif -%}
    {%- set first = "cast(cast(" ~ as_of_timestamp() ~ " as date) - interval 3653 day as timestamp)" -%}
    {%- if output_kpis.calendar_start_date() is not none -%}
        {%- set first = "least(" ~ first ~ ", cast('" ~ output_kpis.calendar_start_date()
            ~ "' as timestamp))" -%}
    {%- endif -%}
    {%- set last = "cast(cast(" ~ as_of_timestamp() ~ " as date) + interval 731 day as timestamp)" -%}
    {%- if direction == 'local' -%}
        {%- set offset_at = "epoch_us(@) - epoch_us(timezone('UTC', timezone(zones.time_zone, @)))" -%}
    {%- else -%}
        {%- set offset_at = "epoch_us(timezone(zones.time_zone, timezone('UTC', @))) - epoch_us(@)" -%}
    {%- endif -%}
    select
        time_zone,
        offset_date,
        case when start_offset_us = end_offset_us then start_offset_us end as offset_us
    from (
        select
            zones.time_zone,
            cast(days.day_start as date) as offset_date,
            {{ offset_at | replace('@', 'days.day_start') }} as start_offset_us,
            {{ offset_at | replace('@', '(days.day_start + interval 1 day - interval 1 microsecond)') }} as end_offset_us
        from (
            select distinct {{ zone_column }} as time_zone
            from {{ zones_relation }}
            where {{ zone_column }} is not null
        ) as zones
        cross join (
            select generate_series as day_start
            from generate_series({{ first }}, {{ last }}, interval 1 day)
        ) as days
    ) as zone_days
{%- endmacro %}

{% macro time_zone_offset_join(offsets, zone_expr, timestamp_expr, alias=none) -%}
    {#- alias: to join the same offsets twice (two timestamps); pass it to the *_via macro. -#}
    {{ return(adapter.dispatch('time_zone_offset_join', 'output_kpis')(
        offsets, zone_expr, timestamp_expr, alias or offsets)) }}
{%- endmacro %}

{% macro default__time_zone_offset_join(offsets, zone_expr, timestamp_expr, alias) -%}
{%- endmacro %}

{% macro duckdb__time_zone_offset_join(offsets, zone_expr, timestamp_expr, alias) -%}
    left join {{ offsets }} as {{ alias }}
        on {{ alias }}.time_zone = {{ zone_expr }}
        and {{ alias }}.offset_date = cast(cast({{ timestamp_expr }} as timestamp) as date)
{%- endmacro %}

{% macro local_to_utc_via(offsets, column, time_zone) -%}
    {{ return(adapter.dispatch('local_to_utc_via', 'output_kpis')(offsets, column, time_zone)) }}
{%- endmacro %}

{% macro default__local_to_utc_via(offsets, column, time_zone) -%}
    {{ output_kpis.local_to_utc(column, time_zone) }}
{%- endmacro %}

{% macro duckdb__local_to_utc_via(offsets, column, time_zone) -%}
    case
        when {{ offsets }}.offset_us is null then {{ output_kpis.local_to_utc(column, time_zone) }}
        else cast({{ column }} as timestamp) - to_microseconds({{ offsets }}.offset_us)
    end
{%- endmacro %}

{% macro utc_to_local_via(offsets, column, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local_via', 'output_kpis')(offsets, column, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local_via(offsets, column, time_zone) -%}
    {{ output_kpis.utc_to_local(column, time_zone) }}
{%- endmacro %}

{% macro duckdb__utc_to_local_via(offsets, column, time_zone) -%}
    case
        when {{ offsets }}.offset_us is null then {{ output_kpis.utc_to_local(column, time_zone) }}
        else cast({{ column }} as timestamp) + to_microseconds({{ offsets }}.offset_us)
    end
{%- endmacro %}
