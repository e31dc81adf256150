{#- Serving view: each KPI against its target (stated or derived backward from an outcome
    target) by grain, period and dimension, with the gap and an on_track / at_risk / off_track
    status. -#}
{{ config(grants=output_kpis.serving_grants()) }}
with status as (
    select * from {{ ref('fct_kpi_status') }}
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
        target_source,
        direction,
        gap,
        shortfall_ratio,
        status,
        as_of_at
    from status
)

select * from final
