{#- One target per KPI x grain x period x slice. An explicit target (output_targets) overrides
    the one derived backward through the driver tree; outcome KPIs carry their stated target.
    target_source says which applies, and both candidate values stay visible. -#}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
    -- KPIs of enabled domains only (vars output_kpis_enable_*)
    where {{ output_kpis.kpi_enabled_condition() }}
),

stated as (
    select * from {{ ref('int_governance__stated_targets') }}
),

derived as (
    select * from {{ ref('int_governance__derived_targets') }}
),

keys as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value
    from stated
    union
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value
    from derived
),

final as (
    select
        keys.kpi_id,
        registry.kpi_name,
        registry.layer,
        keys.grain,
        keys.period_start,
        keys.dimension_name,
        keys.dimension_value,
        coalesce(stated.target_value, derived.target_value) as target_value,
        coalesce(stated.target_source, 'derived') as target_source,
        case when stated.target_source = 'explicit' then stated.target_value end
            as explicit_target_value,
        derived.target_value as derived_target_value,
        derived.derivation,
        derived.driver_node_id,
        derived.root_kpi_id,
        derived.root_target_value,
        stated.note as target_note,
        {{ as_of_timestamp() }} as as_of_at
    from keys
    inner join registry on keys.kpi_id = registry.kpi_id
    left join stated
        on {{ same_keys('keys', 'stated', kpi_point_keys()) }}
    left join derived
        on {{ same_keys('keys', 'derived', kpi_point_keys()) }}
)

select * from final
