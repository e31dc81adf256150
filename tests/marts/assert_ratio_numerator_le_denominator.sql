-- A ratio KPI's numerator is a subset of its denominator: numerator <= denominator, both >= 0.
with kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
    union all
    select * from {{ ref('fct_outcome_values') }}
),

registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
)

select
    kpi_values.kpi_id,
    kpi_values.grain,
    kpi_values.period_start,
    kpi_values.dimension_name,
    kpi_values.dimension_value,
    kpi_values.numerator,
    kpi_values.denominator
from kpi_values
inner join registry on kpi_values.kpi_id = registry.kpi_id
where
    registry.aggregation = 'ratio'
    and (
        kpi_values.numerator > kpi_values.denominator
        or kpi_values.numerator < 0
        or kpi_values.denominator < 0
    )
