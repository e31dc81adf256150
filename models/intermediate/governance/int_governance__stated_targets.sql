{#- Targets as stated (int_governance__target_statements: the outcome_targets and
    output_targets seeds and the declared KPIs' targets), one row per period they apply to: a
    row covers every period of its grain (var kpi_grains) whose start lies in
    valid_from..valid_to (open-ended when valid_to is empty), up to the period holding as_of.
    The periods are generated from the targets' own dates, not read from the data calendar
    (int_calendar__days), so the governance checks build from the reference seeds alone. -#}
with stated as (
    select * from {{ ref('int_governance__target_statements') }}
),

bounds as (
    select
        min(valid_from) as first_date,
        cast({{ as_of_timestamp() }} as date) as last_date
    from stated
),

days as (
    {{ output_kpis.days_between('bounds', 'first_date', 'last_date') }}
),

periods as (
    {%- for grain in output_kpis.reporting_grains() %}
        select distinct
            '{{ grain }}' as grain,
            {{ output_kpis.period_start(grain, 'calendar_date') }} as period_start
        from days
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        stated.kpi_id,
        stated.grain,
        periods.period_start,
        stated.dimension_name,
        stated.dimension_value,
        cast(stated.target_value as {{ output_kpis.type_double() }}) as target_value,
        stated.target_source,
        stated.note
    from stated
    inner join periods
        on
            stated.grain = periods.grain
            and stated.valid_from <= periods.period_start
            and (stated.valid_to is null or stated.valid_to >= periods.period_start)
)

select * from final
