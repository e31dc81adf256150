{#- The serial numbers the manufacturing unit models (event scans, unit events, first-pass
    inspections, completed units: incremental, strategy replace_units) compute in this run, and
    classified_through: the newest classified_at among the staged rows they read, which they
    store (sources_classified_at) as what they have seen. Every serial when any of the four is
    built in full. On an incremental run, only the serials that what changed since touches,
    found from the changed rows, never by reading every serial's rows (seen = the least of the
    four models' sources_classified_at; rows classified after it are new or changed):
      1. a staged event classified after seen (new, late, changed or reclassified): its serial;
      2. an event the scans hold whose staged row changed or left staging (deleted from the raw
         table, or quarantined): its serial before (the anti-join runs only when the counts
         show an event left);
      3. an event the scans hold after the previous as_of and at or before this one: events
         the previous as_of hid;
      4. a work order, line, site or route step classified after seen: the serials on it;
      5. a defect classified after seen (its event's serial), and an event whose number of
         staged defects is not the one the unit events stored (a defect deleted or moved);
      6. a shift classified after seen or gone: the serials completed in it before, or within
         its bounds now;
      7. every serial of the previous run's list when one of the four has not stored its
         classified_through yet (the previous run failed or skipped it).
    Hard deletes of a route step, and changes of definitional vars, need --full-refresh. -#}
{%- set chain = [
    'int_manufacturing__event_scans', 'int_manufacturing__unit_events',
    'int_manufacturing__first_pass_inspections', 'int_manufacturing__completed_units',
] -%}
{%- set built = {} -%}
{%- for model in chain -%}
    {%- do built.update({model: output_kpis.incremental_unit_relation(model)}) -%}
{%- endfor -%}
{%- set incremental = execute and (built.values() | select('none') | list | length) == 0 -%}
{{ config(
    materialized='table',
    pre_hook=["{{ output_kpis.keep_previous_list() }}"],
) }}
{%- if incremental -%}
    {%- set scans = built['int_manufacturing__event_scans'] -%}
    {%- set events = built['int_manufacturing__unit_events'] -%}
    {%- set units = built['int_manufacturing__completed_units'] -%}
    {%- set seen = output_kpis.seen_classified_at(built.values() | list) -%}
    {%- set previous_as_ofs = [] -%}
    {%- for model in chain[1:] -%}
        {%- do previous_as_ofs.append(output_kpis.previous_as_of(built[model])) -%}
    {%- endfor -%}
    {%- set previous = 'least(' ~ previous_as_ofs | join(', ') ~ ')' -%}
    {%- set left_staging = output_kpis.rows_left_staging(
        scans, ref('stg_mes__unit_events'), 'event_id', seen) -%}
{%- endif %}
-- depends_on: {{ ref('int_manufacturing__shifts') }}

with staged_events as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__unit_events') }}
),

work_orders as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__work_orders') }}
),

lines as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__lines') }}
),

sites as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__sites') }}
),

route_steps as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__route_steps') }}
),

defects as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__defects') }}
),

staged_shifts as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_mes__shifts') }}
),

classified as (
    {{ output_kpis.classified_through([
        'staged_events', 'work_orders', 'lines', 'sites', 'route_steps', 'defects',
        'staged_shifts',
    ]) }}
),
{%- if incremental %}

changed_events as (
    select
        event_id,
        serial_number
    from staged_events
    where classified_at > {{ seen }}
),

changed_defects as (
    select event_id
    from defects
    where classified_at > {{ seen }}
),

defect_counts as (
    {{ output_kpis.child_row_counts('defects', 'event_id', 'defect_count') }}
),

shifts as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_manufacturing__shifts') }}
),

changed_shifts as (
    select shift_id
    from staged_shifts
    where classified_at > {{ seen }}
),

-- the bounds of the changed shifts, joined before the units are (Spark would join every unit
-- to every shift of its line first)
changed_shift_bounds as (
    select
        shifts.line_id,
        shifts.shift_start_at,
        shifts.shift_end_at
    from shifts
    inner join changed_shifts on shifts.shift_id = changed_shifts.shift_id
),

touched as (
    -- 1. new, late, changed or reclassified events: their serial now
    select serial_number
    from changed_events
    union all
    -- 2. the serial a changed event had
    select scans.serial_number
    from {{ scans }} as scans
    inner join changed_events on scans.event_id = changed_events.event_id
    {%- if left_staging != 0 %}
    union all
    -- 2. events that left staging ({{ left_staging }} by the counts)
    select scans.serial_number
    from {{ scans }} as scans
    where not exists (
        select 1
        from staged_events
        where staged_events.event_id = scans.event_id
    )
    {%- endif %}
    union all
    -- 3. events the previous as_of hid
    select serial_number
    from {{ scans }}
    where {{ output_kpis.hidden_by_previous_as_of('event_at', previous) }}
    union all
    -- 4. serials on a changed work order, line, site or route
    select serial_number
    from {{ scans }}
    where
        work_order_id in (select work_order_id from work_orders where classified_at > {{ seen }})
        or line_id in (select line_id from lines where classified_at > {{ seen }})
        or site_id in (select site_id from sites where classified_at > {{ seen }})
        or route_id in (select route_id from route_steps where classified_at > {{ seen }})
    union all
    -- 5. defects: changed ones, and events whose count of defects changed
    select staged_events.serial_number
    from staged_events
    inner join changed_defects on staged_events.event_id = changed_defects.event_id
    union all
    select events.serial_number
    from {{ events }} as events
    left join defect_counts on events.event_id = defect_counts.event_id
    where
        events.defect_count > 0
        and coalesce(defect_counts.defect_count, 0) <> events.defect_count
    union all
    -- 6. units completed in a changed or vanished shift (an anti join: Spark runs a `not in`
    -- under an `or` as a nested loop over units and shifts), or within a changed shift's
    -- bounds now
    select serial_number
    from {{ units }}
    where completed_shift_id in (select shift_id from changed_shifts)
    union all
    select units.serial_number
    from {{ units }} as units
    where
        units.completed_shift_id is not null
        and not exists (
            select 1
            from staged_shifts
            where staged_shifts.shift_id = units.completed_shift_id
        )
    union all
    select units.serial_number
    from {{ units }} as units
    inner join changed_shift_bounds
        on
            units.line_id = changed_shift_bounds.line_id
            and units.completed_at >= changed_shift_bounds.shift_start_at
            and units.completed_at < changed_shift_bounds.shift_end_at
    -- 7. the previous list, while one of the four has not taken it in
    {{- output_kpis.previous_list_not_taken_in('serial_number', seen) }}
),
{%- endif %}

listed as (
    select serial_number
    from {{ 'touched' if incremental else 'staged_events' }}
),

final as (
    select distinct
        listed.serial_number,
        classified.classified_through,
        '{{ "changed" if incremental else "all" }}' as build_scope
    from listed
    cross join classified
    where listed.serial_number is not null
)

select * from final
