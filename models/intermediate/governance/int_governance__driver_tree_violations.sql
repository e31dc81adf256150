{#- Breaches of the rules on the driver tree: roots name outcome KPIs, nodes carry a valid
    derivation, every node is reached from a root, and a KPI is derived by at most one node
    and never an outcome (int_governance__kpi_violations). -#}
{{ config(materialized='view') }}
{%- set max_depth = number_var('driver_tree_max_depth', 6) | int %}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

nodes as (
    select * from {{ ref('int_governance__driver_tree') }}
),

paths as (
    select * from {{ ref('int_governance__driver_tree_paths') }}
),

violations as (
    select
        'driver_root_not_outcome' as rule_id,
        nodes.kpi_id,
        'driver_tree root ' || nodes.node_id || ' must name an outcome KPI (got '
        || coalesce(registry.layer || ' KPI ' || nodes.kpi_id, 'no kpi_id') || ')'
            as message
    from nodes
    left join registry on nodes.kpi_id = registry.kpi_id
    where
        nodes.parent_node_id is null
        and (nodes.kpi_id is null or registry.layer <> 'outcome')
    union all
    select
        'driver_node_invalid' as rule_id,
        nodes.kpi_id,
        'driver_tree node ' || nodes.node_id || ' needs an operation (divide, multiply, '
        || 'subtract, add), a driver_name and a driver_value (non-zero for divide)'
            as message
    from nodes
    where
        nodes.parent_node_id is not null
        and (
            nodes.operation is null
            or nodes.operation not in ('divide', 'multiply', 'subtract', 'add')
            or nodes.driver_name is null
            or nodes.driver_value is null
            or (nodes.operation = 'divide' and nodes.driver_value = 0)
        )
    union all
    select
        'driver_node_unreachable' as rule_id,
        nodes.kpi_id,
        'driver_tree node ' || nodes.node_id || ' is not reached from any root within '
        || '{{ max_depth }} levels (missing parent '
        || coalesce(nodes.parent_node_id, '') || ', a cycle, or var driver_tree_max_depth)'
            as message
    from nodes
    where
        nodes.parent_node_id is not null
        and nodes.node_id not in (select paths.node_id from paths)
        and nodes.operation in ('divide', 'multiply', 'subtract', 'add')
        and nodes.driver_value is not null
    union all
    select
        'driver_kpi_on_outcome' as rule_id,
        nodes.kpi_id,
        'driver_tree node ' || nodes.node_id || ' derives a target for outcome KPI '
        || nodes.kpi_id || ': only inputs and outputs get derived targets'
            as message
    from nodes
    inner join registry on nodes.kpi_id = registry.kpi_id
    where nodes.parent_node_id is not null and registry.layer = 'outcome'
    union all
    select
        'driver_kpi_derived_twice' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' is derived by more than one driver_tree node: keep one' as message
    from nodes
    where parent_node_id is not null and kpi_id is not null
    group by kpi_id
    having count(*) > 1
),

-- a driver_tree row listed twice breaks a rule twice with the same words: report it once
final as (
    select distinct
        rule_id,
        'error' as severity,
        kpi_id,
        'driver_tree' as source_name,
        message
    from violations
)

select * from final
