-- clean_source quarantines every row of a change_id that occurs more than once (conflicting
-- duplicates and exact copies but the first), so its clean rows are already one per change_id:
-- no second deduplication window is needed here.
with source as (
    select * from {{ clean_source('sd', 'sd_ticket_status_changes') }}
),

final as (
    select
        cast(change_id as {{ output_kpis.type_text() }}) as change_id,
        cast(ticket_id as {{ output_kpis.type_text() }}) as ticket_id,
        {{ output_kpis.normalized_code('status') }} as status,
        cast(changed_at as timestamp) as changed_at,
        classified_at
    from source
)

select * from final
