with source as (
    select * from {{ clean_source('outcomes', 'cs_churn_events') }}
),

final as (
    select
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(churned_date as date) as churned_date,
        cast(reason as {{ output_kpis.type_text() }}) as churn_reason
    from source
)

select * from final
