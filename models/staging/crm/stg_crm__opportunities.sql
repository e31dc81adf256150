with source as (
    select * from {{ clean_source('crm', 'crm_opportunities') }}
),

final as (
    select
        cast(opportunity_id as {{ output_kpis.type_text() }}) as opportunity_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(rep_id as {{ output_kpis.type_text() }}) as rep_id,
        cast(created_at as timestamp) as created_at,
        cast(qualified_at as timestamp) as qualified_at,
        cast(closed_at as timestamp) as closed_at,
        {{ output_kpis.normalized_code('stage') }} as stage,
        cast(amount as decimal(18, 2)) as amount
    from source
)

select * from final
