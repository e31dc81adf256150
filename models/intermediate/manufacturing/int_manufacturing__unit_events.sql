{#- The MES events the unit models count: duplicate scans removed, nothing after as_of, each
    event marked with whether its step is the final step of the unit's route. -#}
with unit_events as (
    select * from {{ ref('stg_mes__unit_events') }}
),

route_steps as (
    select * from {{ ref('stg_mes__route_steps') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

final as (
    select
        unit_events.event_id,
        unit_events.serial_number,
        unit_events.work_order_id,
        unit_events.line_id,
        unit_events.site_id,
        unit_events.route_id,
        unit_events.step_code,
        route_steps.step_sequence,
        coalesce(route_steps.is_final_step, false) as is_final_step,
        unit_events.event_type,
        unit_events.event_result,
        unit_events.event_at,
        unit_events.event_local_date,
        as_of.as_of_at
    from unit_events
    cross join as_of
    left join route_steps
        on
            unit_events.route_id = route_steps.route_id
            and unit_events.step_code = route_steps.step_code
    where
        not unit_events.is_duplicate_scan
        and unit_events.event_at <= as_of.as_of_at
)

select * from final
