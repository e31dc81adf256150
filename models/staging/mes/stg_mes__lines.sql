with source as (
    select * from {{ clean_source('mes', 'mes_lines') }}
),

final as (
    select
        cast(line_id as {{ output_kpis.type_text() }}) as line_id,
        cast(site_id as {{ output_kpis.type_text() }}) as site_id,
        cast(line_name as {{ output_kpis.type_text() }}) as line_name,
        cast(route_id as {{ output_kpis.type_text() }}) as route_id,
        classified_at
    from source
)

select * from final
