{#- Breaches of the rules on target rows: outcome_targets, output_targets and driver_tree
    naming KPIs not in the registry, targets set on the wrong layer, and overlapping target
    rows for one period and slice (int_governance__kpi_violations). -#}
{{ config(materialized='view') }}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

nodes as (
    select * from {{ ref('int_governance__driver_tree') }}
),

outcome_targets as (
    select * from {{ ref('int_governance__target_statements') }}
    where target_source = 'outcome_target'
),

output_targets as (
    select * from {{ ref('int_governance__target_statements') }}
    where target_source = 'explicit'
),

stated_targets as (
    select * from {{ ref('int_governance__stated_targets') }}
),

unknown_kpis as (
    select
        'target_unknown_kpi' as rule_id,
        targets.kpi_id,
        targets.source_name,
        targets.source_name || ' names a KPI that is not in kpi_registry: ' || targets.kpi_id
            as message
    from (
        select distinct
            kpi_id,
            'outcome_targets' as source_name
        from outcome_targets
        union all
        select distinct
            kpi_id,
            'output_targets' as source_name
        from output_targets
        union all
        select distinct
            kpi_id,
            'driver_tree' as source_name
        from nodes
        where kpi_id is not null
    ) as targets
    left join registry on targets.kpi_id = registry.kpi_id
    where registry.kpi_id is null
),

wrong_layers as (
    select
        'target_wrong_layer' as rule_id,
        targets.kpi_id,
        targets.source_name,
        targets.source_name || ' sets a target for ' || registry.layer || ' KPI '
        || targets.kpi_id || ': outcome_targets is for outcome KPIs, output_targets for the rest'
            as message
    from (
        select
            kpi_id,
            'outcome_targets' as source_name,
            'outcome' as expected
        from outcome_targets
        union all
        select
            kpi_id,
            'output_targets' as source_name,
            'not outcome' as expected
        from output_targets
    ) as targets
    inner join registry on targets.kpi_id = registry.kpi_id
    where
        (targets.expected = 'outcome' and registry.layer <> 'outcome')
        or (targets.expected = 'not outcome' and registry.layer = 'outcome')
),

overlapping_rows as (
    select
        'overlapping_targets' as rule_id,
        kpi_id,
        case target_source
            when 'outcome_target' then 'outcome_targets'
            else 'output_targets'
        end
            as source_name,
        'KPI ' || kpi_id || ' has ' || cast(count(*) as {{ dbt.type_string() }})
        || ' targets for ' || grain || ' ' || cast(period_start as {{ dbt.type_string() }})
        || ' (' || dimension_name || ' = ' || dimension_value || '): target rows overlap'
            as message
    from stated_targets
    group by kpi_id, grain, period_start, dimension_name, dimension_value, target_source
    having count(*) > 1
),

-- a target row listed twice (or a KPI with many target rows) breaks a rule with the same
-- words each time: report it once
final as (
    select distinct
        rule_id,
        'error' as severity,
        kpi_id,
        source_name,
        message
    from (
        select * from unknown_kpis
        union all
        select * from wrong_layers
        union all
        select * from overlapping_rows
    ) as violations
)

select * from final
