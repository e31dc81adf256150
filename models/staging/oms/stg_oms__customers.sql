with source as (
    select * from {{ clean_source('oms', 'oms_customers') }}
),

final as (
    select
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(customer_name as {{ output_kpis.type_text() }}) as customer_name,
        {{ output_kpis.dimension_text('segment') }} as customer_segment,
        {{ output_kpis.dimension_text('region') }} as region,
        cast(time_zone as {{ output_kpis.type_text() }}) as customer_time_zone,
        cast(signed_up_date as date) as signed_up_date,
        classified_at
    from source
)

select * from final
