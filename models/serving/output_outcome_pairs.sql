{#- Serving view: one row per linked output -> outcome pair, grain and dimension value: the
    leading-indicator finding (best lag, correlation, significance) and the output-trap
    verdict of the latest evaluated period, with how many periods were flagged. -#}
{{ config(grants=output_kpis.serving_grants()) }}
with leading_indicators as (
    select * from {{ ref('fct_leading_indicators') }}
),

traps as (
    select * from {{ ref('fct_output_traps') }}
),

kpis as (
    select * from {{ ref('dim_kpis') }}
),

latest_evaluation as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        max(period_start) as latest_period_start,
        sum({{ bool_to_int('is_output_trap') }}) as output_trap_period_count
    from traps
    group by output_kpi_id, outcome_kpi_id, grain, dimension_name, dimension_value
),

latest_trap as (
    select
        latest_evaluation.*,
        traps.evaluation_status as latest_trap_status,
        traps.is_output_trap as is_output_trap_latest
    from latest_evaluation
    inner join traps
        on
            latest_evaluation.output_kpi_id = traps.output_kpi_id
            and latest_evaluation.outcome_kpi_id = traps.outcome_kpi_id
            and latest_evaluation.grain = traps.grain
            and latest_evaluation.dimension_name = traps.dimension_name
            and latest_evaluation.dimension_value = traps.dimension_value
            and latest_evaluation.latest_period_start = traps.period_start
),

final as (
    select
        leading_indicators.output_kpi_id,
        output_kpis.kpi_name as output_kpi_name,
        leading_indicators.outcome_kpi_id,
        outcome_kpis.kpi_name as outcome_kpi_name,
        leading_indicators.expected_relationship,
        leading_indicators.grain,
        leading_indicators.dimension_name,
        leading_indicators.dimension_value,
        leading_indicators.best_lag_periods,
        leading_indicators.pearson_correlation,
        leading_indicators.paired_period_count,
        leading_indicators.fisher_z,
        leading_indicators.status as lag_status,
        leading_indicators.is_sign_as_expected,
        leading_indicators.finding,
        latest_trap.latest_period_start as latest_trap_period_start,
        latest_trap.latest_trap_status,
        coalesce(latest_trap.is_output_trap_latest, false) as is_output_trap_latest,
        cast(
            coalesce(latest_trap.output_trap_period_count, 0) as integer
        ) as output_trap_period_count,
        leading_indicators.as_of_at
    from leading_indicators
    inner join kpis as output_kpis on leading_indicators.output_kpi_id = output_kpis.kpi_id
    inner join kpis as outcome_kpis on leading_indicators.outcome_kpi_id = outcome_kpis.kpi_id
    left join latest_trap
        on {{ same_keys('leading_indicators', 'latest_trap', pair_series_keys()) }}
)

select * from final
