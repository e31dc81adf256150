with agents as (
    select * from {{ ref('stg_sd__agents') }}
),

teams as (
    select * from {{ ref('int_service__teams') }}
),

business_hours as (
    select * from {{ ref('stg_sd__business_hours') }}
),

tickets as (
    select * from {{ ref('stg_sd__tickets') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

-- Agent-days are counted from the first ticket in the data to as_of, so a period before the
-- desk's history starts does not dilute tickets resolved per agent per day.
calendar_bounds as (
    select
        min(cast(tickets.created_at as date)) as first_date,
        {{ dbt.dateadd('day', 1, 'cast(max(as_of.as_of_at) as date)') }} as last_date
    from tickets
    cross join as_of
    where tickets.created_at <= as_of.as_of_at
),

open_intervals as (
    {{ business_time_open_intervals(
        'business_hours',
        '(select first_date from calendar_bounds)',
        '(select last_date from calendar_bounds)') }}
),

-- A business day counts once the schedule has opened on it by as_of.
schedule_days as (
    select
        open_intervals.schedule_id,
        open_intervals.local_date as work_date,
        sum({{ minutes_between('open_intervals.open_at', 'open_intervals.close_at') }})
            as scheduled_minutes
    from open_intervals
    cross join as_of
    group by open_intervals.schedule_id, open_intervals.local_date
    having min(open_intervals.open_at) < max(as_of.as_of_at)
),

active_agent_days as (
    select
        agents.agent_id,
        agents.team_id,
        teams.schedule_id,
        teams.time_zone,
        schedule_days.work_date,
        as_of.as_of_at,
        cast(schedule_days.scheduled_minutes as integer) as scheduled_minutes
    from agents
    inner join teams
        on agents.team_id = teams.team_id
    inner join schedule_days
        on teams.schedule_id = schedule_days.schedule_id
    cross join as_of
    where
        (
            agents.active_from_date is null
            or schedule_days.work_date >= agents.active_from_date
        )
        and (
            agents.active_to_date is null
            or schedule_days.work_date < agents.active_to_date
        )
),

final as (
    select  -- noqa: ST06
        agent_id || '|' || cast(work_date as {{ output_kpis.type_text() }}) as agent_day_id,
        agent_id,
        team_id,
        schedule_id,
        time_zone,
        work_date,
        scheduled_minutes,
        as_of_at
    from active_agent_days
)

select * from final
