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

{% macro sla_clock_calendar_bounds(measurements) -%}
    {#- first_date, last_date: every local date an SLA clock of these measurements can run on
        (a day either side of [started_at, horizon_at], for zone offsets). One row. -#}
    select
        {{ dbt.dateadd('day', -1, 'min(cast(started_at as date))') }} as first_date,
        {{ dbt.dateadd('day', 1, 'max(cast(horizon_at as date))') }} as last_date
    from {{ measurements }}
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

{#- Cumulative clock: instead of intersecting every run segment with every open interval of its
    horizon (tens of rows per segment), each open interval carries the business milliseconds
    of its schedule before it, so the clock time of [a, b) is F(b) - F(a), with F looked up
    once per segment end. All sums are whole milliseconds (exact); minutes only at the end. -#}

{% macro business_time_epoch_ms(timestamp_expr) -%}
    {{ return(adapter.dispatch('business_time_epoch_ms', 'output_kpis')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__business_time_epoch_ms(timestamp_expr) -%}
    cast(round(extract(epoch from cast({{ timestamp_expr }} as timestamp)) * 1000) as bigint)
{%- endmacro %}

{% macro duckdb__business_time_epoch_ms(timestamp_expr) -%}
    epoch_ms(cast({{ timestamp_expr }} as timestamp))
{%- endmacro %}

{% macro spark__business_time_epoch_ms(timestamp_expr) -%}
    unix_millis(cast({{ timestamp_expr }} as timestamp))
{%- endmacro %}

{% macro business_time_open_index(open_intervals) -%}
    {#- The open intervals of each schedule in time order with their length and the business
        milliseconds before them (cum_before_ms), and the next interval's opening. Windows of
        one schedule must not overlap. -#}
    select
        indexed.schedule_id,
        indexed.open_at,
        indexed.close_at,
        indexed.open_ms,
        indexed.interval_ms,
        indexed.next_open_at,
        coalesce(sum(indexed.interval_ms) over (
            partition by indexed.schedule_id
            order by indexed.open_at
            rows between unbounded preceding and 1 preceding
        ), 0) as cum_before_ms
    from (
        select
            open_intervals.schedule_id,
            open_intervals.open_at,
            open_intervals.close_at,
            {{ output_kpis.business_time_epoch_ms('open_intervals.open_at') }} as open_ms,
            {{ output_kpis.business_time_epoch_ms('open_intervals.close_at') }}
            - {{ output_kpis.business_time_epoch_ms('open_intervals.open_at') }} as interval_ms,
            {#- the last interval's stretch runs to a far future, so joins need no `or` -#}
            coalesce(lead(open_intervals.open_at) over (
                partition by open_intervals.schedule_id order by open_intervals.open_at
            ), cast('9999-12-31 00:00:00' as timestamp)) as next_open_at
        from {{ open_intervals }} as open_intervals
    ) as indexed
{%- endmacro %}

{% macro business_time_open_lookup(open_index, first_date, last_date) -%}
    {#- For looking up F(t) with an equi-join: one row per schedule x UTC date x open interval
        whose stretch [open_at, next opening; the last one's
        to a far future) touches that date. -#}
    select
        open_index.*,
        calendar_dates.calendar_date as lookup_date
    from {{ open_index }} as open_index
    inner join ({{ output_kpis.business_time_date_series(first_date, last_date) }}) as calendar_dates
        on
            calendar_dates.calendar_date >= cast(open_index.open_at as date)
            and calendar_dates.calendar_date <= cast(open_index.next_open_at as date)
{%- endmacro %}

{% macro business_time_cumulative_ms(lookup_alias, point_expr) -%}
    {#- F(point): business milliseconds of the schedule before the point, from the open_lookup
        row joined for it (null when none: no interval opened before the point). -#}
    coalesce({{ lookup_alias }}.cum_before_ms + case
        when {{ output_kpis.business_time_epoch_ms(point_expr) }} - {{ lookup_alias }}.open_ms
            > {{ lookup_alias }}.interval_ms
            then {{ lookup_alias }}.interval_ms
        else {{ output_kpis.business_time_epoch_ms(point_expr) }} - {{ lookup_alias }}.open_ms
    end, 0)
{%- endmacro %}

{% macro business_time_lookup_join(lookup_relation, lookup_alias, schedule_expr, point_expr) -%}
    left join {{ lookup_relation }} as {{ lookup_alias }}
        on
            {{ schedule_expr }} = {{ lookup_alias }}.schedule_id
            and cast({{ point_expr }} as date) = {{ lookup_alias }}.lookup_date
            and {{ lookup_alias }}.open_at <= {{ point_expr }}
            and {{ point_expr }} < {{ lookup_alias }}.next_open_at
{%- endmacro %}

{% macro business_time_segment_clock(run_segments, open_lookup, measure_ends, key_columns) -%}
    {#- One row per non-empty run segment: the key columns, segment_start_at, schedule_id,
        start_cum_ms (F at the start; epoch ms on the calendar clock), segment_ms (clock
        milliseconds in the segment) and elapsed_ms (clock milliseconds in the segment before
        the key's measured_until_at). -#}
    select
        {%- for col in key_columns %}
        segments.{{ col }},
        {%- endfor %}
        segments.schedule_id,
        segments.segment_start_at,
        case
            when segments.schedule_id is null
                then {{ output_kpis.business_time_epoch_ms('segments.segment_start_at') }}
            else {{ output_kpis.business_time_cumulative_ms('start_lookup', 'segments.segment_start_at') }}
        end as start_cum_ms,
        case
            when segments.schedule_id is null
                then {{ output_kpis.business_time_epoch_ms('segments.segment_end_at') }}
            else {{ output_kpis.business_time_cumulative_ms('end_lookup', 'segments.segment_end_at') }}
        end as end_cum_ms,
        case
            when segments.elapsed_end_at <= segments.segment_start_at then null
            when segments.schedule_id is null
                then {{ output_kpis.business_time_epoch_ms('segments.elapsed_end_at') }}
            else {{ output_kpis.business_time_cumulative_ms('elapsed_lookup', 'segments.elapsed_end_at') }}
        end as elapsed_cum_ms
    from (
        select
            run_segments.*,
            case
                when measure_ends.measured_until_at < run_segments.segment_end_at
                    then measure_ends.measured_until_at
                else run_segments.segment_end_at
            end as elapsed_end_at
        from {{ run_segments }} as run_segments
        inner join {{ measure_ends }} as measure_ends
            on
                {%- for col in key_columns %}
                run_segments.{{ col }} = measure_ends.{{ col }}
                {%- if not loop.last %} and{% endif %}
                {%- endfor %}
        where run_segments.segment_end_at > run_segments.segment_start_at
    ) as segments
    {{ output_kpis.business_time_lookup_join(
        open_lookup, 'start_lookup', 'segments.schedule_id', 'segments.segment_start_at') }}
    {{ output_kpis.business_time_lookup_join(
        open_lookup, 'end_lookup', 'segments.schedule_id', 'segments.segment_end_at') }}
    {{ output_kpis.business_time_lookup_join(
        open_lookup, 'elapsed_lookup', 'segments.schedule_id', 'segments.elapsed_end_at') }}
{%- endmacro %}

{% macro business_time_segment_deadlines(segment_clock, open_index, targets, key_columns) -%}
    {#- The instant each clock reaches its target (as business_time_deadlines): the segment in
        which the running clock milliseconds cross target_minutes, then, on a business clock,
        the open interval in which the schedule's cumulative milliseconds reach that value
        (found with an equi-join on whole days of cumulative business time). A crossing exactly
        at an interval's end is due at that end, flagged is_at_interval_end = 1. Keys never
        reaching the target get no row. -#}
    {%- set day_ms = 86400000 %}
    select
        {%- for col in key_columns %}
        crossings.{{ col }},
        {%- endfor %}
        case
            when crossings.schedule_id is null
                then {{ output_kpis.add_minutes(
                    'crossings.segment_start_at',
                    '(crossings.target_ms - crossings.ms_before) / 60000.0') }}
            else {{ output_kpis.add_minutes(
                'reaching_intervals.open_at',
                '(crossings.target_cum_ms - reaching_intervals.cum_before_ms) / 60000.0') }}
        end as deadline_at,
        {#- reached exactly at the end of a clock interval: the running sum of float minutes of
            business_time_deadlines may land a hair under the target there and move the
            deadline to the next opening, so the caller recomputes these few keys with it -#}
        case
            when crossings.ms_before + crossings.segment_ms = crossings.target_ms then 1
            when crossings.target_cum_ms
                = reaching_intervals.cum_before_ms + reaching_intervals.interval_ms then 1
            else 0
        end as is_at_interval_end
    from (
        select
            running.*,
            running.start_cum_ms + running.target_ms - running.ms_before as target_cum_ms
        from (
            select
                {%- for col in key_columns %}
                segment_clock.{{ col }},
                {%- endfor %}
                segment_clock.schedule_id,
                segment_clock.segment_start_at,
                segment_clock.start_cum_ms,
                segment_clock.end_cum_ms - segment_clock.start_cum_ms as segment_ms,
                cast(targets.target_minutes as bigint) * 60000 as target_ms,
                coalesce(sum(segment_clock.end_cum_ms - segment_clock.start_cum_ms) over (
                    partition by
                        {%- for col in key_columns %}
                        segment_clock.{{ col }}{% if not loop.last %},{% endif %}
                        {%- endfor %}
                    order by segment_clock.segment_start_at
                    rows between unbounded preceding and 1 preceding
                ), 0) as ms_before
            from {{ segment_clock }} as segment_clock
            inner join {{ targets }} as targets
                on
                    {%- for col in key_columns %}
                    segment_clock.{{ col }} = targets.{{ col }}
                    {%- if not loop.last %} and{% endif %}
                    {%- endfor %}
        ) as running
        where
            running.ms_before < running.target_ms
            and running.ms_before + running.segment_ms >= running.target_ms
    ) as crossings
    left join (
        {%- for day_offset in [0, 1, 2] %}
        select
            open_index.schedule_id,
            open_index.open_at,
            open_index.cum_before_ms,
            open_index.interval_ms,
            cast(floor(open_index.cum_before_ms / {{ day_ms }}.0) as bigint) + {{ day_offset }}
                as cum_day
        from {{ open_index }} as open_index
        where
            open_index.interval_ms > 0
            and cast(floor(open_index.cum_before_ms / {{ day_ms }}.0) as bigint) + {{ day_offset }}
            <= cast(floor((open_index.cum_before_ms + open_index.interval_ms - 1) / {{ day_ms }}.0)
                as bigint)
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as reaching_intervals
        on
            crossings.schedule_id = reaching_intervals.schedule_id
            and cast(floor((crossings.target_cum_ms - 1) / {{ day_ms }}.0) as bigint)
            = reaching_intervals.cum_day
            and reaching_intervals.cum_before_ms < crossings.target_cum_ms
            and crossings.target_cum_ms
            <= reaching_intervals.cum_before_ms + reaching_intervals.interval_ms
{%- endmacro %}
