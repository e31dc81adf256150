with source as (
    select * from {{ clean_source('sd', 'sd_teams') }}
),

deduplicated as (
    select *
    from {{ deduplicate('source', 'team_id', 'team_name desc, schedule_id desc') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(team_id as {{ output_kpis.type_text() }}) as team_id,
        cast(team_name as {{ output_kpis.type_text() }}) as team_name,
        cast(schedule_id as {{ output_kpis.type_text() }}) as schedule_id
    from deduplicated
)

select * from final
