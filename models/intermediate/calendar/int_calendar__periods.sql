{#- One row per reporting period (var kpi_grains) from the calendar start to the period holding
    the as_of date, numbered per grain so that series shift by whole periods (lags, trailing
    windows) the same way on every engine. -#}
{%- set day_count_sql = dbt.datediff('period_start', 'next_period_start', 'day') %}
with days as (
    select * from {{ ref('int_calendar__days') }}
),

periods as (
    {%- for grain in var('kpi_grains', ['day', 'week', 'month', 'quarter']) %}
        select
            '{{ grain }}' as grain,
            {{ grain }}_start as period_start,
            cast({{ add_periods(grain, 1, grain ~ '_start') }} as date) as next_period_start,
            count(*) as elapsed_day_count
        from days
        group by {{ grain }}_start
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        grain,
        period_start,
        cast({{ dbt.dateadd('day', -1, 'next_period_start') }} as date) as period_end,
        row_number() over (partition by grain order by period_start) as period_index,
        {{ day_count_sql }} as day_count,
        elapsed_day_count,
        next_period_start <= {{ as_of_timestamp() }} as is_complete
    from periods
)

select * from final
