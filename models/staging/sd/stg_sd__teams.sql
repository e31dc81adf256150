with source as (
    select * from {{ clean_source('sd', 'sd_teams') }}
),

final as (
    select
        cast(team_id as {{ output_kpis.type_text() }}) as team_id,
        cast(team_name as {{ output_kpis.type_text() }}) as team_name,
        cast(schedule_id as {{ output_kpis.type_text() }}) as schedule_id,
        classified_at
    from source
)

select * from final
