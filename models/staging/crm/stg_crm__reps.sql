with source as (
    select * from {{ clean_source('crm', 'crm_reps') }}
),

final as (
    select
        cast(rep_id as {{ output_kpis.type_text() }}) as rep_id,
        cast(rep_name as {{ output_kpis.type_text() }}) as rep_name,
        cast(sales_team as {{ output_kpis.type_text() }}) as sales_team,
        cast(region as {{ output_kpis.type_text() }}) as region
    from source
)

select * from final
