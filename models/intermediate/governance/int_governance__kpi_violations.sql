{#- Every breach of the KPI governance rules, one row each, with a message naming the KPI and
    what is missing. The kpi_governance test fails the build on any error row (and warns on
    warn rows); the public marts depend on this model, so a failing rule stops them from being
    published. An empty table is a clean registry. The rules read the whole reference seeds, but
    only violations of KPIs in enabled domains are kept (vars output_kpis_enable_*): a team
    without a plant is not asked to target throughput; a KPI missing from the registry is always
    reported. -#}
{%- set max_per_owner = number_var('kpi_max_per_owner', 5) | int %}
{#- every model of the project (at run time; the graph is empty while parsing and in a unit
    test, where only a missing unit_model is judged) #}
{%- set model_names = [] %}
{%- if execute and graph.get('nodes') %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' %}
        {%- do model_names.append(node.name) %}
    {%- endfor %}
{%- endif %}
{%- set unknown_producer = "unit_model not in ('" ~ model_names | join("', '") ~ "')"
    if model_names else '1 = 0' %}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

links as (
    select * from {{ ref('int_governance__kpi_links') }}
),

pairs as (
    select * from {{ ref('int_governance__kpi_pairs') }}
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

paths as (
    select * from {{ ref('int_governance__driver_tree_paths') }}
),

valid_links as (
    select links.*
    from links
    inner join registry as o on links.output_kpi_id = o.kpi_id and o.layer = 'output'
    inner join registry as c on links.outcome_kpi_id = c.kpi_id and c.layer = 'outcome'
),

valid_pairs as (
    select pairs.*
    from pairs
    inner join registry as v
        on pairs.volume_kpi_id = v.kpi_id and v.layer = 'output' and v.kind = 'volume'
    inner join registry as q
        on
            pairs.quality_kpi_id = q.kpi_id
            and q.layer = 'output'
            and q.kind in ('quality', 'delivery')
),

registry_rules as (
    select
        'missing_owner' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || kpi_id || ' has no owner: set kpi_registry.owner to the accountable team'
            as message
    from registry
    where owner is null or trim(owner) = ''
    union all
    select
        'missing_review_cadence' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || kpi_id || ' has no review cadence: set kpi_registry.review_cadence to '
        || 'monthly or quarterly (got ' || coalesce(review_cadence, 'nothing') || ')'
            as message
    from registry
    where review_cadence is null or review_cadence not in ('monthly', 'quarterly')
    union all
    select
        'missing_target_definition' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || kpi_id || ' has no target definition: set kpi_registry.target_method to '
        || 'explicit, derived or outcome_target (got ' || coalesce(target_method, 'nothing') || ')'
            as message
    from registry
    where target_method is null or target_method not in ('explicit', 'derived', 'outcome_target')
    union all
    select
        'target_method_wrong_layer' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || kpi_id || ' (layer ' || layer || ') cannot use target_method ' || target_method
        || ': outcome_target is for outcome KPIs only, derived for inputs and outputs only'
            as message
    from registry
    where
        (target_method = 'outcome_target' and layer <> 'outcome')
        or (target_method = 'derived' and layer = 'outcome')
    union all
    select
        'missing_target' as rule_id,
        'error' as severity,
        registry.kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || registry.kpi_id || ' has target_method ' || registry.target_method
        || ' but no target: add '
        || case
            when registry.defined_in = 'declaration' and registry.target_method <> 'derived'
                then '`target` to its declaration (unit ' || registry.unit_id || ')'
            when registry.target_method = 'derived'
                then
                    'a derived_from `target` to its declaration, or a driver_tree node '
                    || '(reached from a root) naming this kpi_id'
            else 'rows to '
        end
        || case registry.target_method
            when 'derived' then ''
            when 'explicit' then 'output_targets'
            when 'outcome_target' then 'outcome_targets'
            else ''
        end
            as message
    from registry
    where
        (
            registry.target_method = 'explicit'
            and registry.kpi_id not in (select output_targets.kpi_id from output_targets)
        )
        or (
            registry.target_method = 'outcome_target'
            and registry.kpi_id not in (select outcome_targets.kpi_id from outcome_targets)
        )
        or (
            registry.target_method = 'derived'
            and registry.kpi_id not in (
                select paths.kpi_id from paths
                where paths.depth > 0 and paths.kpi_id is not null
            )
        )
    union all
    select
        'orphan_output' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'output KPI ' || kpi_id || ' is not linked to any outcome KPI: '
        || case
            when defined_in = 'declaration'
                then 'add `outcomes` to its declaration (unit ' || unit_id || ')'
            else 'add a row to kpi_links'
        end
        || ' naming the outcome it should move'
            as message
    from registry
    where
        layer = 'output'
        and kpi_id not in (select valid_links.output_kpi_id from valid_links)
    union all
    select
        'volume_without_quality' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'volume KPI ' || kpi_id || ' has no paired quality KPI: '
        || case
            when defined_in = 'declaration'
                then 'add `paired_with` to its declaration (unit ' || unit_id || ')'
            else 'add a row to kpi_pairs'
        end
        || ' naming a quality or delivery output KPI'
            as message
    from registry
    where
        layer = 'output'
        and kind = 'volume'
        and kpi_id not in (select valid_pairs.volume_kpi_id from valid_pairs)
    union all
    select
        'duplicate_kpi' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || kpi_id || ' is registered ' || cast(count(*) as {{ dbt.type_string() }})
        || ' times in kpi_registry'
            as message
    from registry
    group by kpi_id
    having count(*) > 1
    union all
    select
        'missing_producer' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'KPI ' || kpi_id || ' has no producer: its unit_model (' || coalesce(unit_model, 'none')
        || ') is no model of this project; name the model holding its units'
            as message
    from registry
    where unit_model is null or {{ unknown_producer }}
    union all
    select
        'missing_suite' as rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        'output KPI ' || kpi_id || ' has no Great Expectations suite: set kpi_registry.ge_suite '
        || 'to the suite (expectations/<suite>.json) enforcing its unit definition'
            as message
    from registry
    where layer = 'output' and (ge_suite is null or trim(ge_suite) = '')
),

link_rules as (
    select
        'link_unknown_kpi' as rule_id,
        'error' as severity,
        case when o.kpi_id is null then links.output_kpi_id else links.outcome_kpi_id end
            as kpi_id,
        'kpi_links' as source_name,
        'kpi_links row ' || links.output_kpi_id || ' -> ' || links.outcome_kpi_id
        || ' names a KPI that is not in kpi_registry: '
        || case when o.kpi_id is null then links.output_kpi_id else links.outcome_kpi_id end
            as message
    from links
    left join registry as o on links.output_kpi_id = o.kpi_id
    left join registry as c on links.outcome_kpi_id = c.kpi_id
    where o.kpi_id is null or c.kpi_id is null
    union all
    select
        'link_not_output_to_outcome' as rule_id,
        'error' as severity,
        links.output_kpi_id as kpi_id,
        'kpi_links' as source_name,
        'kpi_links row ' || links.output_kpi_id || ' -> ' || links.outcome_kpi_id
        || ' must link an output KPI to an outcome KPI; it links ' || o.layer || ' -> '
        || c.layer
            as message
    from links
    inner join registry as o on links.output_kpi_id = o.kpi_id
    inner join registry as c on links.outcome_kpi_id = c.kpi_id
    where o.layer <> 'output' or c.layer <> 'outcome'
    union all
    select
        'pair_unknown_kpi' as rule_id,
        'error' as severity,
        case when v.kpi_id is null then pairs.volume_kpi_id else pairs.quality_kpi_id end as kpi_id,
        'kpi_pairs' as source_name,
        'kpi_pairs row ' || pairs.volume_kpi_id || ' + ' || pairs.quality_kpi_id
        || ' names a KPI that is not in kpi_registry: '
        || case when v.kpi_id is null then pairs.volume_kpi_id else pairs.quality_kpi_id end
            as message
    from pairs
    left join registry as v on pairs.volume_kpi_id = v.kpi_id
    left join registry as q on pairs.quality_kpi_id = q.kpi_id
    where v.kpi_id is null or q.kpi_id is null
    union all
    select
        'pair_not_volume_to_quality' as rule_id,
        'error' as severity,
        pairs.volume_kpi_id as kpi_id,
        'kpi_pairs' as source_name,
        'kpi_pairs row ' || pairs.volume_kpi_id || ' + ' || pairs.quality_kpi_id
        || ' must pair an output volume KPI with an output quality or delivery KPI; it pairs '
        || v.layer || ' ' || v.kind || ' with ' || q.layer || ' ' || q.kind
            as message
    from pairs
    inner join registry as v on pairs.volume_kpi_id = v.kpi_id
    inner join registry as q on pairs.quality_kpi_id = q.kpi_id
    where
        not (v.layer = 'output' and v.kind = 'volume')
        or not (q.layer = 'output' and q.kind in ('quality', 'delivery'))
),

target_rules as (
    select
        'target_unknown_kpi' as rule_id,
        'error' as severity,
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
    union all
    select distinct
        'target_wrong_layer' as rule_id,
        'error' as severity,
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
    union all
    select
        'overlapping_targets' as rule_id,
        'error' as severity,
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
    union all
    select
        'driver_root_not_outcome' as rule_id,
        'error' as severity,
        nodes.kpi_id,
        'driver_tree' as source_name,
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
        'error' as severity,
        nodes.kpi_id,
        'driver_tree' as source_name,
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
        'error' as severity,
        nodes.kpi_id,
        'driver_tree' as source_name,
        'driver_tree node ' || nodes.node_id || ' is not reached from any root within '
        || '{{ number_var("driver_tree_max_depth", 6) | int }} levels (missing parent '
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
        'error' as severity,
        nodes.kpi_id,
        'driver_tree' as source_name,
        'driver_tree node ' || nodes.node_id || ' derives a target for outcome KPI '
        || nodes.kpi_id || ': only inputs and outputs get derived targets'
            as message
    from nodes
    inner join registry on nodes.kpi_id = registry.kpi_id
    where nodes.parent_node_id is not null and registry.layer = 'outcome'
    union all
    select
        'driver_kpi_derived_twice' as rule_id,
        'error' as severity,
        kpi_id,
        'driver_tree' as source_name,
        'KPI ' || kpi_id || ' is derived by more than one driver_tree node: keep one' as message
    from nodes
    where parent_node_id is not null and kpi_id is not null
    group by kpi_id
    having count(*) > 1
),

owner_rules as (
    select
        'too_many_kpis_per_owner' as rule_id,
        'warn' as severity,
        cast(null as {{ dbt.type_string() }}) as kpi_id,
        'kpi_registry' as source_name,
        'team ' || owner || ' owns ' || cast(count(*) as {{ dbt.type_string() }})
        || ' KPIs (more than {{ max_per_owner }}): focus on the few that steer its outcomes'
            as message
    from registry
    where owner is not null and trim(owner) <> '' and {{ output_kpis.kpi_enabled_condition() }}
    group by owner
    having count(*) > {{ max_per_owner }}
),

final as (
    select * from registry_rules
    union all
    select * from link_rules
    union all
    select * from target_rules
    union all
    select * from owner_rules
),

enabled_kpis as (
    select kpi_id from registry
    where {{ output_kpis.kpi_enabled_condition() }}
)

select * from final
where
    kpi_id is null
    or kpi_id not in (select registry.kpi_id from registry)
    or kpi_id in (select enabled_kpis.kpi_id from enabled_kpis)
