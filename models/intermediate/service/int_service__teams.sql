{#- One row per service team with the time zone of its business-hours schedule: the zone that
    decides which local day a ticket, an SLA deadline or an agent-day belongs to. -#}
with teams as (
    select * from {{ ref('stg_sd__teams') }}
),

business_hours as (
    select * from {{ ref('stg_sd__business_hours') }}
),

schedule_time_zones as (
    select
        schedule_id,
        max(time_zone) as time_zone
    from business_hours
    group by schedule_id
),

final as (
    select
        teams.team_id,
        teams.team_name,
        teams.schedule_id,
        schedule_time_zones.time_zone
    from teams
    left join schedule_time_zones on teams.schedule_id = schedule_time_zones.schedule_id
)

select * from final
