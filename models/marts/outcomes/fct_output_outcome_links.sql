{#- Each output KPI beside the outcome KPIs it should drive (kpi_links), for the same grain,
    period and dimension value: the input to lead/lag and output-trap analysis. Only slices
    both sides report on appear (an output sliced by line pairs with an outcome sliced by line). -#}
with links as (
    select * from {{ ref('int_governance__kpi_links') }}
),

outputs as (
    select * from {{ ref('fct_kpi_values') }}
),

outcomes as (
    select * from {{ ref('fct_outcome_values') }}
),

final as (
    select
        links.output_kpi_id,
        links.outcome_kpi_id,
        links.expected_relationship,
        outputs.grain,
        outputs.period_start,
        outputs.dimension_name,
        outputs.dimension_value,
        outputs.numerator as output_numerator,
        outputs.denominator as output_denominator,
        outputs.value as output_value,
        outcomes.numerator as outcome_numerator,
        outcomes.denominator as outcome_denominator,
        outcomes.value as outcome_value,
        outputs.as_of_at
    from links
    inner join outputs on links.output_kpi_id = outputs.kpi_id
    inner join outcomes
        on
            links.outcome_kpi_id = outcomes.kpi_id
            and outputs.grain = outcomes.grain
            and outputs.period_start = outcomes.period_start
            and outputs.dimension_name = outcomes.dimension_name
            and outputs.dimension_value = outcomes.dimension_value
)

select * from final
