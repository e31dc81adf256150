with source as (
    select * from {{ clean_source('mes', 'mes_route_steps') }}
),

final as (
    select
        cast(route_id as {{ output_kpis.type_text() }}) as route_id,
        cast(step_code as {{ output_kpis.type_text() }}) as step_code,
        cast(step_sequence as integer) as step_sequence,
        cast(is_final_step as boolean) as is_final_step,
        classified_at
    from source
)

select * from final
