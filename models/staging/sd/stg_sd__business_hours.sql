with source as (
    select * from {{ clean_source('sd', 'sd_business_hours') }}
),

renamed as (
    select
        cast(schedule_id as {{ output_kpis.type_text() }}) as schedule_id,
        cast(time_zone as {{ output_kpis.type_text() }}) as time_zone,
        cast(iso_weekday as integer) as iso_weekday,
        cast(open_time as {{ output_kpis.type_text() }}) as open_time,
        cast(close_time as {{ output_kpis.type_text() }}) as close_time,
        -- HH:MM text as minutes after local midnight, so clock maths needs no time type
        cast(substring(cast(open_time as {{ output_kpis.type_text() }}), 1, 2) as integer) * 60
        + cast(substring(cast(open_time as {{ output_kpis.type_text() }}), 4, 2) as integer)
            as open_minute_of_day,
        cast(substring(cast(close_time as {{ output_kpis.type_text() }}), 1, 2) as integer) * 60
        + cast(substring(cast(close_time as {{ output_kpis.type_text() }}), 4, 2) as integer)
            as close_minute_of_day,
        classified_at
    from source
),

final as (
    select  -- noqa: ST06
        schedule_id
        || '|' || cast(iso_weekday as {{ output_kpis.type_text() }})
        || '|' || open_time as business_hours_id,
        schedule_id,
        time_zone,
        iso_weekday,
        open_time,
        close_time,
        open_minute_of_day,
        close_minute_of_day,
        classified_at
    from renamed
)

select * from final
