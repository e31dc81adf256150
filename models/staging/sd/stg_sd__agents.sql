with source as (
    select * from {{ clean_source('sd', 'sd_agents') }}
),

final as (
    select
        cast(agent_id as {{ output_kpis.type_text() }}) as agent_id,
        cast(agent_name as {{ output_kpis.type_text() }}) as agent_name,
        cast(team_id as {{ output_kpis.type_text() }}) as team_id,
        cast(active_from_date as date) as active_from_date,
        cast(active_to_date as date) as active_to_date
    from source
)

select * from final
