{#- Shifts with their site and UTC boundaries: the wall clock staging keeps, read in the
    site's time zone (a DST change makes a night shift 11 or 13 hours long). -#}
with source as (
    select * from {{ ref('stg_mes__shifts') }}
),

lines as (
    select * from {{ ref('stg_mes__lines') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

final as (
    select
        source.shift_id,
        source.line_id,
        lines.site_id,
        source.shift_date,
        source.shift_code,
        {{ output_kpis.site_local_to_utc('source.shift_start_local', 'sites.site_time_zone') }}
            as shift_start_at,
        {{ output_kpis.site_local_to_utc('source.shift_end_local', 'sites.site_time_zone') }}
            as shift_end_at,
        source.planned_downtime_minutes,
        source.unplanned_downtime_minutes
    from source
    left join lines on source.line_id = lines.line_id
    left join sites on lines.site_id = sites.site_id
)

select * from final
