{#- Serving view: every evaluated period of the output-trap check per linked output -> outcome
    pair, grain and dimension value (output up, outcome flat), for chart markers. -#}
{{ config(grants=output_kpis.serving_grants()) }}
with traps as (
    select * from {{ ref('fct_output_traps') }}
),

final as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        period_start,
        output_improvement,
        outcome_improvement,
        evaluation_status,
        is_output_trap,
        as_of_at
    from traps
)

select * from final
