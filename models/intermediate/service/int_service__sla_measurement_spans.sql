{#- Part of int_service__ticket_sla_measurements: what each SLA measurement measures - the
    policy in force, the clock's start, the event, and how far the clock is evaluated - for
    the tickets computed in this run (int_service__sla_tickets_to_build), with the number of
    status changes each has in staging (what a later run compares). -#}
{%- set resolution_event = choice_var(
    'sla_resolution_event', ['final_solve', 'first_solve'], 'final_solve') -%}
{%- set horizon_days = number_var('sla_clock_horizon_days', 60) -%}
{%- if resolution_event == 'first_solve' -%}
    {%- set resolution_event_sql = 'ticket_solves.first_solved_at' -%}
{%- else -%}
    {#- the final solve only counts while the ticket is still solved/closed at as_of -#}
    {%- set resolution_event_sql = 'case when ticket_solves.is_currently_solved = 1'
        ~ ' then ticket_solves.last_solved_at end' -%}
{%- endif -%}
{{ config(materialized='table') }}

with tickets as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__tickets') }}
),

status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_status_changes') }}
),

tickets_to_build as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_tickets_to_build') }}
),

-- The policy's metric and clock by role (first_reply | resolution, calendar | business).
sla_policies as {{ output_kpis.not_materialized() }} (
    select
        policy_id,
        priority,
        {{ output_kpis.code_role('metric', 'sd_sla_metric_values') }} as metric,
        {{ output_kpis.code_role('clock', 'sd_sla_clock_values') }} as clock,
        target_minutes,
        is_paused_on_pending,
        valid_from_date,
        valid_to_date
    from {{ ref('stg_sd__sla_policies') }}
),

teams as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__teams') }}
),

customers as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__customers') }}
),

as_of as {{ output_kpis.not_materialized() }} (
    select {{ as_of_timestamp() }} as as_of_at
),

-- Only what was known at as_of exists: later tickets and replies are ignored.
known_tickets as {{ output_kpis.not_materialized() }} (
    select
        tickets.ticket_id,
        tickets.team_id,
        tickets.agent_id,
        tickets.priority,
        teams.schedule_id,
        customers.customer_segment,
        tickets.created_at,
        case
            when tickets.first_replied_at <= as_of.as_of_at then tickets.first_replied_at
        end as first_replied_at,
        tickets_to_build.status_change_count
    from tickets
    cross join as_of
    inner join tickets_to_build on tickets.ticket_id = tickets_to_build.ticket_id
    left join teams on tickets.team_id = teams.team_id
    left join customers on tickets.customer_id = customers.customer_id
    where tickets.created_at <= as_of.as_of_at
),

ticket_solves as (
    select
        ticket_id,
        min(case when is_solve then changed_at end) as first_solved_at,
        max(case when is_solve then changed_at end) as last_solved_at,
        max(case when is_latest_change = 1 and is_solved_status then 1 else 0 end)
            as is_currently_solved,
        sum({{ bool_to_int('is_reopen') }}) as reopen_count,
        min(changed_at) as first_changed_at
    from status_changes
    group by ticket_id
),

ticket_metrics as (
    select
        known_tickets.*,
        'first_reply' as metric,
        known_tickets.first_replied_at as event_at
    from known_tickets

    union all

    select
        known_tickets.*,
        'resolution' as metric,
        {{ resolution_event_sql }} as event_at
    from known_tickets
    left join ticket_solves on known_tickets.ticket_id = ticket_solves.ticket_id
),

-- The policy version in force on the ticket's creation date (UTC) for its current priority.
-- The clock is evaluated up to sla_clock_horizon_days past the end of the measured span (the
-- event, or as_of): pauses end there (pause_cutoff_at; after the event and after as_of the
-- clock is taken as running), so any target the running clock reaches within the horizon
-- gets its deadline however long the ticket paused.
final as (
    select
        ticket_metrics.ticket_id || '|' || ticket_metrics.metric as sla_measurement_id,
        ticket_metrics.ticket_id,
        ticket_metrics.metric,
        ticket_metrics.priority,
        ticket_metrics.team_id,
        ticket_metrics.agent_id,
        ticket_metrics.customer_segment,
        sla_policies.policy_id,
        sla_policies.clock,
        sla_policies.target_minutes,
        sla_policies.is_paused_on_pending,
        case when sla_policies.clock = 'business' then ticket_metrics.schedule_id end
            as clock_schedule_id,
        ticket_metrics.created_at as started_at,
        ticket_metrics.event_at,
        coalesce(ticket_metrics.event_at, as_of.as_of_at) as pause_cutoff_at,
        {{ add_minutes(
            'greatest(ticket_metrics.created_at, coalesce(ticket_metrics.event_at, as_of.as_of_at))',
            horizon_days * 1440) }} as horizon_at,
        ticket_solves.first_changed_at,
        cast(coalesce(ticket_solves.reopen_count, 0) as integer) as reopen_count,
        ticket_metrics.status_change_count
    from ticket_metrics
    cross join as_of
    inner join sla_policies
        on
            ticket_metrics.priority = sla_policies.priority
            and ticket_metrics.metric = sla_policies.metric
            and cast(ticket_metrics.created_at as date) >= sla_policies.valid_from_date
            and (
                sla_policies.valid_to_date is null
                or cast(ticket_metrics.created_at as date) < sla_policies.valid_to_date
            )
    left join ticket_solves on ticket_metrics.ticket_id = ticket_solves.ticket_id
)

select * from final
