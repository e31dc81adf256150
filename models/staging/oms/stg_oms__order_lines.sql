with source as (
    select * from {{ clean_source('oms', 'oms_order_lines') }}
),

final as (
    select
        cast(order_line_id as {{ output_kpis.type_text() }}) as order_line_id,
        -- a line with no order (null, or the column left out) is its own order
        cast(coalesce(order_id, order_line_id) as {{ output_kpis.type_text() }}) as order_id,
        cast(line_number as integer) as line_number,
        cast(product_code as {{ output_kpis.type_text() }}) as product_code,
        cast(ordered_quantity as integer) as ordered_quantity,
        cast(first_promised_date as date) as first_promised_date,
        cast(first_promised_at as timestamp) as first_promised_at,
        cast(revised_promised_date as date) as revised_promised_date,
        cast(revised_promised_at as timestamp) as revised_promised_at,
        cast(cancelled_at as timestamp) as cancelled_at,
        classified_at
    from source
)

select * from final
