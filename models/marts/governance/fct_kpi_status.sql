{#- Each KPI against its target, per grain x period x slice that has both a value and a target.
    Shortfall is the gap on the KPI's bad side as a share of the target (direction from the
    registry); vars kpi_status_on_track_tolerance and kpi_status_at_risk_tolerance cut it into
    on_track / at_risk / off_track. A count KPI in a period still running is compared with
    the target pro-rated to the days elapsed, so a half month is not "off track" for being
    half done. A KPI whose source table is empty (no row staged) is no_data, never graded:
    an empty claims table makes the return rate 0, which would read as on track. -#}
{%- set on_track = number_var('kpi_status_on_track_tolerance', 0.0) %}
{%- set at_risk = number_var('kpi_status_at_risk_tolerance', 0.05) %}
{%- if at_risk < on_track %}
    {{ exceptions.raise_compiler_error(
        "var 'kpi_status_at_risk_tolerance' must be >= 'kpi_status_on_track_tolerance'") }}
{%- endif %}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

targets as (
    select * from {{ ref('fct_kpi_targets') }}
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

source_rows as (
    select * from {{ ref('int_governance__kpi_source_rows') }}
),

-- KPIs counted from a raw table with no staged row
kpis_without_data as (
    select distinct kpi_id
    from source_rows
    where staged_rows = 0
),

kpi_values as (
    {{- output_kpis.all_kpi_values() }}
),

compared as (
    select
        kpi_values.kpi_id,
        kpi_values.kpi_name,
        kpi_values.domain,
        kpi_values.grain,
        kpi_values.period_start,
        kpi_values.dimension_name,
        kpi_values.dimension_value,
        periods.is_complete as is_period_complete,
        kpi_values.value,
        targets.target_value,
        case
            when registry.aggregation = 'count' and not periods.is_complete
                then targets.target_value * periods.elapsed_day_count / periods.day_count
            else targets.target_value
        end as comparable_target_value,
        targets.target_source,
        registry.direction,
        kpis_without_data.kpi_id is not null as has_empty_source,
        kpi_values.as_of_at
    from kpi_values
    inner join targets
        on {{ same_keys('kpi_values', 'targets', kpi_point_keys()) }}
    inner join registry on kpi_values.kpi_id = registry.kpi_id
    left join kpis_without_data on kpi_values.kpi_id = kpis_without_data.kpi_id
    inner join periods
        on
            kpi_values.grain = periods.grain
            and kpi_values.period_start = periods.period_start
),

scored as (
    select
        *,
        value - comparable_target_value as gap,
        case
            when value is null or comparable_target_value = 0 then null
            when direction = 'higher_is_better'
                then (comparable_target_value - value) / abs(comparable_target_value)
            else (value - comparable_target_value) / abs(comparable_target_value)
        end as shortfall_ratio
    from compared
),

final as (
    select
        kpi_id,
        kpi_name,
        domain,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        is_period_complete,
        value,
        target_value,
        comparable_target_value,
        target_source,
        direction,
        gap,
        shortfall_ratio,
        case
            when value is null or has_empty_source then 'no_data'
            {#- A zero target: any step to the bad side is off track. #}
            when comparable_target_value = 0
                then
                    case
                        when
                            (direction = 'higher_is_better' and value >= 0)
                            or (direction = 'lower_is_better' and value <= 0)
                            then 'on_track'
                        else 'off_track'
                    end
            when shortfall_ratio <= {{ on_track }} then 'on_track'
            when shortfall_ratio <= {{ at_risk }} then 'at_risk'
            else 'off_track'
        end as status,
        as_of_at
    from scored
)

select * from final
