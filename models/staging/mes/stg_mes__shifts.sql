with source as (
    select * from {{ clean_source('mes', 'mes_shifts') }}
),

lines as (
    select * from {{ ref('stg_mes__lines') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

final as (
    select
        cast(source.shift_id as {{ output_kpis.type_text() }}) as shift_id,
        cast(source.line_id as {{ output_kpis.type_text() }}) as line_id,
        lines.site_id,
        cast(source.shift_date as date) as shift_date,
        cast(source.shift_code as {{ output_kpis.type_text() }}) as shift_code,
        {{ output_kpis.site_local_to_utc('source.shift_start_local', 'sites.site_time_zone') }}
            as shift_start_at,
        {{ output_kpis.site_local_to_utc('source.shift_end_local', 'sites.site_time_zone') }}
            as shift_end_at,
        cast(source.planned_downtime_minutes as integer) as planned_downtime_minutes,
        cast(source.unplanned_downtime_minutes as integer) as unplanned_downtime_minutes
    from source
    left join lines on cast(source.line_id as {{ output_kpis.type_text() }}) = lines.line_id
    left join sites on lines.site_id = sites.site_id
)

select * from final
