{#- Output (and input) targets derived backward from outcome targets: the driver tree walked
    down from every outcome target (grain, period, slice), keeping the nodes that name a KPI.
    revenue 2,000,000 / average_deal_size 50,000 / win_rate 0.25 = 160 qualified
    opportunities. -#}
with nodes as (
    select * from {{ ref('int_governance__driver_tree') }}
),

stated as (
    select * from {{ ref('int_governance__stated_targets') }}
),

roots as (
    select
        nodes.node_id,
        nodes.node_id as root_node_id,
        nodes.kpi_id as root_kpi_id,
        nodes.kpi_id,
        stated.grain,
        stated.period_start,
        stated.dimension_name,
        stated.dimension_value,
        stated.target_value as root_target_value,
        stated.target_value as node_value,
        nodes.kpi_id as derivation,
        nodes.node_id as node_path
    from nodes
    inner join stated
        on
            nodes.kpi_id = stated.kpi_id
            and stated.target_source = 'outcome_target'
    where nodes.parent_node_id is null
),

{{ walk_driver_tree(
    'nodes',
    'roots',
    carry=['grain', 'period_start', 'dimension_name', 'dimension_value', 'root_target_value'],
    name='walked',
) }},

final as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        node_value as target_value,
        node_id as driver_node_id,
        root_kpi_id,
        root_target_value,
        derivation,
        node_path
    from walked
    where depth > 0 and kpi_id is not null
)

select * from final
