{#- The driver tree's shape: one row per node reached from a root outcome KPI, with its depth
    and the derivation in words. A node not reached (missing parent, a cycle, deeper than var
    driver_tree_max_depth) is reported by int_governance__kpi_violations. -#}
with nodes as (
    select * from {{ ref('int_governance__driver_tree') }}
),

roots as (
    select
        node_id,
        node_id as root_node_id,
        kpi_id as root_kpi_id,
        kpi_id,
        cast(null as {{ output_kpis.type_double() }}) as node_value,
        kpi_id as derivation,
        node_id as node_path
    from nodes
    where parent_node_id is null
),

{{ walk_driver_tree('nodes', 'roots', name='walked') }},

final as (
    select
        node_id,
        root_node_id,
        root_kpi_id,
        kpi_id,
        depth,
        derivation,
        last_operation,
        node_path
    from walked
)

select * from final
