{#- Every staged scan with its work order's line, site and route, its UTC instant (the site-local
    wall clock read in the site's time zone) and its local date. Duplicate scans (a new event_id
    for the same serial, step, type, result and instant) are kept and flagged, so every raw row
    is accounted for and the unit models can ignore them: every scan but the first event_id of
    its group is a duplicate, found with an aggregate and a join rather than a window over every
    event (at 100M raw rows the window's sort did not fit in 6GB; the aggregate spills). -#}
with staged as (
    select * from {{ ref('stg_mes__unit_events') }}
),

-- The site-local text read once (each a regular expression): its wall time and whether it
-- names its zone.
source as (
    select
        *,
        {{ output_kpis.iso_wall_time('event_local') }} as event_wall_time,
        {{ output_kpis.has_utc_offset('event_local') }} as has_utc_offset
    from staged
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

located as (
    select
        source.event_id,
        source.serial_number,
        source.work_order_id,
        work_orders.line_id,
        lines.site_id,
        lines.route_id,
        source.step_code,
        source.event_type,
        source.event_result,
        {{ output_kpis.site_local_to_utc(
            'source.event_local', 'sites.site_time_zone', 'site_offsets',
            'source.event_wall_time', 'source.has_utc_offset'
        ) }} as event_at,
        cast(
            {{ output_kpis.site_local_wall_time(
                'source.event_local', 'sites.site_time_zone',
                'source.event_wall_time', 'source.has_utc_offset'
            ) }} as date
        ) as event_local_date,
        source.station_id
    from source
    left join work_orders on source.work_order_id = work_orders.work_order_id
    left join lines on work_orders.line_id = lines.line_id
    left join sites on lines.site_id = sites.site_id
    {{ output_kpis.time_zone_offset_join(
        'site_offsets', 'sites.site_time_zone', 'source.event_wall_time'
    ) }}
),

first_scans as (
    select min(event_id) as first_event_id
    from located
    group by serial_number, step_code, event_type, event_result, event_at
),

final as (
    select
        located.*,
        first_scans.first_event_id is null as is_duplicate_scan
    from located
    left join first_scans on located.event_id = first_scans.first_event_id
)

select * from final
