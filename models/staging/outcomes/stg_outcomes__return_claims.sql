with source as (
    select * from {{ clean_source('outcomes', 'qa_return_claims') }}
),

final as (
    select
        cast(claim_id as {{ output_kpis.type_text() }}) as claim_id,
        cast(claim_type as {{ output_kpis.type_text() }}) as claim_type,
        nullif(cast(serial_number as {{ output_kpis.type_text() }}), '') as serial_number,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(site_id as {{ output_kpis.type_text() }}) as site_id,
        cast(claimed_date as date) as claimed_date,
        cast(quantity as integer) as claimed_quantity
    from source
)

select * from final
