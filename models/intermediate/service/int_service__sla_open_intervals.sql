{#- Part of int_service__ticket_sla_measurements: the business hours the SLA clocks count,
    as UTC open intervals per schedule x local date (DST-aware), over every date a clock
    can run on (a day either side of the measured spans). Small: a view. -#}
{{ config(materialized='view') }}

with measurements as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_measurement_spans') }}
),

business_hours as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__business_hours') }}
),

calendar_bounds as (
    {{ output_kpis.sla_clock_calendar_bounds('measurements') }}
),

final as (
    {{ business_time_open_intervals(
        'business_hours',
        '(select first_date from calendar_bounds)',
        '(select last_date from calendar_bounds)') }}
)

select * from final
