{#- Every stated target, as written: the outcome_targets and output_targets seeds and the
    declared KPIs' `target` rows (an outcome's beside outcome_targets, an output's beside
    output_targets), with target_source outcome_target or explicit. -#}
with outcome_targets as (
    select * from {{ ref('outcome_targets') }}
),

output_targets as (
    select * from {{ ref('output_targets') }}
),

declared as (
    {{ output_kpis.declared_target_rows() }}
),

final as (
    select
        kpi_id,
        grain,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        dimension_name,
        dimension_value,
        cast(target_value as {{ output_kpis.type_double() }}) as target_value,
        note,
        'outcome_target' as target_source,
        'outcome_targets' as defined_in
    from outcome_targets
    union all
    select
        kpi_id,
        grain,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        dimension_name,
        dimension_value,
        cast(target_value as {{ output_kpis.type_double() }}) as target_value,
        note,
        'explicit' as target_source,
        'output_targets' as defined_in
    from output_targets
    union all
    select
        kpi_id,
        grain,
        valid_from,
        valid_to,
        dimension_name,
        dimension_value,
        target_value,
        note,
        case when layer = 'outcome' then 'outcome_target' else 'explicit' end as target_source,
        'declaration' as defined_in
    from declared
)

select * from final
