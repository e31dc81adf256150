{#- One row per reporting period (var kpi_grains) from the calendar start to the period holding
    the as_of date, numbered per grain so that series shift by whole periods (lags, trailing
    windows) the same way on every engine. Day counts are computed from the period's bounds,
    not counted in the calendar, so a first period that began before the calendar's first day
    still counts whole. -#}
{%- set day_count_sql = dbt.datediff('period_start', 'next_period_start', 'day') %}
{%- set elapsed_day_count_sql = dbt.datediff('period_start', 'elapsed_end', 'day') %}
with days as (
    select * from {{ ref('int_calendar__days') }}
),

as_of as (
    select
        cast({{ dbt.dateadd('day', 1, 'cast(' ~ as_of_timestamp() ~ ' as date)') }} as date)
            as day_after_as_of
),

periods as (
    {%- for grain in output_kpis.reporting_grains() %}
        select
            '{{ grain }}' as grain,
            {{ grain }}_start as period_start,
            cast({{ add_periods(grain, 1, grain ~ '_start') }} as date) as next_period_start
        from days
        group by {{ grain }}_start
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

bounded as (
    select
        periods.grain,
        periods.period_start,
        periods.next_period_start,
        -- the day after the last elapsed day: the period's end, or the day after as_of
        case
            when periods.next_period_start < as_of.day_after_as_of then periods.next_period_start
            else as_of.day_after_as_of
        end as elapsed_end
    from periods
    cross join as_of
),

final as (
    select
        grain,
        period_start,
        cast({{ dbt.dateadd('day', -1, 'next_period_start') }} as date) as period_end,
        row_number() over (partition by grain order by period_start) as period_index,
        {{ day_count_sql }} as day_count,
        {{ elapsed_day_count_sql }} as elapsed_day_count,
        next_period_start <= {{ as_of_timestamp() }} as is_complete
    from bounded
)

select * from final
