{#- Breaches of the rules on a kpi_registry row by itself: owner, review cadence, target
    method, duplicates, producer model and GE suite (int_governance__kpi_violations). -#}
{{ config(materialized='view') }}
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

violations as (
    select
        'missing_owner' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' has no owner: set kpi_registry.owner to the accountable team'
            as message
    from registry
    where owner is null or trim(owner) = ''
    union all
    select
        'missing_review_cadence' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' has no review cadence: set kpi_registry.review_cadence to '
        || 'monthly or quarterly (got ' || coalesce(review_cadence, 'nothing') || ')'
            as message
    from registry
    where review_cadence is null or review_cadence not in ('monthly', 'quarterly')
    union all
    select
        'missing_target_definition' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' has no target definition: set kpi_registry.target_method to '
        || 'explicit, derived or outcome_target (got ' || coalesce(target_method, 'nothing') || ')'
            as message
    from registry
    where target_method is null or target_method not in ('explicit', 'derived', 'outcome_target')
    union all
    select
        'target_method_wrong_layer' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' (layer ' || layer || ') cannot use target_method ' || target_method
        || ': outcome_target is for outcome KPIs only, derived for inputs and outputs only'
            as message
    from registry
    where
        (target_method = 'outcome_target' and layer <> 'outcome')
        or (target_method = 'derived' and layer = 'outcome')
    union all
    select
        'duplicate_kpi' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' is registered ' || cast(count(*) as {{ dbt.type_string() }})
        || ' times in kpi_registry'
            as message
    from registry
    group by kpi_id
    having count(*) > 1
    union all
    select
        'missing_producer' as rule_id,
        kpi_id,
        'KPI ' || kpi_id || ' has no producer: its unit_model (' || coalesce(unit_model, 'none')
        || ') is no model of this project; name the model holding its units'
            as message
    from registry
    where unit_model is null or {{ unknown_producer }}
    union all
    select
        'missing_suite' as rule_id,
        kpi_id,
        'output KPI ' || kpi_id || ' has no Great Expectations suite: set kpi_registry.ge_suite '
        || 'to the suite (expectations/<suite>.json) enforcing its unit definition'
            as message
    from registry
    where layer = 'output' and (ge_suite is null or trim(ge_suite) = '')
),

-- a registry row listed twice breaks each rule twice with the same words: report it once
final as (
    select distinct
        rule_id,
        'error' as severity,
        kpi_id,
        'kpi_registry' as source_name,
        message
    from violations
)

select * from final
