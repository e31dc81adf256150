{#- Outcome KPIs per grain x period x dimension, on the dimensions they share with outputs. -#}
-- Not published while a KPI governance rule is broken (int_governance__kpi_violations).
-- depends_on: {{ ref('int_governance__kpi_violations') }}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

components as (
    {%- for model in ['int_outcomes__kpi_components', 'int_outcomes__churn_components',
        'int_units__kpi_components'] %}
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator
    from {{ ref(model) }}
    {%- if model == 'int_units__kpi_components' %}
    -- the declared outcome KPIs (docs/adding_a_kpi.md)
    where {{ output_kpis.declared_kpi_condition('kpi_id', 'outcome') }}
    {%- else %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    {{ kpi_values_from_components('components', 'registry') }}
)

{{ kpi_value_columns('final') }}
