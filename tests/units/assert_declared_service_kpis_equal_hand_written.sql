{#- The declared tickets_resolved_per_agent_day (var output_kpis_builtin_units, unit
    resolved_ticket) equals the hand-written SQL it replaced (int_service__kpi_components
    before issue 17), row for row. The hand-written part is kept here, verbatim, as the
    reference. Returns every row where they differ. -#}
{{ config(enabled=var('output_kpis_enable_service', true) is sameas true) }}
{%- set dimensions = [
    {'name': 'team', 'column': 'team_id'},
    {'name': 'agent', 'column': 'agent_id'},
    {'name': 'priority', 'column': 'priority'},
    {'name': 'customer_segment', 'column': 'customer_segment'},
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

declared as (
    select * from {{ ref('int_units__kpi_components') }}
    where kpi_id = 'tickets_resolved_per_agent_day'
),

localized_measurements as (
    select
        sla_measurements.team_id,
        sla_measurements.agent_id,
        sla_measurements.priority,
        sla_measurements.customer_segment,
        cast({{ output_kpis.utc_to_local_via('event_offsets',
            'sla_measurements.event_at', 'team_time_zones.time_zone') }} as date) as event_date
    from sla_measurements
    inner join team_time_zones
        on sla_measurements.team_id = team_time_zones.team_id
    {{ output_kpis.time_zone_offset_join('team_offsets', 'team_time_zones.time_zone',
        'sla_measurements.event_at', alias='event_offsets') }}
    where sla_measurements.metric = 'resolution' and sla_measurements.event_at is not null
),

resolution_rows as (
    select
        event_date as report_date,
        team_id,
        agent_id,
        priority,
        customer_segment,
        1 as resolved_ticket_count,
        0 as agent_day_count
    from localized_measurements
),

agent_day_rows as (
    select
        work_date as report_date,
        team_id,
        agent_id,
        cast(null as {{ output_kpis.type_text() }}) as priority,
        cast(null as {{ output_kpis.type_text() }}) as customer_segment,
        0 as resolved_ticket_count,
        1 as agent_day_count
    from agent_days
),

unit_rows as (
    select * from resolution_rows
    union all
    select * from agent_day_rows
),

{{ output_kpis.rollup_kpi_components('unit_rows', 'report_date', dimensions, [
    {'kpi_id': 'tickets_resolved_per_agent_day', 'numerator': 'resolved_ticket_count',
     'denominator': 'agent_day_count'},
]) }},

hand_written as (
    select * from kpi_components
    where numerator <> 0 or denominator <> 0
),

compared as (
    select
        coalesce(declared.grain, hand_written.grain) as grain,
        coalesce(declared.period_start, hand_written.period_start) as period_start,
        coalesce(declared.dimension_name, hand_written.dimension_name) as dimension_name,
        coalesce(declared.dimension_value, hand_written.dimension_value) as dimension_value,
        declared.numerator as declared_numerator,
        declared.denominator as declared_denominator,
        hand_written.numerator as hand_written_numerator,
        hand_written.denominator as hand_written_denominator
    from declared
    full outer join hand_written
        on {{ output_kpis.same_keys('declared', 'hand_written', ['grain', 'period_start',
            'dimension_name', 'dimension_value']) }}
)

select * from compared
where
    declared_numerator is distinct from hand_written_numerator
    or declared_denominator is distinct from hand_written_denominator
