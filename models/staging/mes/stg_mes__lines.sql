with source as (
    select * from {{ clean_source('mes', 'mes_lines') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'line_id', 'line_name') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(line_id as varchar) as line_id,
        cast(site_id as varchar) as site_id,
        cast(line_name as varchar) as line_name,
        cast(route_id as varchar) as route_id
    from deduplicated
)

select * from final
