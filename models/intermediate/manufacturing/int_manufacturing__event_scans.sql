{#- Every staged scan with its work order's line, site and route, its UTC instant (the site-local
    wall clock read in the site's time zone) and its local date. Duplicate scans (a new event_id
    for the same serial, step, type, result and instant) are kept and flagged, so every raw row
    is accounted for and the unit models can ignore them: every scan but the first event_id of
    its group is a duplicate. Found in two steps: the scans whose 64-bit hash of those five
    values repeats, then the exact five-value groups among those few (a grouping of every scan
    by five text and time values took 2.8 s of this model's 5.1 s at 10M raw rows; a window over
    every event did not fit in 6GB at 100M). A hash collision only adds candidates to the exact
    step, so the result is the same. Incremental per serial number (strategy replace_units): a
    run computes the serials int_manufacturing__serials_to_build lists (all of them on a full
    build), since every scan's duplicate group lies within its serial. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy=output_kpis.incremental_strategy('replace_units'),
    partition_by=output_kpis.overwrite_partition_by('sources_classified_at'),
    overwrite_marker_column='serial_number',
    units_to_build='int_manufacturing__serials_to_build',
    unique_key='serial_number',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.drop_emptied_partitions() }}"],
) }}
{%- do output_kpis.check_units_selected_in_full('stg_mes__unit_events') %}

with serials_to_build as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_manufacturing__serials_to_build') }}
),

-- A full build takes every serial (the list holds them all): no join.
staged as (
    select all_staged.*
    from {{ ref('stg_mes__unit_events') }} as all_staged
    {%- if is_incremental() %}
    inner join serials_to_build on all_staged.serial_number = serials_to_build.serial_number
    {%- endif %}
),

classified as (
    select max(classified_through) as sources_classified_at
    from serials_to_build
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

hashed as (
    select
        *,
        {{ output_kpis.row_hash([
            'serial_number', 'step_code', 'event_type', 'event_result', 'event_at',
        ]) }} as scan_hash
    from located
),

-- Scans that share their hash with another: the only ones that can repeat a scan.
repeated_hashes as (
    select scan_hash
    from hashed
    group by scan_hash
    having count(*) > 1
),

first_scans as (
    select min(hashed.event_id) as first_event_id
    from hashed
    inner join repeated_hashes on hashed.scan_hash = repeated_hashes.scan_hash
    group by
        hashed.serial_number,
        hashed.step_code,
        hashed.event_type,
        hashed.event_result,
        hashed.event_at
),

final as (
    select
        hashed.event_id,
        hashed.serial_number,
        hashed.work_order_id,
        hashed.line_id,
        hashed.site_id,
        hashed.route_id,
        hashed.step_code,
        hashed.event_type,
        hashed.event_result,
        hashed.event_at,
        hashed.event_local_date,
        hashed.station_id,
        repeated_hashes.scan_hash is not null
        and first_scans.first_event_id is null as is_duplicate_scan,
        classified.sources_classified_at
    from hashed
    cross join classified
    left join repeated_hashes on hashed.scan_hash = repeated_hashes.scan_hash
    left join first_scans on hashed.event_id = first_scans.first_event_id
)

{{ output_kpis.overwrite_units('final') }}
