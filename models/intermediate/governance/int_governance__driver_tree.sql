{#- The driver tree: the driver_tree seed's nodes and one node per declared KPI whose target is
    derived_from another KPI (node declared__<kpi>), hung under the parent KPI's node: the
    seed's node of that KPI, else its own declared node, else a new root for it
    (declared_root__<parent>), whose target is the parent's stated target. -#}
with seeded as (
    select * from {{ ref('driver_tree') }}
),

declared as (
    {{ output_kpis.declared_driver_rows() }}
),

seed_kpi_nodes as (
    select
        kpi_id,
        min(node_id) as node_id
    from seeded
    where kpi_id is not null
    group by kpi_id
),

declared_nodes as (
    select
        'declared__' || declared.kpi_id as node_id,
        coalesce(
            seed_kpi_nodes.node_id,
            case
                when declared.parent_kpi_id in (select d.kpi_id from declared as d)
                    then 'declared__' || declared.parent_kpi_id
            end,
            'declared_root__' || declared.parent_kpi_id
        ) as parent_node_id,
        declared.kpi_id,
        declared.operation,
        declared.driver_name,
        declared.driver_value,
        coalesce(
            nullif(declared.description, ''),
            declared.kpi_id || ' = ' || declared.parent_kpi_id || ' target, '
            || declared.operation || ' ' || declared.driver_name
        ) as description
    from declared
    left join seed_kpi_nodes on declared.parent_kpi_id = seed_kpi_nodes.kpi_id
),

declared_roots as (
    select distinct
        'declared_root__' || parent_kpi_id as node_id,
        cast(null as {{ output_kpis.type_text() }}) as parent_node_id,
        parent_kpi_id as kpi_id,
        cast(null as {{ output_kpis.type_text() }}) as operation,  -- noqa: RF04
        cast(null as {{ output_kpis.type_text() }}) as driver_name,
        cast(null as {{ output_kpis.type_double() }}) as driver_value,
        'Root of a declared derivation: the stated target of ' || parent_kpi_id as description
    from declared
    where
        parent_kpi_id not in (select seed_kpi_nodes.kpi_id from seed_kpi_nodes)
        and parent_kpi_id not in (select d.kpi_id from declared as d)
),

final as (
    select
        node_id,
        parent_node_id,
        kpi_id,
        operation,
        driver_name,
        cast(driver_value as {{ output_kpis.type_double() }}) as driver_value,
        description
    from seeded
    union all
    select * from declared_nodes
    union all
    select * from declared_roots
)

select * from final
