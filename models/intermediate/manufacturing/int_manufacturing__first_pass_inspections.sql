{#- The unit of first-pass yield: a serial number entering an inspection step. It is first-pass
    when its first inspection passed, with no retest, rework, repair or recorded defect at that
    step. Reported in the period of the first inspection; a unit not yet inspected at a step
    (WIP) has no row for it and so stays out of the denominator. -#}
with events_as_of as (
    select * from {{ ref('int_manufacturing__unit_events') }}
),

defects as (
    select * from {{ ref('stg_mes__defects') }}
),

event_defects as (
    select
        event_id,
        count(*) as defect_count
    from defects
    group by event_id
),

ranked_inspections as (
    select
        serial_number,
        step_code,
        event_at,
        event_local_date,
        event_result,
        row_number() over (
            partition by serial_number, step_code
            order by event_at, event_id
        ) as inspection_rank
    from events_as_of
    where event_type in ('inspection', 'retest')
),

step_activity as (
    select
        events_as_of.serial_number,
        events_as_of.step_code,
        min(events_as_of.line_id) as line_id,
        min(events_as_of.site_id) as site_id,
        min(events_as_of.route_id) as route_id,
        min(events_as_of.step_sequence) as step_sequence,
        sum({{ bool_to_int("events_as_of.event_type in ('inspection', 'retest')") }})
            as inspection_count,
        sum({{ bool_to_int("events_as_of.event_type = 'retest'") }}) as retest_count,
        sum({{ bool_to_int("events_as_of.event_type in ('rework', 'repair')") }}) as rework_count,
        coalesce(sum(event_defects.defect_count), 0) as defect_count
    from events_as_of
    left join event_defects on events_as_of.event_id = event_defects.event_id
    group by events_as_of.serial_number, events_as_of.step_code
),

final as (
    select
        step_activity.serial_number || '|' || step_activity.step_code as inspection_id,
        step_activity.serial_number,
        step_activity.step_code,
        step_activity.step_sequence,
        step_activity.route_id,
        step_activity.line_id,
        step_activity.site_id,
        first_inspection.event_at as first_inspected_at,
        first_inspection.event_local_date as first_inspected_local_date,
        first_inspection.event_result as first_result,
        cast(step_activity.inspection_count as integer) as inspection_count,
        cast(step_activity.retest_count as integer) as retest_count,
        cast(step_activity.rework_count as integer) as rework_count,
        cast(step_activity.defect_count as integer) as defect_count,
        (
            first_inspection.event_result = 'pass'
            and step_activity.inspection_count = 1
            and step_activity.retest_count = 0
            and step_activity.rework_count = 0
            and step_activity.defect_count = 0
        ) as is_first_pass
    from step_activity
    inner join ranked_inspections as first_inspection
        on
            step_activity.serial_number = first_inspection.serial_number
            and step_activity.step_code = first_inspection.step_code
            and first_inspection.inspection_rank = 1
)

select * from final
