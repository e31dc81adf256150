{#- Outcome KPIs per grain x period x dimension, on the dimensions they share with outputs. -#}
-- Not published while a KPI governance rule is broken (int_governance__kpi_violations).
-- depends_on: {{ ref('int_governance__kpi_violations') }}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

components as (
    select * from {{ ref('int_outcomes__kpi_components') }}
    union all
    select * from {{ ref('int_outcomes__churn_components') }}
),

declared_components as (
    -- the declared outcome KPIs (docs/adding_a_kpi.md)
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator
    from {{ ref('int_units__kpi_components') }}
    where {{ output_kpis.declared_kpi_condition('kpi_id', 'outcome') }}
),

all_components as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator
    from components
    union all
    select * from declared_components
),

final as (
    {{ kpi_values_from_components('all_components', 'registry') }}
)

{{ kpi_value_columns('final') }}
