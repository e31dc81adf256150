with source as (
    select * from {{ clean_source('oms', 'oms_orders') }}
),

final as (
    select
        cast(order_id as {{ output_kpis.type_text() }}) as order_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(site_id as {{ output_kpis.type_text() }}) as site_id,
        cast(ordered_at as timestamp) as ordered_at,
        classified_at
    from source
)

select * from final
