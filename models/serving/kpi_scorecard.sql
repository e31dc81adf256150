{#- Serving view: the scorecard, one row per KPI at its review grain (latest complete
    period, target, status, anomaly and output-trap flags, strongest leading indicator). -#}
{{ config(grants=output_kpis.serving_grants()) }}
with scorecard as (
    select * from {{ ref('fct_kpi_scorecard') }}
),

final as (
    select
        kpi_id,
        kpi_name,
        bsc_perspective,
        value_chain_layer,
        kind,
        domain,
        owner,
        review_cadence,
        direction,
        unit,
        review_grain,
        latest_period_start,
        latest_value,
        previous_value,
        target_value,
        target_source,
        gap,
        shortfall_ratio,
        status,
        is_anomaly,
        anomaly_direction,
        is_adverse_anomaly,
        is_output_trap,
        linked_kpi_ids,
        paired_quality_kpi_ids,
        leading_pair_kpi_id,
        leading_lag_periods,
        leading_correlation,
        leading_finding,
        as_of_at
    from scorecard
)

select * from final
