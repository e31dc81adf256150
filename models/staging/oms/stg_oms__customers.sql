with source as (
    select * from {{ clean_source('oms', 'oms_customers') }}
),

final as (
    select
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(customer_name as {{ output_kpis.type_text() }}) as customer_name,
        cast(segment as {{ output_kpis.type_text() }}) as customer_segment,
        cast(region as {{ output_kpis.type_text() }}) as region,
        cast(time_zone as {{ output_kpis.type_text() }}) as customer_time_zone,
        cast(signed_up_date as date) as signed_up_date
    from source
)

select * from final
