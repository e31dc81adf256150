{#- Breaches of the rules on kpi_links and kpi_pairs rows: each names registered KPIs, a link
    goes from an output to an outcome KPI, a pair from an output volume KPI to an output
    quality or delivery KPI (int_governance__kpi_violations). -#}
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

row_violations as (
    select
        'link_unknown_kpi' as rule_id,
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

-- a link or pair row listed twice breaks a rule twice with the same words: report it once
final as (
    select distinct
        rule_id,
        'error' as severity,
        kpi_id,
        source_name,
        message
    from row_violations
)

select * from final
