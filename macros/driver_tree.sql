{% macro walk_driver_tree(nodes, roots, carry=[], name='walk') -%}
    {#-
        CTEs that walk the driver tree down from `roots`, one level per CTE up to var
        driver_tree_max_depth (unrolled, not recursive, so every engine runs it). A child's
        node_value is its parent's value combined with the child's driver by its operation
        (divide, multiply, subtract, add); derivation spells the formula in words.

        nodes   relation or CTE with the driver_tree columns
        roots   CTE with node_id, root_node_id, root_kpi_id, kpi_id, node_value, derivation,
                node_path and the `carry` columns (level 0)
        carry   columns passed down unchanged (e.g. grain, period_start of a target)
        name    name of the final CTE (the union of all levels, with depth and last_operation)
    -#}
    {%- set max_depth = number_var('driver_tree_max_depth', 6) | int -%}
    {%- set carried = carry | join(', ') ~ (', ' if carry else '') -%}
    {{ name }}__level_0 as (
        select
            node_id,
            root_node_id,
            root_kpi_id,
            kpi_id,
            {{ carried }}
            0 as depth,
            cast(node_value as {{ output_kpis.type_double() }}) as node_value,
            cast(derivation as {{ dbt.type_string() }}) as derivation,
            cast(null as {{ dbt.type_string() }}) as last_operation,
            cast(node_path as {{ dbt.type_string() }}) as node_path
        from {{ roots }}
    ),
    {%- for level in range(1, max_depth + 1) %}

    {{ name }}__level_{{ level }} as (
        select
            child.node_id,
            parent.root_node_id,
            parent.root_kpi_id,
            child.kpi_id,
            {%- for column in carry %}
            parent.{{ column }},
            {%- endfor %}
            {{ level }} as depth,
            case child.operation
                when 'divide' then parent.node_value / child.driver_value
                when 'multiply' then parent.node_value * child.driver_value
                when 'subtract' then parent.node_value - child.driver_value
                when 'add' then parent.node_value + child.driver_value
            end as node_value,
            case
                when
                    child.operation in ('divide', 'multiply')
                    and parent.last_operation in ('subtract', 'add')
                    then '(' || parent.derivation || ')'
                else parent.derivation
            end
            || case child.operation
                when 'divide' then ' / '
                when 'multiply' then ' * '
                when 'subtract' then ' - '
                else ' + '
            end
            || child.driver_name || ' ' || {{ output_kpis.number_to_text('child.driver_value') }}
            as derivation,
            child.operation as last_operation,
            parent.node_path || ' > ' || child.node_id as node_path
        from {{ name }}__level_{{ level - 1 }} as parent
        inner join {{ nodes }} as child on parent.node_id = child.parent_node_id
        where
            child.operation in ('divide', 'multiply', 'subtract', 'add')
            and child.driver_value is not null
            and not (child.operation = 'divide' and child.driver_value = 0)
    ),
    {%- endfor %}

    {{ name }} as (
        {%- for level in range(0, max_depth + 1) %}
        select * from {{ name }}__level_{{ level }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
