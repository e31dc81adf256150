with source as (
    select * from {{ clean_source('mes', 'mes_work_orders') }}
),

final as (
    select
        cast(work_order_id as {{ output_kpis.type_text() }}) as work_order_id,
        cast(line_id as {{ output_kpis.type_text() }}) as line_id,
        cast(product_code as {{ output_kpis.type_text() }}) as product_code,
        cast(planned_quantity as integer) as planned_quantity,
        -- site-local wall clock as written (no KPI reads it; UTC would need the site's zone)
        cast(released_local as {{ output_kpis.type_text() }}) as released_local,
        classified_at
    from source
)

select * from final
