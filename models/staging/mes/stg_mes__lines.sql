with source as (
    select * from {{ clean_source('mes', 'mes_lines') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'line_id', 'line_name') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(line_id as {{ output_kpis.type_text() }}) as line_id,
        cast(site_id as {{ output_kpis.type_text() }}) as site_id,
        cast(line_name as {{ output_kpis.type_text() }}) as line_name,
        cast(route_id as {{ output_kpis.type_text() }}) as route_id
    from deduplicated
)

select * from final
