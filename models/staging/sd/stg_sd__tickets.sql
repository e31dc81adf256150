with source as (
    select * from {{ clean_source('sd', 'sd_tickets') }}
),

final as (
    select
        cast(ticket_id as {{ output_kpis.type_text() }}) as ticket_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(team_id as {{ output_kpis.type_text() }}) as team_id,
        cast(agent_id as {{ output_kpis.type_text() }}) as agent_id,
        {{ output_kpis.dimension_text('priority') }} as priority,
        {{ output_kpis.dimension_text('channel') }} as channel,
        cast(created_at as timestamp) as created_at,
        cast(first_replied_at as timestamp) as first_replied_at,
        classified_at
    from source
)

select * from final
