{#- The public KPI mart: one row per output KPI x grain x period x dimension value. -#}
-- Not published while a KPI governance rule is broken (int_governance__kpi_violations).
-- depends_on: {{ ref('int_governance__kpi_violations') }}
with registry as (
    select * from {{ ref('kpi_registry') }}
),

step_yields as (
    select * from {{ ref('fct_manufacturing_step_yields') }}
),

components as (
    {%- for domain in ['manufacturing', 'fulfilment', 'service', 'sales'] %}
        select
            kpi_id,
            grain,
            period_start,
            dimension_name,
            dimension_value,
            numerator,
            denominator
        from {{ ref('int_' ~ domain ~ '__kpi_components') }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

ratio_values as (
    {{ kpi_values_from_components('components', 'registry') }}
),

rolled_throughput_yield as (
    {#- Product of step yields via exp(sum(ln)); a step with zero yield makes the product 0. -#}
    select
        'rolled_throughput_yield' as kpi_id,
        registry.kpi_name,
        registry.domain,
        step_yields.grain,
        step_yields.period_start,
        step_yields.dimension_name,
        step_yields.dimension_value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        case
            when min(step_yields.first_pass_yield) = 0 then 0.0
            else exp(sum(ln(nullif(step_yields.first_pass_yield, 0))))
        end as value
    from step_yields
    left join registry on registry.kpi_id = 'rolled_throughput_yield'
    where step_yields.inspected_count > 0
    group by
        registry.kpi_name,
        registry.domain,
        step_yields.grain,
        step_yields.period_start,
        step_yields.dimension_name,
        step_yields.dimension_value
),

final as (
    select * from ratio_values
    union all
    select * from rolled_throughput_yield
)

{{ kpi_value_columns('final') }}
