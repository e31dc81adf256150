{#- Output -> outcome links: the kpi_links seed and the declared KPIs' `outcomes`. -#}
with seeded as (
    select * from {{ ref('kpi_links') }}
),

declared as (
    {{ output_kpis.declared_link_rows() }}
),

final as (
    select
        output_kpi_id,
        outcome_kpi_id,
        expected_relationship,
        rationale,
        'kpi_links' as defined_in
    from seeded
    union all
    select
        output_kpi_id,
        outcome_kpi_id,
        expected_relationship,
        rationale,
        'declaration' as defined_in
    from declared
)

select * from final
