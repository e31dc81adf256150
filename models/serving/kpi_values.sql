{#- Serving view: every KPI value (output, input and outcome KPIs) by grain, period and
    dimension, with its numerator, denominator, unit and anomaly flag. The one table a
    dashboard's tiles, trend charts and filters need. With the outcomes domain switched off it
    holds the output KPIs alone, with no anomaly flags. -#}
{{ config(grants=output_kpis.serving_grants()) }}
with all_values as (
    {{- output_kpis.all_kpi_values() }}
),

kpis as (
    select * from {{ ref('dim_kpis') }}
),

anomalies as (
    select * from {{ output_kpis.domain_ref('fct_kpi_anomalies') }}
),

final as (
    select
        all_values.kpi_id,
        kpis.kpi_name,
        kpis.layer,
        kpis.domain,
        kpis.unit,
        kpis.direction,
        all_values.grain,
        all_values.period_start,
        all_values.dimension_name,
        all_values.dimension_value,
        all_values.numerator,
        all_values.denominator,
        all_values.value,
        coalesce(anomalies.is_anomaly, false) as is_anomaly,
        anomalies.anomaly_direction,
        coalesce(anomalies.is_adverse, false) as is_adverse_anomaly,
        all_values.as_of_at
    from all_values
    inner join kpis on all_values.kpi_id = kpis.kpi_id
    left join anomalies
        on {{ same_keys('all_values', 'anomalies', kpi_point_keys()) }}
)

select * from final
