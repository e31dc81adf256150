{{ config(
    materialized=output_kpis.incremental_materialization(on_spark=false),
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
] -%}

with sla_measurements as (
    select * from {{ ref('int_service__ticket_sla_measurements') }}
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

-- Each measurement with a known outcome converted to its team's local date once (the time-zone
-- conversion is the costly part): an SLA row reports on the team-local date of reporting_at.
-- (tickets_resolved_per_agent_day is declared: var output_kpis_builtin_units.)
localized_measurements as (
    select
        sla_measurements.metric,
        sla_measurements.team_id,
        sla_measurements.agent_id,
        sla_measurements.priority,
        sla_measurements.customer_segment,
        sla_measurements.sla_status,
        {{ bool_to_int('sla_measurements.is_met') }} as met_count,
        cast({{ output_kpis.utc_to_local_via('reporting_offsets',
            'sla_measurements.reporting_at', 'team_time_zones.time_zone') }} as date)
            as reporting_date
    from sla_measurements
    inner join team_time_zones
        on sla_measurements.team_id = team_time_zones.team_id
    {{ output_kpis.time_zone_offset_join('team_offsets', 'team_time_zones.time_zone',
        'sla_measurements.reporting_at', alias='reporting_offsets') }}
    where sla_measurements.sla_status in ('met', 'breached')
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
        case when metric = 'resolution' then 1 else 0 end as resolution_measured_count
    from localized_measurements
),

{{ rollup_kpi_components('sla_rows', 'report_date', dimensions, measures) }},

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
