{#- Part of int_service__ticket_sla_measurements: the deadline of each measurement - the
    instant its clock (variant `clock` of int_service__sla_segment_clock) reaches
    target_minutes, to the millisecond. No row when the running clock cannot reach the
    target within the horizon (int_service__sla_measurement_spans). -#}
{%- set clock_keys = ['sla_measurement_id', 'clock_variant'] -%}
{{ config(materialized='table') }}

with measurements as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_measurement_spans') }}
),

run_segments as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_run_segments') }}
),

segment_clock as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_segment_clock') }}
    where clock_variant = 'clock'
),

open_intervals as (
    select * from {{ ref('int_service__sla_open_intervals') }}
),

open_index as (
    {{ business_time_open_index('open_intervals') }}
),

clock_targets as (
    select
        sla_measurement_id,
        'clock' as clock_variant,
        target_minutes
    from measurements
),

segment_deadlines as (
    {{ business_time_segment_deadlines(
        'segment_clock', 'open_index', 'clock_targets', clock_keys) }}
),

-- Deadlines reached exactly at the end of a clock interval are taken from the interval-by-
-- interval float running sum, as they always were (it can put them at the next opening).
interval_end_segments as (
    select run_segments.*
    from run_segments
    inner join segment_deadlines
        on
            run_segments.sla_measurement_id = segment_deadlines.sla_measurement_id
            and run_segments.clock_variant = segment_deadlines.clock_variant
    where segment_deadlines.is_at_interval_end = 1
),

interval_end_clock_intervals as (
    {{ business_time_clock_intervals('interval_end_segments', 'open_intervals', clock_keys) }}
),

final as (
    select
        sla_measurement_id,
        deadline_at
    from segment_deadlines
    where is_at_interval_end = 0

    union all

    select
        sla_measurement_id,
        deadline_at
    from (
        {{ business_time_deadlines('interval_end_clock_intervals', 'clock_targets', clock_keys) }}
    ) as interval_end_deadlines
)

select * from final
