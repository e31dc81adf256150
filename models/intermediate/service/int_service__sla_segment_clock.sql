{#- Part of int_service__ticket_sla_measurements: the clock. Clock milliseconds per run
    segment (int_service__sla_run_segments), from the schedule's cumulative business time at
    the segment's ends - no expansion of segments into business-hours intervals; a segment
    with no schedule runs on the calendar clock. elapsed_cum_ms stops at the end of the
    measured span (the event, or as_of). -#}
{%- set clock_keys = ['sla_measurement_id', 'clock_variant'] -%}
{{ config(materialized='table') }}

with measurements as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_measurement_spans') }}
),

run_segments as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_run_segments') }}
),

open_intervals as (
    select * from {{ ref('int_service__sla_open_intervals') }}
),

-- the dates any segment point falls on (int_service__sla_open_intervals spans the same days)
calendar_bounds as (
    {{ output_kpis.sla_clock_calendar_bounds('measurements') }}
),

open_index as (
    {{ business_time_open_index('open_intervals') }}
),

open_lookup as (
    {{ business_time_open_lookup(
        'open_index',
        '(select first_date from calendar_bounds)',
        '(select last_date from calendar_bounds)') }}
),

clock_variants as (
    select 'clock' as clock_variant
    union all
    select 'unpaused' as clock_variant
),

measure_ends as (
    select
        measurements.sla_measurement_id,
        clock_variants.clock_variant,
        measurements.pause_cutoff_at as measured_until_at
    from measurements
    cross join clock_variants
),

final as (
    {{ business_time_segment_clock('run_segments', 'open_lookup', 'measure_ends', clock_keys) }}
)

select * from final
