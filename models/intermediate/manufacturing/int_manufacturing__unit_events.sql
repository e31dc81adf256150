{#- The MES events the unit models count: duplicate scans removed, nothing after as_of, each
    event marked with whether its step is the final step of the unit's route and with its number
    of staged defects. Incremental per serial number (strategy replace_units): a run computes the
    serials int_manufacturing__serials_to_build lists (all of them on a full build). -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy=output_kpis.incremental_strategy('replace_units'),
    partition_by=output_kpis.overwrite_partition_by('as_of_at'),
    units_to_build='int_manufacturing__serials_to_build',
    unique_key='serial_number',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{#- an earlier as_of than the table's fails the run (rows known then would linger) #}
{%- do output_kpis.previous_as_of() %}
{%- do output_kpis.check_units_selected_in_full('int_manufacturing__event_scans') %}

with serials_to_build as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_manufacturing__serials_to_build') }}
),

-- A full build takes every serial (the list holds them all): no join.
unit_events as (
    select all_events.*
    from {{ ref('int_manufacturing__event_scans') }} as all_events
    {%- if is_incremental() %}
    inner join serials_to_build on all_events.serial_number = serials_to_build.serial_number
    {%- endif %}
),

route_steps as (
    select * from {{ ref('stg_mes__route_steps') }}
),

event_defects as (
    {{ output_kpis.child_row_counts(ref('stg_mes__defects'), 'event_id', 'defect_count') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

classified as (
    select max(classified_through) as sources_classified_at
    from serials_to_build
),

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
        cast(coalesce(event_defects.defect_count, 0) as integer) as defect_count,
        classified.sources_classified_at,
        as_of.as_of_at
    from unit_events
    cross join as_of
    cross join classified
    left join route_steps
        on
            unit_events.route_id = route_steps.route_id
            and unit_events.step_code = route_steps.step_code
    left join event_defects on unit_events.event_id = event_defects.event_id
    where
        not unit_events.is_duplicate_scan
        and unit_events.event_at <= as_of.as_of_at
)

{{ output_kpis.overwrite_units('final') }}
