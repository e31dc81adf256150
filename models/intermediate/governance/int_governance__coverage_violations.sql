{#- Breaches of the coverage rules: a registered KPI lacking what governance requires of it -
    an output KPI linked to no outcome, a volume KPI paired with no quality or delivery KPI,
    a target method that resolves to no target (int_governance__kpi_violations). -#}
{{ config(materialized='view') }}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

links as (
    select * from {{ ref('int_governance__kpi_links') }}
),

pairs as (
    select * from {{ ref('int_governance__kpi_pairs') }}
),

outcome_targets as (
    select * from {{ ref('int_governance__target_statements') }}
    where target_source = 'outcome_target'
),

output_targets as (
    select * from {{ ref('int_governance__target_statements') }}
    where target_source = 'explicit'
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

unlinked_kpis as (
    select
        'orphan_output' as rule_id,
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
),

untargeted_kpis as (
    select
        'missing_target' as rule_id,
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
),

-- a registry row listed twice breaks a rule twice with the same words: report it once
final as (
    select distinct
        rule_id,
        'error' as severity,
        kpi_id,
        source_name,
        message
    from (
        select * from unlinked_kpis
        union all
        select * from untargeted_kpis
    ) as violations
)

select * from final
