{#- The unit of throughput: a serial number that passed the final inspection step of its route
    and was never scrapped. Duplicate scans and events after as_of are ignored. -#}
with events_as_of as (
    select * from {{ ref('int_manufacturing__unit_events') }}
),

shifts as (
    select * from {{ ref('stg_mes__shifts') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

units as (
    select
        serial_number,
        min(work_order_id) as work_order_id,
        min(line_id) as line_id,
        min(site_id) as site_id,
        min(route_id) as route_id,
        min(event_at) as first_event_at,
        min(
            case
                when
                    is_final_step
                    and event_type in ('inspection', 'retest')
                    and event_result = 'pass'
                    then event_at
            end
        ) as completed_at,
        max({{ bool_to_int("event_type = 'scrap'") }}) = 1 as is_scrapped,
        max({{ bool_to_int("event_type in ('rework', 'repair')") }}) = 1 as has_rework
    from events_as_of
    group by serial_number
),

final as (
    select
        units.serial_number,
        units.work_order_id,
        units.line_id,
        units.site_id,
        units.route_id,
        units.first_event_at,
        cast(
            {{ utc_to_local('units.first_event_at', 'sites.site_time_zone') }} as date
        ) as started_local_date,
        units.completed_at,
        cast(
            {{ utc_to_local('units.completed_at', 'sites.site_time_zone') }} as date
        ) as completed_local_date,
        shifts.shift_id as completed_shift_id,
        shifts.shift_date as completed_shift_date,
        units.is_scrapped,
        units.has_rework,
        units.completed_at is not null as is_completed,
        units.completed_at is not null and not units.is_scrapped as is_good_unit,
        case
            when units.is_scrapped then 'scrapped'
            when units.completed_at is not null then 'good'
            else 'in_progress'
        end as unit_status,
        as_of.as_of_at
    from units
    cross join as_of
    left join sites on units.site_id = sites.site_id
    left join shifts
        on
            units.line_id = shifts.line_id
            and units.completed_at >= shifts.shift_start_at
            and units.completed_at < shifts.shift_end_at
)

select * from final
