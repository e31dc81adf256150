{#- One row per ticket x SLA metric with its deadline, clock minutes and verdict. The parts,
    in order: int_service__sla_status_changes (status history), _sla_measurement_spans (policy,
    start, event, horizon), _sla_run_segments (pauses), _sla_open_intervals (business hours),
    _sla_segment_clock (clock), _sla_deadlines, _sla_verdicts (measurement and verdict). -#}

{#- Incremental per ticket (macros/incremental.sql): a ticket is rebuilt while either of its
    measurements has no event yet (its status and elapsed minutes move with as_of), when it was
    created, replied to or changed status after the watermark (previous as_of -
    incremental_lookback_days), or when the fingerprint of its rows changed. The parts are
    computed for every ticket; this model writes only the tickets to rebuild. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='ticket_id',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{%- set watermark = incremental_watermark() %}

with all_tickets as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__tickets') }}
),

all_status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__ticket_status_changes') }}
),

teams as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__teams') }}
),

customers as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__customers') }}
),

measurements as (
    select * from {{ ref('int_service__sla_measurement_spans') }}
),

verdicts as (
    select * from {{ ref('int_service__sla_verdicts') }}
),

-- the zone of the team's schedule: the local day a measurement reports on
team_time_zones as (
    select
        team_id,
        time_zone
    from {{ ref('int_service__teams') }}
),

change_fingerprints as (
    select
        ticket_id,
        {{ source_fingerprint(['change_id', 'status', 'changed_at'], 'change_id') }}
            as changes_fingerprint
    from all_status_changes
    group by ticket_id
),

-- The ticket, its team's schedule, its customer's segment and all of its status changes.
unit_fingerprints as (
    select
        all_tickets.ticket_id,
        {{ source_fingerprint([
            'all_tickets.customer_id', 'all_tickets.team_id', 'all_tickets.agent_id',
            'all_tickets.priority', 'all_tickets.created_at', 'all_tickets.first_replied_at',
            'teams.schedule_id', 'customers.customer_segment',
            'change_fingerprints.changes_fingerprint',
        ], 'all_tickets.ticket_id') }} as source_fingerprint
    from all_tickets
    left join teams on all_tickets.team_id = teams.team_id
    left join customers on all_tickets.customer_id = customers.customer_id
    left join change_fingerprints on all_tickets.ticket_id = change_fingerprints.ticket_id
    group by all_tickets.ticket_id
),

{%- if is_incremental() %}

units_to_build as (
    {{ units_to_build(
        'ticket_id',
        built='(select ticket_id, max(source_fingerprint) as source_fingerprint,'
            ~ ' max(case when event_at is null then 1 else 0 end) as has_open_measurement'
            ~ ' from ' ~ this ~ ' group by ticket_id)',
        still_open='built.has_open_measurement = 1',
        recent_units='select ticket_id from all_tickets where created_at > ' ~ watermark
            ~ ' or first_replied_at > ' ~ watermark
            ~ ' union all select ticket_id from all_status_changes where changed_at > '
            ~ watermark,
    ) }}
),

{%- endif %}

-- A full build takes every ticket: no join to units_to_build (all of unit_fingerprints).
final as (
    select
        measurements.sla_measurement_id,
        measurements.ticket_id,
        measurements.metric,
        measurements.priority,
        measurements.team_id,
        measurements.agent_id,
        measurements.customer_segment,
        measurements.policy_id,
        measurements.clock,
        measurements.target_minutes,
        measurements.started_at,
        verdicts.deadline_at,
        measurements.event_at,
        verdicts.elapsed_clock_minutes,
        verdicts.paused_minutes,
        measurements.reopen_count,
        verdicts.sla_status,
        verdicts.is_met,
        verdicts.is_breached,
        verdicts.reporting_at,
        team_time_zones.time_zone,
        unit_fingerprints.source_fingerprint,
        verdicts.as_of_at
    from measurements
    inner join verdicts on measurements.sla_measurement_id = verdicts.sla_measurement_id
    inner join unit_fingerprints on measurements.ticket_id = unit_fingerprints.ticket_id
    {%- if is_incremental() %}
    inner join units_to_build on measurements.ticket_id = units_to_build.ticket_id
    {%- endif %}
    left join team_time_zones on measurements.team_id = team_time_zones.team_id
)

select * from final
