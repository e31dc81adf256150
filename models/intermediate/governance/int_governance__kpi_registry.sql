{#- The one hub of KPI definitions: every KPI of the registry seed (built-in, SQL) and every
    declared KPI (vars output_kpis_units, output_kpis_builtin_units; docs/adding_a_kpi.md),
    each with the model that produces its units, the GE suite that enforces its definition and
    the mart that serves its values. Every model that reads KPI definitions reads them here. -#}
with seeded as (
    select * from {{ ref('kpi_registry') }}
),

declared as (
    {{ output_kpis.declared_registry_rows() }}
),

final as (
    select
        kpi_id,
        kpi_name,
        layer,
        kind,
        domain,
        unit_of_output,
        formula,
        aggregation,
        cast(multiplier as {{ output_kpis.type_double() }}) as multiplier,
        unit,
        direction,
        owner,
        review_cadence,
        target_method,
        bsc_perspective,
        exclusions,
        unit_model,
        ge_suite,
        mart,
        'kpi_registry' as defined_in,
        cast(null as {{ output_kpis.type_text() }}) as unit_id
    from seeded
    union all
    select
        kpi_id,
        kpi_name,
        layer,
        kind,
        domain,
        unit_of_output,
        formula,
        aggregation,
        cast(multiplier as {{ output_kpis.type_double() }}) as multiplier,
        unit,
        direction,
        owner,
        review_cadence,
        target_method,
        bsc_perspective,
        exclusions,
        unit_model,
        ge_suite,
        mart,
        'declaration' as defined_in,
        unit_id
    from declared
)

select * from final
