with source as (
    select * from {{ clean_source('mes', 'mes_shifts') }}
),

lines as (
    select * from {{ ref('stg_mes__lines') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'shift_id', 'shift_start_local desc') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(deduplicated.shift_id as {{ output_kpis.type_text() }}) as shift_id,
        cast(deduplicated.line_id as {{ output_kpis.type_text() }}) as line_id,
        lines.site_id,
        cast(deduplicated.shift_date as date) as shift_date,
        cast(deduplicated.shift_code as {{ output_kpis.type_text() }}) as shift_code,
        {{ local_to_utc('deduplicated.shift_start_local', 'sites.site_time_zone') }}
            as shift_start_at,
        {{ local_to_utc('deduplicated.shift_end_local', 'sites.site_time_zone') }} as shift_end_at,
        cast(deduplicated.planned_downtime_minutes as integer) as planned_downtime_minutes,
        cast(deduplicated.unplanned_downtime_minutes as integer) as unplanned_downtime_minutes
    from deduplicated
    left join lines on cast(deduplicated.line_id as {{ output_kpis.type_text() }}) = lines.line_id
    left join sites on lines.site_id = sites.site_id
)

select * from final
