{#- The unit of throughput: a serial number that passed the final inspection step of its route
    and was never scrapped. Duplicate scans and events after as_of are ignored. Event types and
    results are read by role (vars mes_event_type_values, mes_result_values). Incremental per
    serial number (strategy replace_units): a run computes the serials
    int_manufacturing__serials_to_build lists (all of them on a full build). -#}
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
{%- set is_inspection_event = output_kpis.code_in(
    'event_type', 'mes_event_type_values', ['inspection', 'retest']) -%}
{%- set is_scrap = output_kpis.code_in('event_type', 'mes_event_type_values', 'scrap') -%}
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

classified as (
    select max(classified_through) as sources_classified_at
    from serials_to_build
),

shifts as (
    select * from {{ ref('int_manufacturing__shifts') }}
),

-- The completing shift is found by line and UTC day, not by a range join over every shift of
-- the line: a shift of at most a day is keyed by the day it starts and, when different, the day
-- it ends (no unit can fall in it on any other day). Longer shifts keep the plain range join.
short_shifts as (
    select *
    from shifts
    where shift_end_at <= {{ dbt.dateadd('day', 1, 'shift_start_at') }}
),

shift_days as (
    select
        shift_id,
        line_id,
        shift_date,
        shift_start_at,
        shift_end_at,
        cast(shift_start_at as date) as shift_day
    from short_shifts
    union all
    select
        shift_id,
        line_id,
        shift_date,
        shift_start_at,
        shift_end_at,
        cast(shift_end_at as date) as shift_day
    from short_shifts
    where cast(shift_end_at as date) <> cast(shift_start_at as date)
),

long_shifts as (
    select *
    from shifts
    where shift_end_at > {{ dbt.dateadd('day', 1, 'shift_start_at') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

site_offsets as (
    {{ output_kpis.time_zone_offsets('sites', 'site_time_zone', 'utc') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

units as (
    select
        serial_number,
        min(work_order_id) as work_order_id,
        min(line_id) as line_id,
        min(site_id) as site_id,
        min(route_id) as route_id,
        min(event_at) as first_event_at,
        min(
            case
                when
                    is_final_step
                    and {{ is_inspection_event }}
                    and {{ output_kpis.code_in('event_result', 'mes_result_values', 'pass') }}
                    then event_at
            end
        ) as completed_at,
        max({{ bool_to_int(is_scrap) }}) = 1 as is_scrapped,
        max({{ bool_to_int(is_rework) }}) = 1 as has_rework
    from events_as_of
    group by serial_number
),

unit_shifts as (
    select
        units.serial_number,
        shift_days.shift_id,
        shift_days.shift_date
    from units
    inner join shift_days
        on
            units.line_id = shift_days.line_id
            and cast(units.completed_at as date) = shift_days.shift_day
            and units.completed_at >= shift_days.shift_start_at
            and units.completed_at < shift_days.shift_end_at
    union all
    select
        units.serial_number,
        long_shifts.shift_id,
        long_shifts.shift_date
    from units
    inner join long_shifts
        on
            units.line_id = long_shifts.line_id
            and units.completed_at >= long_shifts.shift_start_at
            and units.completed_at < long_shifts.shift_end_at
),

final as (
    select
        units.serial_number,
        units.work_order_id,
        units.line_id,
        units.site_id,
        units.route_id,
        units.first_event_at,
        cast(
            {{ output_kpis.utc_to_local_via(
                'started_offsets', 'units.first_event_at', 'sites.site_time_zone'
            ) }} as date
        ) as started_local_date,
        units.completed_at,
        cast(
            {{ output_kpis.utc_to_local_via(
                'completed_offsets', 'units.completed_at', 'sites.site_time_zone'
            ) }} as date
        ) as completed_local_date,
        unit_shifts.shift_id as completed_shift_id,
        unit_shifts.shift_date as completed_shift_date,
        units.is_scrapped,
        units.has_rework,
        units.completed_at is not null as is_completed,
        units.completed_at is not null and not units.is_scrapped as is_good_unit,
        case
            when units.is_scrapped then 'scrapped'
            when units.completed_at is not null then 'good'
            else 'in_progress'
        end as unit_status,
        classified.sources_classified_at,
        as_of.as_of_at
    from units
    cross join as_of
    cross join classified
    left join sites on units.site_id = sites.site_id
    left join unit_shifts on units.serial_number = unit_shifts.serial_number
    {{ output_kpis.time_zone_offset_join(
        'site_offsets', 'sites.site_time_zone', 'units.first_event_at', alias='started_offsets'
    ) }}
    {{ output_kpis.time_zone_offset_join(
        'site_offsets', 'sites.site_time_zone', 'units.completed_at', alias='completed_offsets'
    ) }}
)

{{ output_kpis.overwrite_units('final') }}
