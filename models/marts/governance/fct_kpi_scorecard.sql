{#- One row per KPI for BI to show in one table: its balanced-scorecard perspective and
    value-chain layer, and, at the grain its owner reviews it (monthly -> month,
    quarterly -> quarter), the latest complete period's value, target, status, anomaly flag,
    output-trap flag and strongest leading-indicator finding, all for the overall slice. -#}
with catalogue as (
    {#- dim_kpis already carries the registry and each volume KPI's paired quality KPIs. #}
    select * from {{ ref('dim_kpis') }}
),

links as (
    select * from {{ ref('int_governance__kpi_links') }}
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

kpi_values as (
    {{- output_kpis.all_kpi_values() }}
),

status as (
    select * from {{ ref('fct_kpi_status') }}
),

anomalies as (
    select * from {{ ref('fct_kpi_anomalies') }}
),

leading_indicators as (
    select * from {{ ref('fct_leading_indicators') }}
),

traps as (
    select * from {{ ref('fct_output_traps') }}
),

kpis as (
    select
        *,
        case review_cadence when 'quarterly' then 'quarter' else 'month' end as review_grain
    from catalogue
),

overall_series as (
    select
        kpi_values.kpi_id,
        kpi_values.grain,
        kpi_values.period_start,
        kpi_values.value,
        periods.period_index
    from kpi_values
    inner join kpis
        on kpi_values.kpi_id = kpis.kpi_id and kpi_values.grain = kpis.review_grain
    inner join periods
        on kpi_values.grain = periods.grain and kpi_values.period_start = periods.period_start
    where kpi_values.dimension_name = 'overall' and periods.is_complete
),

latest as (
    select
        kpi_id,
        max(period_index) as period_index
    from overall_series
    group by kpi_id
),

latest_values as (
    select
        current_period.kpi_id,
        current_period.grain,
        current_period.period_start,
        current_period.value,
        previous_period.value as previous_value
    from overall_series as current_period
    inner join latest
        on
            current_period.kpi_id = latest.kpi_id
            and current_period.period_index = latest.period_index
    left join overall_series as previous_period
        on
            current_period.kpi_id = previous_period.kpi_id
            and previous_period.period_index = current_period.period_index - 1
),

related as (
    {#- A KPI's pairs in either role: an output with its outcomes, an outcome with its outputs. #}
    select
        output_kpi_id as kpi_id,
        outcome_kpi_id as related_kpi_id,
        output_kpi_id,
        outcome_kpi_id
    from links
    union all
    select
        outcome_kpi_id as kpi_id,
        output_kpi_id as related_kpi_id,
        output_kpi_id,
        outcome_kpi_id
    from links
),

related_lists as (
    select
        kpi_id,
        {{ dbt.listagg('related_kpi_id', "', '", "order by related_kpi_id") }} as linked_kpi_ids
    from related
    group by kpi_id
),

ranked_findings as (
    select
        related.kpi_id,
        leading_indicators.output_kpi_id,
        leading_indicators.outcome_kpi_id,
        leading_indicators.best_lag_periods,
        leading_indicators.pearson_correlation,
        leading_indicators.finding,
        row_number() over (
            partition by related.kpi_id
            order by
                abs(leading_indicators.pearson_correlation) desc,
                related.related_kpi_id
        ) as finding_rank
    from related
    inner join kpis on related.kpi_id = kpis.kpi_id
    inner join leading_indicators
        on
            related.output_kpi_id = leading_indicators.output_kpi_id
            and related.outcome_kpi_id = leading_indicators.outcome_kpi_id
            and kpis.review_grain = leading_indicators.grain
    where
        leading_indicators.dimension_name = 'overall'
        and leading_indicators.status = 'significant'
),

latest_traps as (
    select
        related.kpi_id,
        max({{ bool_to_int('traps.is_output_trap') }}) = 1 as is_output_trap
    from related
    inner join latest_values on related.kpi_id = latest_values.kpi_id
    inner join traps
        on
            related.output_kpi_id = traps.output_kpi_id
            and related.outcome_kpi_id = traps.outcome_kpi_id
            and latest_values.grain = traps.grain
            and latest_values.period_start = traps.period_start
    where traps.dimension_name = 'overall'
    group by related.kpi_id
),

final as (
    select
        kpis.kpi_id,
        kpis.kpi_name,
        kpis.bsc_perspective,
        kpis.layer as value_chain_layer,
        kpis.kind,
        kpis.domain,
        kpis.owner,
        kpis.review_cadence,
        kpis.direction,
        kpis.unit,
        kpis.review_grain,
        latest_values.period_start as latest_period_start,
        latest_values.value as latest_value,
        latest_values.previous_value,
        status.target_value,
        status.target_source,
        status.gap,
        status.shortfall_ratio,
        coalesce(
            status.status,
            case when latest_values.kpi_id is null then 'no_data' else 'no_target' end
        ) as status,
        anomalies.is_anomaly,
        anomalies.anomaly_direction,
        anomalies.is_adverse as is_adverse_anomaly,
        latest_traps.is_output_trap,
        related_lists.linked_kpi_ids,
        kpis.paired_quality_kpi_ids,
        case
            when ranked_findings.output_kpi_id = kpis.kpi_id
                then ranked_findings.outcome_kpi_id
            else ranked_findings.output_kpi_id
        end as leading_pair_kpi_id,
        ranked_findings.best_lag_periods as leading_lag_periods,
        ranked_findings.pearson_correlation as leading_correlation,
        ranked_findings.finding as leading_finding,
        {{ as_of_timestamp() }} as as_of_at
    from kpis
    left join latest_values on kpis.kpi_id = latest_values.kpi_id
    left join status
        on {{ same_keys('latest_values', 'status', ['kpi_id', 'grain', 'period_start']) }}
            and status.dimension_name = 'overall'
    left join anomalies
        on {{ same_keys('latest_values', 'anomalies', ['kpi_id', 'grain', 'period_start']) }}
            and anomalies.dimension_name = 'overall'
    left join latest_traps on kpis.kpi_id = latest_traps.kpi_id
    left join related_lists on kpis.kpi_id = related_lists.kpi_id
    left join ranked_findings
        on kpis.kpi_id = ranked_findings.kpi_id and ranked_findings.finding_rank = 1
)

select * from final
