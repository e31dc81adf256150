-- Every coarser period row (week, month, quarter, year: var kpi_grains) equals the sum of its
-- day rows (sum/sum roll-up, nothing averaged, nothing lost between grains). Returns the slices
-- where they differ. Periods are computed from each day with period_start, not looked up in the
-- calendar, so this checks the roll-up alone (assert_calendar_covers_reported_days checks the
-- calendar). Without 'day' in kpi_grains there is nothing to compare.
{%- set grains = output_kpis.reporting_grains() %}
{%- set coarser = [] %}
{%- for grain in grains if grain != 'day' and 'day' in grains %}
    {%- do coarser.append(grain) %}
{%- endfor %}
with kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
    where numerator is not null
),

days as (
    select * from kpi_values
    where grain = 'day'
),

rolled_from_days as (
    {%- for grain in coarser %}
        select
            '{{ grain }}' as grain,
            kpi_id,
            dimension_name,
            dimension_value,
            {{ output_kpis.period_start(grain, 'period_start') }} as period_start,
            sum(numerator) as numerator,
            sum(denominator) as denominator
        from days
        group by
            kpi_id,
            dimension_name,
            dimension_value,
            {{ output_kpis.period_start(grain, 'period_start') }}
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as grain,
        cast(null as {{ dbt.type_string() }}) as kpi_id,
        cast(null as {{ dbt.type_string() }}) as dimension_name,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        cast(null as date) as period_start,
        cast(null as {{ output_kpis.type_double() }}) as numerator,
        cast(null as {{ output_kpis.type_double() }}) as denominator
    where 1 = 0
),

reported as (
    select * from kpi_values
    where
        {%- for grain in coarser %}
            grain = '{{ grain }}'{% if not loop.last %} or{% endif %}
        {%- else %}
            1 = 0
        {%- endfor %}
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
