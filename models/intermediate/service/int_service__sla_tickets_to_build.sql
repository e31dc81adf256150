{#- Part of int_service__ticket_sla_measurements: the tickets its SLA chain computes in this
    run, with their source fingerprint. Every ticket when that model is built in full; on an
    incremental run only the tickets it rebuilds (macros/incremental.sql): while either
    measurement has no event yet (its status and elapsed minutes move with as_of), when the
    ticket was created, replied to or changed status after the watermark (previous as_of -
    incremental_lookback_days), or when the fingerprint of its rows changed. Every part of the
    chain reads these tickets only, so a daily run computes the clocks of what changed. -#}
{%- set built = output_kpis.incremental_unit_relation('int_service__ticket_sla_measurements') -%}
{%- set watermark = output_kpis.incremental_watermark(built) -%}
{{ config(materialized='table') }}

with all_tickets as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__tickets') }}
),

all_status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__ticket_status_changes') }}
),

teams as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__teams') }}
),

customers as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__customers') }}
),

change_fingerprints as (
    select
        ticket_id,
        {{ output_kpis.source_fingerprint(['change_id', 'status', 'changed_at'], 'change_id') }}
            as changes_fingerprint
    from all_status_changes
    group by ticket_id
),

-- The ticket, its team's schedule, its customer's segment and all of its status changes.
unit_fingerprints as (
    select
        all_tickets.ticket_id,
        {{ output_kpis.source_fingerprint([
            'all_tickets.customer_id', 'all_tickets.team_id', 'all_tickets.agent_id',
            'all_tickets.priority', 'all_tickets.created_at', 'all_tickets.first_replied_at',
            'teams.schedule_id', 'customers.customer_segment',
            'change_fingerprints.changes_fingerprint',
        ], 'all_tickets.ticket_id') }} as source_fingerprint
    from all_tickets
    left join teams on all_tickets.team_id = teams.team_id
    left join customers on all_tickets.customer_id = customers.customer_id
    left join change_fingerprints on all_tickets.ticket_id = change_fingerprints.ticket_id
    group by all_tickets.ticket_id
),

{%- if built is not none %}

units_to_build as (
    {{ output_kpis.units_to_build(
        'ticket_id',
        built='(select ticket_id, max(source_fingerprint) as source_fingerprint,'
            ~ ' max(case when event_at is null then 1 else 0 end) as has_open_measurement'
            ~ ' from ' ~ built ~ ' group by ticket_id)',
        still_open='built.has_open_measurement = 1',
        recent_units='select ticket_id from all_tickets where created_at > ' ~ watermark
            ~ ' or first_replied_at > ' ~ watermark
            ~ ' union all select ticket_id from all_status_changes where changed_at > '
            ~ watermark,
    ) }}
),

{%- endif %}

final as (
    select
        unit_fingerprints.ticket_id,
        unit_fingerprints.source_fingerprint,
        '{{ "all" if built is none else "changed" }}' as build_scope
    from unit_fingerprints
    {%- if built is not none %}
    inner join units_to_build on unit_fingerprints.ticket_id = units_to_build.ticket_id
    {%- endif %}
)

select * from final
