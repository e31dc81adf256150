{#- The MES events the unit models count: duplicate scans removed, nothing after as_of, each
    event marked with whether its step is the final step of the unit's route. Incremental per
    serial number (macros/incremental.sql): a serial is rebuilt when it has an event after the
    watermark (previous as_of - incremental_lookback_days) or its source fingerprint changed. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='serial_number',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{%- set watermark = incremental_watermark() %}

with unit_events as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_manufacturing__event_scans') }}
),

route_steps as (
    select * from {{ ref('stg_mes__route_steps') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

-- Every staged row of the serial, duplicate scans and future events included.
unit_fingerprints as (
    select
        serial_number,
        {{ source_fingerprint([
            'event_id', 'work_order_id', 'line_id', 'site_id', 'route_id', 'step_code',
            'event_type', 'event_result', 'event_at', 'event_local_date', 'is_duplicate_scan',
        ], 'event_id') }} as source_fingerprint
    from unit_events
    group by serial_number
),

{%- if is_incremental() %}

units_to_build as (
    {{ units_to_build(
        'serial_number',
        built='(select distinct serial_number, source_fingerprint from ' ~ this ~ ')',
        recent_units='select serial_number from unit_events where event_at > ' ~ watermark,
    ) }}
),
{%- endif %}

final as (
    select
        unit_events.event_id,
        unit_events.serial_number,
        unit_events.work_order_id,
        unit_events.line_id,
        unit_events.site_id,
        unit_events.route_id,
        unit_events.step_code,
        route_steps.step_sequence,
        coalesce(route_steps.is_final_step, false) as is_final_step,
        unit_events.event_type,
        unit_events.event_result,
        unit_events.event_at,
        unit_events.event_local_date,
        unit_fingerprints.source_fingerprint,
        as_of.as_of_at
    from unit_events
    cross join as_of
    {#- A full build takes every unit: no join to units_to_build (all of unit_fingerprints). #}
    {%- if is_incremental() %}
    inner join units_to_build
        on unit_events.serial_number = units_to_build.serial_number
    {%- endif %}
    inner join unit_fingerprints
        on unit_events.serial_number = unit_fingerprints.serial_number
    left join route_steps
        on
            unit_events.route_id = route_steps.route_id
            and unit_events.step_code = route_steps.step_code
    where
        not unit_events.is_duplicate_scan
        and unit_events.event_at <= as_of.as_of_at
)

select * from final
