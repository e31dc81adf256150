{#- Serving view behind the semantic layer (models/serving/_serving__semantic.yml): the day
    rows of every KPI with a numerator, so MetricFlow re-aggregates them to any grain as
    sum(numerator) / sum(denominator). Which KPIs get a metric is decided in
    kpi_tooling/semantic_layer.py: not rolled_throughput_yield (a product of step yields) nor
    customer_churn_rate (its denominator, customers active at any time in the period, is not a
    sum of days). -#}
{{ config(grants=output_kpis.serving_grants()) }}
with kpi_values as (
    select * from {{ ref('kpi_values') }}
),

final as (
    select
        kpi_id
        || '|' || cast(period_start as {{ dbt.type_string() }})
        || '|' || dimension_name
        || '|' || dimension_value as kpi_day_component_id,
        kpi_id,
        layer,
        domain,
        period_start as kpi_date,
        dimension_name,
        dimension_value,
        numerator,
        coalesce(denominator, 0) as denominator
    from kpi_values
    where grain = 'day' and numerator is not null
)

select * from final
