with source as (
    select * from {{ clean_source('outcomes', 'fin_invoices') }}
),

final as (
    select
        cast(invoice_id as {{ output_kpis.type_text() }}) as invoice_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        nullif(cast(site_id as {{ output_kpis.type_text() }}), '') as site_id,
        cast(invoice_date as date) as invoice_date,
        cast(amount as decimal(18, 2)) as amount
    from source
)

select * from final
