{#- The tickets int_service__ticket_sla_measurements (incremental, strategy replace_units)
    computes in this run, with the number of status changes each has in staging, and
    classified_through: the newest classified_at among the staged rows the SLA chain reads
    (tickets, status changes, teams, customers, SLA policies, business hours), which that model
    stores (sources_classified_at) as what it has seen. Every ticket when it is built in full.
    On an incremental run, only the tickets that what changed since touches, found from the
    changed rows, never by reading every ticket's rows (seen = the table's
    sources_classified_at; rows classified after it are new or changed):
      1. a staged ticket classified after seen (new, late, changed or reclassified);
      2. a ticket the table holds that left staging (deleted from the raw table, or
         quarantined);
      3. the ticket of a status change classified after seen, and a ticket whose number of
         staged status changes is not the one the table stored (a change deleted, quarantined
         or moved to another ticket);
      4. the tickets of a team, customer or SLA policy priority classified after seen, and of
         the teams on a schedule whose business hours were;
      5. a ticket with a measurement still without its event at the previous run (its status
         and elapsed minutes move with as_of), and a ticket created, replied to or changing
         status after the previous as_of and at or before this one (activity it hid);
      6. every ticket of the previous run's list when the table has not stored its
         classified_through (the previous run failed or skipped it).
    Hard deletes of an SLA policy, a team or business hours, and changes of definitional vars,
    need --full-refresh. -#}
{%- set built = output_kpis.incremental_unit_relation('int_service__ticket_sla_measurements') -%}
{%- set incremental = execute and built is not none -%}
{{ config(
    materialized='table',
    pre_hook=["{{ output_kpis.keep_previous_list() }}"],
) }}
{%- if incremental -%}
    {%- set seen = output_kpis.seen_classified_at([built]) -%}
    {%- set previous = output_kpis.previous_as_of(built) -%}
{%- endif %}

with tickets as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__tickets') }}
),

status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__ticket_status_changes') }}
),

teams as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__teams') }}
),

customers as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__customers') }}
),

sla_policies as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__sla_policies') }}
),

business_hours as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__business_hours') }}
),

classified as (
    {{ output_kpis.classified_through([
        'tickets', 'status_changes', 'teams', 'customers', 'sla_policies', 'business_hours',
    ]) }}
),

-- The staged status changes of each ticket (every ticket's, known at as_of or not): what the
-- table stores, and what a later run compares with.
status_change_counts as (
    {{ output_kpis.child_row_counts('status_changes', 'ticket_id', 'status_change_count') }}
),
{%- if incremental %}

built_tickets as (
    select
        ticket_id,
        max(status_change_count) as status_change_count,
        max(case when event_at is null then 1 else 0 end) as has_open_measurement
    from {{ built }}
    group by ticket_id
),

touched as (
    -- 1. new, late, changed or reclassified tickets
    select ticket_id
    from tickets
    where classified_at > {{ seen }}
    union all
    -- 2. tickets that left staging
    select built_tickets.ticket_id
    from built_tickets
    where not exists (
        select 1
        from tickets
        where tickets.ticket_id = built_tickets.ticket_id
    )
    union all
    -- 3. the ticket of a changed status change; tickets whose number of changes changed
    select ticket_id
    from status_changes
    where classified_at > {{ seen }}
    union all
    select built_tickets.ticket_id
    from built_tickets
    left join status_change_counts
        on built_tickets.ticket_id = status_change_counts.ticket_id
    where
        built_tickets.status_change_count > 0
        and coalesce(status_change_counts.status_change_count, 0)
        <> built_tickets.status_change_count
    union all
    -- 4. the tickets of a changed team, customer, policy priority or schedule
    select ticket_id
    from tickets
    where
        team_id in (
            select team_id
            from teams
            where
                classified_at > {{ seen }}
                or schedule_id in (
                    select schedule_id
                    from business_hours
                    where classified_at > {{ seen }}
                )
        )
        or customer_id in (select customer_id from customers where classified_at > {{ seen }})
        or priority in (select priority from sla_policies where classified_at > {{ seen }})
    union all
    -- 5. open measurements; activity the previous as_of hid
    select ticket_id
    from built_tickets
    where has_open_measurement = 1
    union all
    select ticket_id
    from tickets
    where
        {{ output_kpis.hidden_by_previous_as_of('created_at', previous) }}
        or {{ output_kpis.hidden_by_previous_as_of('first_replied_at', previous) }}
    union all
    select ticket_id
    from status_changes
    where {{ output_kpis.hidden_by_previous_as_of('changed_at', previous) }}
    -- 6. the previous list, while the table has not taken it in
    {{- output_kpis.previous_list_not_taken_in('ticket_id', seen) }}
),
{%- endif %}

listed as (
    select distinct ticket_id
    from {{ 'touched' if incremental else 'tickets' }}
    where ticket_id is not null
),

final as (
    select
        listed.ticket_id,
        coalesce(status_change_counts.status_change_count, 0) as status_change_count,
        classified.classified_through,
        '{{ "changed" if incremental else "all" }}' as build_scope
    from listed
    cross join classified
    left join status_change_counts on listed.ticket_id = status_change_counts.ticket_id
)

select * from final
