with source as (
    select * from {{ clean_source('sd', 'sd_ticket_status_changes') }}
),

deduplicated as (
    select *
    from {{ deduplicate('source', 'change_id', 'changed_at desc, status desc') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(change_id as {{ output_kpis.type_text() }}) as change_id,
        cast(ticket_id as {{ output_kpis.type_text() }}) as ticket_id,
        cast(status as {{ output_kpis.type_text() }}) as status,
        {{ parse_utc_timestamp('changed_at') }} as changed_at
    from deduplicated
)

select * from final
