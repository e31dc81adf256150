{#- Part of int_service__ticket_sla_measurements: the pauses, as the stretches of time the
    clock may run (before business hours are applied). Variant `clock` honours the policy's
    pause; variant `unpaused` (pausing policies only) ignores it, so the difference of the two
    clocks is the clock time lost to pauses. Pause statuses are open ones (var
    sla_pause_statuses). A view: it is a cheap union read once by the clock and, for a few
    measurements, by the deadlines. -#}
{%- set pause_statuses = output_kpis.code_subset_var(
    'sla_pause_statuses', 'sd_status_values', 'open', ['pending', 'on_hold']) -%}
{%- set pause_status_list = "'" ~ (pause_statuses | join("', '")) ~ "'" -%}
{{ config(materialized='view') }}

with measurements as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_measurement_spans') }}
),

status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_status_changes') }}
),

final as (
    select
        sla_measurement_id,
        'clock' as clock_variant,
        'running' as segment_id,
        clock_schedule_id as schedule_id,
        started_at as segment_start_at,
        horizon_at as segment_end_at
    from measurements
    where not is_paused_on_pending

    union all

    select
        sla_measurement_id,
        'unpaused' as clock_variant,
        'running' as segment_id,
        clock_schedule_id as schedule_id,
        started_at as segment_start_at,
        horizon_at as segment_end_at
    from measurements
    where is_paused_on_pending

    union all

    -- before the first recorded status the ticket counts as new (clock running)
    select
        sla_measurement_id,
        'clock' as clock_variant,
        'before_first_change' as segment_id,
        clock_schedule_id as schedule_id,
        started_at as segment_start_at,
        least(coalesce(first_changed_at, horizon_at), horizon_at, pause_cutoff_at)
            as segment_end_at
    from measurements
    where is_paused_on_pending

    union all

    -- each stretch in a status that is no pause, cut at the event / as_of
    select
        measurements.sla_measurement_id,
        'clock' as clock_variant,
        status_changes.change_id as segment_id,
        measurements.clock_schedule_id as schedule_id,
        case
            when status_changes.changed_at > measurements.started_at
                then status_changes.changed_at
            else measurements.started_at
        end as segment_start_at,
        least(
            coalesce(status_changes.next_changed_at, measurements.horizon_at),
            measurements.horizon_at,
            measurements.pause_cutoff_at
        ) as segment_end_at
    from measurements
    inner join status_changes on measurements.ticket_id = status_changes.ticket_id
    where
        measurements.is_paused_on_pending
        and status_changes.status not in ({{ pause_status_list }})

    union all

    -- after the event / as_of the clock runs whatever the status
    select
        sla_measurement_id,
        'clock' as clock_variant,
        'after_cutoff' as segment_id,
        clock_schedule_id as schedule_id,
        pause_cutoff_at as segment_start_at,
        horizon_at as segment_end_at
    from measurements
    where is_paused_on_pending
)

select * from final
