{#- One row per ticket x SLA metric with its deadline, clock minutes and verdict. The parts,
    in order: int_service__sla_status_changes (status history), _sla_measurement_spans (policy,
    start, event, horizon), _sla_run_segments (pauses), _sla_open_intervals (business hours),
    _sla_segment_clock (clock), _sla_deadlines, _sla_verdicts (measurement and verdict). -#}

{#- Incremental per ticket (strategy replace_units): a run computes the tickets
    int_service__sla_tickets_to_build lists (all of them on a full build), every part of the
    chain reads those tickets only, and this model replaces their rows. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy=output_kpis.incremental_strategy('replace_units'),
    partition_by=output_kpis.overwrite_partition_by('as_of_at'),
    units_to_build='int_service__sla_tickets_to_build',
    unique_key='ticket_id',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
-- depends_on: {{ ref('stg_sd__tickets') }}
{#- an earlier as_of than the table's fails the run (rows known then would linger) #}
{%- do output_kpis.previous_as_of() %}
{%- do output_kpis.check_units_selected_in_full('stg_sd__tickets') %}

with measurements as (
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

classified as (
    select max(classified_through) as sources_classified_at
    from {{ ref('int_service__sla_tickets_to_build') }}
),

-- The tickets computed in this run (all of them on a full build).
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
        measurements.status_change_count,
        classified.sources_classified_at,
        verdicts.as_of_at
    from measurements
    cross join classified
    inner join verdicts on measurements.sla_measurement_id = verdicts.sla_measurement_id
    left join team_time_zones on measurements.team_id = team_time_zones.team_id
)

{{ output_kpis.overwrite_units('final') }}
