{#- Outcome KPIs per grain x period x dimension, on the dimensions they share with outputs. -#}
-- Not published while a KPI governance rule is broken (int_governance__kpi_violations).
-- depends_on: {{ ref('int_governance__kpi_violations') }}
with registry as (
    select * from {{ ref('kpi_registry') }}
),

components as (
    select * from {{ ref('int_outcomes__kpi_components') }}
    union all
    select * from {{ ref('int_outcomes__churn_components') }}
),

final as (
    {{ kpi_values_from_components('components', 'registry') }}
)

{{ kpi_value_columns('final') }}
