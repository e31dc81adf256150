{#- The KPI catalogue as a mart for BI: what each KPI means, how it rolls up, who owns it,
    which outcome KPIs each output KPI is meant to drive and which quality KPI keeps each volume
    KPI honest; and, one hop each, the model producing its units, the GE suite enforcing its
    definition and the mart serving its values (int_governance__kpi_registry, the hub). -#}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
    -- KPIs of enabled domains only (vars output_kpis_enable_*)
    where {{ output_kpis.kpi_enabled_condition() }}
),

links as (
    select * from {{ ref('int_governance__kpi_links') }}
),

pairs as (
    select * from {{ ref('int_governance__kpi_pairs') }}
),

paired_quality as (
    select
        volume_kpi_id as kpi_id,
        {{ dbt.listagg('quality_kpi_id', "', '", "order by quality_kpi_id") }}
            as paired_quality_kpi_ids
    from pairs
    group by volume_kpi_id
),

linked_outcomes as (
    select
        output_kpi_id as kpi_id,
        {{ dbt.listagg('outcome_kpi_id', "', '", "order by outcome_kpi_id") }}
            as linked_outcome_kpi_ids,
        count(*) as linked_outcome_count
    from links
    group by output_kpi_id
),

final as (
    select
        registry.kpi_id,
        registry.kpi_name,
        registry.layer,
        registry.kind,
        registry.domain,
        registry.unit_of_output,
        registry.formula,
        registry.aggregation,
        cast(registry.multiplier as {{ output_kpis.type_double() }}) as multiplier,
        registry.unit,
        registry.direction,
        registry.owner,
        registry.review_cadence,
        registry.target_method,
        registry.bsc_perspective,
        registry.exclusions,
        linked_outcomes.linked_outcome_kpi_ids,
        cast(coalesce(linked_outcomes.linked_outcome_count, 0) as integer) as linked_outcome_count,
        paired_quality.paired_quality_kpi_ids,
        registry.unit_model,
        registry.ge_suite,
        registry.mart,
        registry.defined_in,
        registry.unit_id
    from registry
    left join linked_outcomes on registry.kpi_id = linked_outcomes.kpi_id
    left join paired_quality on registry.kpi_id = paired_quality.kpi_id
)

select * from final
