{#- The unit of first-pass yield: a serial number entering an inspection step. It is first-pass
    when its first inspection passed, with no retest, rework, repair or recorded defect at that
    step. Reported in the period of the first inspection; a unit not yet inspected at a step
    (WIP) has no row for it and so stays out of the denominator. Incremental per serial number
    (strategy replace_units): a run computes the serials int_manufacturing__serials_to_build
    lists (all of them on a full build). -#}
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
{%- do output_kpis.check_units_selected_in_full('int_manufacturing__unit_events') %}
{#- Event types and results by role (var mes_event_type_values, mes_result_values). #}
{%- set is_inspection_event = output_kpis.code_in(
    'events_as_of.event_type', 'mes_event_type_values', ['inspection', 'retest']) %}
{%- set is_retest = output_kpis.code_in('event_type', 'mes_event_type_values', 'retest') %}
{%- set is_rework = output_kpis.code_in('event_type', 'mes_event_type_values', 'rework') %}

with serials_to_build as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_manufacturing__serials_to_build') }}
),

-- A full build takes every serial (the list holds them all): no join.
events_as_of as (
    select all_events_as_of.*
    from {{ ref('int_manufacturing__unit_events') }} as all_events_as_of
    {%- if is_incremental() %}
    inner join serials_to_build
        on all_events_as_of.serial_number = serials_to_build.serial_number
    {%- endif %}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

classified as (
    select max(classified_through) as sources_classified_at
    from serials_to_build
),

-- Each event with its defect count; inspections ranked within their serial and step, so the
-- first inspection is picked out in the step aggregate below rather than joined back.
ranked_events as (
    select
        events_as_of.serial_number,
        events_as_of.step_code,
        events_as_of.line_id,
        events_as_of.site_id,
        events_as_of.route_id,
        events_as_of.step_sequence,
        events_as_of.event_type,
        events_as_of.event_at,
        events_as_of.event_local_date,
        {{ output_kpis.code_role('events_as_of.event_result', 'mes_result_values') }}
            as event_result,
        events_as_of.defect_count,
        {{ bool_to_int(is_inspection_event) }} as is_inspection,
        row_number() over (
            partition by
                events_as_of.serial_number,
                events_as_of.step_code,
                {{ bool_to_int(is_inspection_event) }}
            order by events_as_of.event_at, events_as_of.event_id
        ) as event_rank
    from events_as_of
),

step_activity as (
    select
        serial_number,
        step_code,
        min(line_id) as line_id,
        min(site_id) as site_id,
        min(route_id) as route_id,
        min(step_sequence) as step_sequence,
        max(case when is_inspection = 1 and event_rank = 1 then event_at end)
            as first_inspected_at,
        max(case when is_inspection = 1 and event_rank = 1 then event_local_date end)
            as first_inspected_local_date,
        max(case when is_inspection = 1 and event_rank = 1 then event_result end)
            as first_result,
        sum(is_inspection) as inspection_count,
        sum({{ bool_to_int(is_retest) }}) as retest_count,
        sum({{ bool_to_int(is_rework) }}) as rework_count,
        coalesce(sum(defect_count), 0) as defect_count
    from ranked_events
    group by serial_number, step_code
),

final as (
    select
        step_activity.serial_number || '|' || step_activity.step_code as inspection_id,
        step_activity.serial_number,
        step_activity.step_code,
        step_activity.step_sequence,
        step_activity.route_id,
        step_activity.line_id,
        step_activity.site_id,
        step_activity.first_inspected_at,
        step_activity.first_inspected_local_date,
        step_activity.first_result,
        cast(step_activity.inspection_count as integer) as inspection_count,
        cast(step_activity.retest_count as integer) as retest_count,
        cast(step_activity.rework_count as integer) as rework_count,
        cast(step_activity.defect_count as integer) as defect_count,
        (
            step_activity.first_result = 'pass'
            and step_activity.inspection_count = 1
            and step_activity.retest_count = 0
            and step_activity.rework_count = 0
            and step_activity.defect_count = 0
        ) as is_first_pass,
        classified.sources_classified_at,
        as_of.as_of_at
    from step_activity
    cross join as_of
    cross join classified
    -- A step with no inspection yet (WIP) has no row; nor has an unknown step.
    where
        step_activity.inspection_count > 0
        and step_activity.step_code is not null
)

{{ output_kpis.overwrite_units('final') }}
