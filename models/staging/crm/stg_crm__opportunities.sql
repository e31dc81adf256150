with source as (
    select * from {{ clean_source('crm', 'crm_opportunities') }}
),

final as (
    select
        cast(opportunity_id as {{ output_kpis.type_text() }}) as opportunity_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(rep_id as {{ output_kpis.type_text() }}) as rep_id,
        {{ parse_utc_timestamp('created_at') }} as created_at,
        {{ parse_utc_timestamp('qualified_at') }} as qualified_at,
        {{ parse_utc_timestamp('closed_at') }} as closed_at,
        {{ output_kpis.normalized_code('stage') }} as stage,
        cast(amount as decimal(18, 2)) as amount
    from source
)

select * from final
