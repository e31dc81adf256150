{#- Clock arithmetic for SLA-style measurements: open business intervals of a weekly schedule,
    the intervals during which a clock runs, the instant a clock reaches its target, and the
    clock minutes elapsed up to an instant.

    Every macro returns a bare `select` (no trailing semicolon, no outer `with`) so a model can
    drop it into a CTE. All instants are naive UTC timestamps; schedules are local wall-clock
    time and are converted per local date with local_to_utc, so DST shifts move the UTC open
    hours with the season. Engine-specific SQL sits behind adapter.dispatch. -#}

{% macro business_time_date_series(first_date, last_date) -%}
    {{ return(adapter.dispatch('business_time_date_series', 'output_kpis')(first_date, last_date)) }}
{%- endmacro %}

{% macro default__business_time_date_series(first_date, last_date) -%}
    {#- generate_series over timestamps works on DuckDB and Postgres; the bounds may be scalar
        subqueries. -#}
    select cast(date_series.series_at as date) as calendar_date
    from generate_series(
        cast({{ first_date }} as timestamp),
        cast({{ last_date }} as timestamp),
        interval '1 day'
    ) as date_series (series_at)
{%- endmacro %}

{% macro spark__business_time_date_series(first_date, last_date) -%}
    select explode(
        sequence(cast({{ first_date }} as date), cast({{ last_date }} as date), interval 1 day)
    ) as calendar_date
{%- endmacro %}

{% macro business_time_iso_weekday(date_expr) -%}
    {{ return(adapter.dispatch('business_time_iso_weekday', 'output_kpis')(date_expr)) }}
{%- endmacro %}

{% macro default__business_time_iso_weekday(date_expr) -%}
    cast(extract(isodow from cast({{ date_expr }} as date)) as integer)
{%- endmacro %}

{% macro spark__business_time_iso_weekday(date_expr) -%}
    {#- Spark's dayofweek is 1 = Sunday ... 7 = Saturday. -#}
    (((dayofweek(cast({{ date_expr }} as date)) + 5) % 7) + 1)
{%- endmacro %}

{% macro business_time_open_intervals(business_hours, first_date, last_date) -%}
    {{ return(adapter.dispatch('business_time_open_intervals', 'output_kpis')(
        business_hours, first_date, last_date)) }}
{%- endmacro %}

{% macro default__business_time_open_intervals(business_hours, first_date, last_date) -%}
    {#- One row per schedule x local date x opening window, as UTC [open_at, close_at).
        A close_minute_of_day at or before open_minute_of_day closes on the next local day
        (overnight shifts, '24:00'/'00:00' closings). -#}
    select
        schedule_hours.schedule_id,
        calendar_dates.calendar_date as local_date,
        {{ output_kpis.local_to_utc(
            output_kpis.add_minutes(
                'cast(calendar_dates.calendar_date as timestamp)',
                'schedule_hours.open_minute_of_day'),
            'schedule_hours.time_zone') }} as open_at,
        {{ output_kpis.local_to_utc(
            output_kpis.add_minutes(
                'cast(calendar_dates.calendar_date as timestamp)',
                'case when schedule_hours.close_minute_of_day <= schedule_hours.open_minute_of_day'
                ~ ' then schedule_hours.close_minute_of_day + 1440'
                ~ ' else schedule_hours.close_minute_of_day end'),
            'schedule_hours.time_zone') }} as close_at
    from ({{ output_kpis.business_time_date_series(first_date, last_date) }}) as calendar_dates
    inner join {{ business_hours }} as schedule_hours
        on {{ output_kpis.business_time_iso_weekday('calendar_dates.calendar_date') }}
            = schedule_hours.iso_weekday
{%- endmacro %}

{% macro business_time_clock_intervals(run_segments, open_intervals, key_columns) -%}
    {{ return(adapter.dispatch('business_time_clock_intervals', 'output_kpis')(
        run_segments, open_intervals, key_columns)) }}
{%- endmacro %}

{% macro default__business_time_clock_intervals(run_segments, open_intervals, key_columns) -%}
    {#- Segments with a null schedule_id run on the calendar clock and pass through; the others
        are intersected with their schedule's open intervals. -#}
    select
        {%- for col in key_columns %}
        run_segments.{{ col }},
        {%- endfor %}
        run_segments.segment_start_at as interval_start_at,
        run_segments.segment_end_at as interval_end_at
    from {{ run_segments }} as run_segments
    where
        run_segments.schedule_id is null
        and run_segments.segment_end_at > run_segments.segment_start_at

    union all

    select
        {%- for col in key_columns %}
        run_segments.{{ col }},
        {%- endfor %}
        case
            when open_intervals.open_at > run_segments.segment_start_at
                then open_intervals.open_at
            else run_segments.segment_start_at
        end as interval_start_at,
        case
            when open_intervals.close_at < run_segments.segment_end_at
                then open_intervals.close_at
            else run_segments.segment_end_at
        end as interval_end_at
    from {{ run_segments }} as run_segments
    inner join {{ open_intervals }} as open_intervals
        on
            run_segments.schedule_id = open_intervals.schedule_id
            and open_intervals.open_at < run_segments.segment_end_at
            and open_intervals.close_at > run_segments.segment_start_at
    where run_segments.segment_end_at > run_segments.segment_start_at
{%- endmacro %}

{% macro business_time_deadlines(clock_intervals, targets, key_columns) -%}
    {{ return(adapter.dispatch('business_time_deadlines', 'output_kpis')(
        clock_intervals, targets, key_columns)) }}
{%- endmacro %}

{% macro default__business_time_deadlines(clock_intervals, targets, key_columns) -%}
    {#- The deadline is the first instant the running sum of clock minutes reaches the target:
        inside the interval where the sum crosses it, or at that interval's end when it lands
        exactly there (so a 30-minute target from 16:30 with a 17:00 close is due at 17:00,
        not at the next opening). Keys with no such interval get no row. add_minutes works in
        whole milliseconds, so 12:00:00 never comes out as 11:59:59.999999. -#}
    select
        {%- for col in key_columns %}
        running_intervals.{{ col }},
        {%- endfor %}
        {{ output_kpis.add_minutes(
            'running_intervals.interval_start_at',
            'running_intervals.target_minutes - running_intervals.minutes_before') }}
            as deadline_at
    from (
        select
            {%- for col in key_columns %}
            clock_intervals.{{ col }},
            {%- endfor %}
            clock_intervals.interval_start_at,
            targets.target_minutes,
            {{ output_kpis.minutes_between(
                'clock_intervals.interval_start_at', 'clock_intervals.interval_end_at') }}
                as interval_minutes,
            coalesce(sum({{ output_kpis.minutes_between(
                'clock_intervals.interval_start_at', 'clock_intervals.interval_end_at') }})
                over (
                    partition by
                        {%- for col in key_columns %}
                        clock_intervals.{{ col }}{% if not loop.last %},{% endif %}
                        {%- endfor %}
                    order by clock_intervals.interval_start_at
                    rows between unbounded preceding and 1 preceding
                ), 0) as minutes_before
        from {{ clock_intervals }} as clock_intervals
        inner join {{ targets }} as targets
            on
                {%- for col in key_columns %}
                clock_intervals.{{ col }} = targets.{{ col }}
                {%- if not loop.last %} and{% endif %}
                {%- endfor %}
    ) as running_intervals
    where
        running_intervals.minutes_before < running_intervals.target_minutes
        and running_intervals.minutes_before + running_intervals.interval_minutes
            >= running_intervals.target_minutes
{%- endmacro %}

{% macro business_time_elapsed_minutes(clock_intervals, measure_ends, key_columns) -%}
    {{ return(adapter.dispatch('business_time_elapsed_minutes', 'output_kpis')(
        clock_intervals, measure_ends, key_columns)) }}
{%- endmacro %}

{% macro default__business_time_elapsed_minutes(clock_intervals, measure_ends, key_columns) -%}
    {#- Clock minutes from the start of the clock to measured_until_at. Keys whose clock had
        not run before measured_until_at get no row (coalesce to 0 in the caller). -#}
    select
        {%- for col in key_columns %}
        clock_intervals.{{ col }},
        {%- endfor %}
        sum({{ output_kpis.minutes_between(
            'clock_intervals.interval_start_at',
            'case when clock_intervals.interval_end_at < measure_ends.measured_until_at'
            ~ ' then clock_intervals.interval_end_at else measure_ends.measured_until_at end') }})
            as elapsed_minutes
    from {{ clock_intervals }} as clock_intervals
    inner join {{ measure_ends }} as measure_ends
        on
            {%- for col in key_columns %}
            clock_intervals.{{ col }} = measure_ends.{{ col }}
            {%- if not loop.last %} and{% endif %}
            {%- endfor %}
    where clock_intervals.interval_start_at < measure_ends.measured_until_at
    group by
        {%- for col in key_columns %}
        clock_intervals.{{ col }}{% if not loop.last %},{% endif %}
        {%- endfor %}
{%- endmacro %}
