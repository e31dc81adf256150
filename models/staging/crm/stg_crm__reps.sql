with source as (
    select * from {{ clean_source('crm', 'crm_reps') }}
),

final as (
    select
        cast(rep_id as {{ output_kpis.type_text() }}) as rep_id,
        cast(rep_name as {{ output_kpis.type_text() }}) as rep_name,
        {{ output_kpis.dimension_text('sales_team') }} as sales_team,
        {{ output_kpis.dimension_text('region') }} as region
    from source
)

select * from final
