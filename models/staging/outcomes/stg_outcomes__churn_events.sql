with source as (
    select * from {{ clean_source('outcomes', 'cs_churn_events') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'customer_id', 'churned_date') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(churned_date as date) as churned_date,
        cast(reason as {{ output_kpis.type_text() }}) as churn_reason
    from deduplicated
)

select * from final
