{#- Exact re-deliveries of an event_id are dropped; duplicate scans (a new event_id for the same
    serial, step, type, result and instant) are kept and flagged, so every raw row is accounted
    for and the unit models can ignore them. -#}
with source as (
    select * from {{ clean_source('mes', 'mes_unit_events') }}
),

work_orders as (
    select * from {{ ref('stg_mes__work_orders') }}
),

lines as (
    select * from {{ ref('stg_mes__lines') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

site_offsets as (
    {{ output_kpis.time_zone_offsets('sites', 'site_time_zone', 'local') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'event_id', 'event_local') }} as ranked
    where dedupe_rank = 1
),

typed as (
    select
        cast(deduplicated.event_id as {{ output_kpis.type_text() }}) as event_id,
        cast(deduplicated.serial_number as {{ output_kpis.type_text() }}) as serial_number,
        cast(deduplicated.work_order_id as {{ output_kpis.type_text() }}) as work_order_id,
        work_orders.line_id,
        lines.site_id,
        lines.route_id,
        cast(deduplicated.step_code as {{ output_kpis.type_text() }}) as step_code,
        lower(cast(deduplicated.event_type as {{ output_kpis.type_text() }})) as event_type,
        nullif(lower(cast(deduplicated.result as {{ output_kpis.type_text() }})), '')
            as event_result,
        {{ output_kpis.local_to_utc_via(
            'site_offsets', 'deduplicated.event_local', 'sites.site_time_zone'
        ) }} as event_at,
        cast(deduplicated.event_local as date) as event_local_date,
        cast(deduplicated.station_id as {{ output_kpis.type_text() }}) as station_id
    from deduplicated
    left join work_orders
        on
            cast(deduplicated.work_order_id as {{ output_kpis.type_text() }})
            = work_orders.work_order_id
    left join lines on work_orders.line_id = lines.line_id
    left join sites on lines.site_id = sites.site_id
    {{ output_kpis.time_zone_offset_join(
        'site_offsets', 'sites.site_time_zone', 'deduplicated.event_local'
    ) }}
),

final as (
    select
        *,
        row_number() over (
            partition by serial_number, step_code, event_type, event_result, event_at
            order by event_id
        ) > 1 as is_duplicate_scan
    from typed
)

select * from final
