-- Every week, month and quarter row equals the sum of its day rows (sum/sum roll-up, nothing
-- averaged, nothing lost between grains). Returns the slices where they differ.
with kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
    where numerator is not null
),

calendar as (
    select * from {{ ref('int_calendar__days') }}
),

days as (
    select
        kpi_values.kpi_id,
        kpi_values.dimension_name,
        kpi_values.dimension_value,
        kpi_values.numerator,
        kpi_values.denominator,
        calendar.week_start,
        calendar.month_start,
        calendar.quarter_start
    from kpi_values
    inner join calendar on kpi_values.period_start = calendar.calendar_date
    where kpi_values.grain = 'day'
),

{%- for grain in ['week', 'month', 'quarter'] %}
    {{ grain }}_from_days as (
        select
            '{{ grain }}' as grain,
            kpi_id,
            dimension_name,
            dimension_value,
            {{ grain }}_start as period_start,
            sum(numerator) as numerator,
            sum(denominator) as denominator
        from days
        group by kpi_id, dimension_name, dimension_value, {{ grain }}_start
    ),
{%- endfor %}

rolled_from_days as (
    select * from week_from_days
    union all
    select * from month_from_days
    union all
    select * from quarter_from_days
),

reported as (
    select * from kpi_values
    where grain in ('week', 'month', 'quarter')
)

select
    reported.kpi_id,
    reported.grain,
    reported.period_start,
    reported.dimension_name,
    reported.dimension_value,
    reported.numerator,
    rolled_from_days.numerator as numerator_from_days,
    reported.denominator,
    rolled_from_days.denominator as denominator_from_days
from reported
left join rolled_from_days
    on
        reported.kpi_id = rolled_from_days.kpi_id
        and reported.grain = rolled_from_days.grain
        and reported.period_start = rolled_from_days.period_start
        and reported.dimension_name = rolled_from_days.dimension_name
        and reported.dimension_value = rolled_from_days.dimension_value
where
    rolled_from_days.kpi_id is null
    or abs(reported.numerator - rolled_from_days.numerator) > 1e-6
    or abs(coalesce(reported.denominator, 0) - coalesce(rolled_from_days.denominator, 0)) > 1e-6
