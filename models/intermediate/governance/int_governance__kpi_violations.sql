{#- Every breach of the KPI governance rules, one row each, with a message naming the KPI and
    what is missing. The kpi_governance test fails the build on any error row (and warns on
    warn rows); the public marts depend on this model, so a failing rule stops them from being
    published. An empty table is a clean registry. The rules read the whole reference seeds, but
    only violations of KPIs in enabled domains are kept (vars output_kpis_enable_*): a team
    without a plant is not asked to target throughput; a KPI missing from the registry is always
    reported. Each family of rules is its own model (int_governance__*_violations). -#}
{%- set max_per_owner = number_var('kpi_max_per_owner', 5) | int %}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

registry_violations as (
    select * from {{ ref('int_governance__registry_violations') }}
),

coverage_violations as (
    select * from {{ ref('int_governance__coverage_violations') }}
),

link_violations as (
    select * from {{ ref('int_governance__link_violations') }}
),

target_violations as (
    select * from {{ ref('int_governance__target_violations') }}
),

driver_tree_violations as (
    select * from {{ ref('int_governance__driver_tree_violations') }}
),

-- a team-level warning: it names no KPI, and counts only KPIs of enabled domains
owner_violations as (
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

violations as (
    select * from registry_violations
    union all
    select * from coverage_violations
    union all
    select * from link_violations
    union all
    select * from target_violations
    union all
    select * from driver_tree_violations
    union all
    select * from owner_violations
),

enabled_kpis as (
    select kpi_id from registry
    where {{ output_kpis.kpi_enabled_condition() }}
),

final as (
    select * from violations
    where
        kpi_id is null
        or kpi_id not in (select registry.kpi_id from registry)
        or kpi_id in (select enabled_kpis.kpi_id from enabled_kpis)
)

select * from final
