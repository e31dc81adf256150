with source as (
    select * from {{ clean_source('outcomes', 'cx_survey_responses') }}
),

final as (
    select
        cast(response_id as {{ output_kpis.type_text() }}) as response_id,
        {{ output_kpis.normalized_code('survey_type') }} as survey_type,
        nullif(cast(ticket_id as {{ output_kpis.type_text() }}), '') as ticket_id,
        cast(customer_id as {{ output_kpis.type_text() }}) as customer_id,
        cast(score as integer) as score,
        cast(responded_at as timestamp) as responded_at
    from source
)

select * from final
