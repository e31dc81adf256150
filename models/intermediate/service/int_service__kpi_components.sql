{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{%- set dimensions = [
    {'name': 'team', 'column': 'team_id'},
    {'name': 'agent', 'column': 'agent_id'},
    {'name': 'priority', 'column': 'priority'},
    {'name': 'customer_segment', 'column': 'customer_segment'},
] -%}
{%- set measures = [
    {
        'kpi_id': 'sla_first_reply_compliance',
        'numerator': 'first_reply_met_count',
        'denominator': 'first_reply_measured_count',
    },
    {
        'kpi_id': 'sla_resolution_compliance',
        'numerator': 'resolution_met_count',
        'denominator': 'resolution_measured_count',
    },
    {
        'kpi_id': 'sla_compliance',
        'numerator': 'first_reply_met_count + resolution_met_count',
        'denominator': 'first_reply_measured_count + resolution_measured_count',
    },
    {
        'kpi_id': 'tickets_resolved_per_agent_day',
        'numerator': 'resolved_ticket_count',
        'denominator': 'agent_day_count',
    },
] -%}

with sla_measurements as (
    select * from {{ ref('int_service__ticket_sla_measurements') }}
),

agent_days as (
    select * from {{ ref('int_service__agent_days') }}
),

team_time_zones as (
    select * from {{ ref('int_service__teams') }}
),

team_offsets as (
    {{ output_kpis.time_zone_offsets('team_time_zones', 'time_zone', 'utc') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

-- Each measurement converted to its team's local dates once (the time-zone conversion is the
-- costly part): SLA rows report on the team-local date of reporting_at, resolved tickets on
-- that of their resolution event.
localized_measurements as (
    select
        sla_measurements.metric,
        sla_measurements.team_id,
        sla_measurements.agent_id,
        sla_measurements.priority,
        sla_measurements.customer_segment,
        sla_measurements.sla_status,
        sla_measurements.event_at,
        {{ bool_to_int('sla_measurements.is_met') }} as met_count,
        case
            when sla_measurements.sla_status in ('met', 'breached')
                then cast({{ output_kpis.utc_to_local_via('reporting_offsets',
                    'sla_measurements.reporting_at', 'team_time_zones.time_zone') }} as date)
        end as reporting_date,
        case
            when sla_measurements.metric = 'resolution' and sla_measurements.event_at is not null
                then cast({{ output_kpis.utc_to_local_via('event_offsets',
                    'sla_measurements.event_at', 'team_time_zones.time_zone') }} as date)
        end as event_date
    from sla_measurements
    inner join team_time_zones
        on sla_measurements.team_id = team_time_zones.team_id
    {{ output_kpis.time_zone_offset_join('team_offsets', 'team_time_zones.time_zone',
        'sla_measurements.reporting_at', alias='reporting_offsets') }}
    {{ output_kpis.time_zone_offset_join('team_offsets', 'team_time_zones.time_zone',
        'sla_measurements.event_at', alias='event_offsets') }}
    where
        sla_measurements.sla_status in ('met', 'breached')
        or (sla_measurements.metric = 'resolution' and sla_measurements.event_at is not null)
),

-- In-progress rows are left out of both numerator and denominator.
sla_rows as (
    select
        reporting_date as report_date,
        team_id,
        agent_id,
        priority,
        customer_segment,
        case when metric = 'first_reply' then met_count else 0 end as first_reply_met_count,
        case when metric = 'first_reply' then 1 else 0 end as first_reply_measured_count,
        case when metric = 'resolution' then met_count else 0 end as resolution_met_count,
        case when metric = 'resolution' then 1 else 0 end as resolution_measured_count,
        0 as resolved_ticket_count,
        0 as agent_day_count
    from localized_measurements
    where sla_status in ('met', 'breached')
),

-- One row per resolved ticket on the team-local date of its resolution event (final solve, or
-- first solve under var sla_resolution_event = first_solve).
resolution_rows as (
    select
        event_date as report_date,
        team_id,
        agent_id,
        priority,
        customer_segment,
        0 as first_reply_met_count,
        0 as first_reply_measured_count,
        0 as resolution_met_count,
        0 as resolution_measured_count,
        1 as resolved_ticket_count,
        0 as agent_day_count
    from localized_measurements
    where metric = 'resolution' and event_at is not null
),

agent_day_rows as (
    select
        work_date as report_date,
        team_id,
        agent_id,
        cast(null as {{ output_kpis.type_text() }}) as priority,
        cast(null as {{ output_kpis.type_text() }}) as customer_segment,
        0 as first_reply_met_count,
        0 as first_reply_measured_count,
        0 as resolution_met_count,
        0 as resolution_measured_count,
        0 as resolved_ticket_count,
        1 as agent_day_count
    from agent_days
),

unit_rows as (
    select * from sla_rows
    union all
    select * from resolution_rows
    union all
    select * from agent_day_rows
),

{{ rollup_kpi_components('unit_rows', 'report_date', dimensions, measures) }},

-- A slice where no unit contributed to a KPI (e.g. the SLA KPIs of an agent-day-only slice)
-- carries no information.
contributing_components as (
    select
        kpi_components.*,
        as_of.as_of_at
    from kpi_components
    cross join as_of
    where kpi_components.numerator <> 0 or kpi_components.denominator <> 0
),

final as (
    select  -- noqa: ST06
        kpi_id
        || '|' || grain
        || '|' || cast(period_start as {{ output_kpis.type_text() }})
        || '|' || dimension_name
        || '|' || dimension_value as kpi_component_id,
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator,
        as_of_at
    from contributing_components
),

{{ incremental_kpi_periods('final') }}
