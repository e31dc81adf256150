{#- Volume -> quality pairs: the kpi_pairs seed and the declared KPIs' `paired_with`. -#}
with seeded as (
    select * from {{ ref('kpi_pairs') }}
),

declared as (
    {{ output_kpis.declared_pair_rows() }}
),

final as (
    select
        volume_kpi_id,
        quality_kpi_id,
        rationale,
        'kpi_pairs' as defined_in
    from seeded
    union all
    select
        volume_kpi_id,
        quality_kpi_id,
        rationale,
        'declaration' as defined_in
    from declared
)

select * from final
