with source as (
    select * from {{ clean_source('sd', 'sd_sla_policies') }}
),

final as (
    select
        cast(policy_id as {{ output_kpis.type_text() }}) as policy_id,
        {{ output_kpis.dimension_text('priority') }} as priority,
        {{ output_kpis.normalized_code('metric') }} as metric,
        cast(target_minutes as integer) as target_minutes,
        {{ output_kpis.normalized_code('clock') }} as clock,
        cast(pause_on_pending as boolean) as is_paused_on_pending,
        cast(valid_from_date as date) as valid_from_date,
        cast(valid_to_date as date) as valid_to_date,
        classified_at
    from source
)

select * from final
