with source as (
    select * from {{ clean_source('oms', 'oms_orders') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'order_id', 'ordered_at desc') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(order_id as {{ output_kpis.type_text() }}) as order_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(site_id as {{ output_kpis.type_text() }}) as site_id,
        {{ parse_utc_timestamp('ordered_at') }} as ordered_at
    from deduplicated
)

select * from final
