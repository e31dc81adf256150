with source as (
    select * from {{ clean_source('oms', 'oms_shipments') }}
),

final as (
    select
        cast(shipment_id as {{ output_kpis.type_text() }}) as shipment_id,
        cast(order_line_id as {{ output_kpis.type_text() }}) as order_line_id,
        cast(shipped_quantity as integer) as shipped_quantity,
        cast(shipped_at as timestamp) as shipped_at,
        cast(delivered_at as timestamp) as delivered_at,
        classified_at
    from source
)

select * from final
