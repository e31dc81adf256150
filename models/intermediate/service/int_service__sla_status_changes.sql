{#- Part of int_service__ticket_sla_measurements: the status history the SLA clocks read, of
    the tickets computed in this run (int_service__sla_tickets_to_build: every ticket on a full
    build). Statuses are read by role (var sd_status_values). -#}
{%- set is_solved = output_kpis.code_in('status', 'sd_status_values', 'solved') -%}
{%- set was_solved = output_kpis.code_in("coalesce(previous_status, '')", 'sd_status_values',
    'solved') -%}
{{ config(materialized='table') }}

with tickets as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__tickets') }}
),

status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__ticket_status_changes') }}
),

tickets_to_build as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_service__sla_tickets_to_build') }}
),

as_of as {{ output_kpis.not_materialized() }} (
    select {{ as_of_timestamp() }} as as_of_at
),

-- Only what was known at as_of exists: later tickets and status changes are ignored.
known_changes as (
    select
        status_changes.change_id,
        status_changes.ticket_id,
        status_changes.status,
        status_changes.changed_at
    from status_changes
    cross join as_of
    inner join tickets
        on status_changes.ticket_id = tickets.ticket_id
    inner join tickets_to_build
        on status_changes.ticket_id = tickets_to_build.ticket_id
    where
        status_changes.changed_at <= as_of.as_of_at
        and tickets.created_at <= as_of.as_of_at
),

sequenced_changes as (
    select
        change_id,
        ticket_id,
        status,
        changed_at,
        lag(status) over (
            partition by ticket_id order by changed_at, change_id
        ) as previous_status,
        lead(changed_at) over (
            partition by ticket_id order by changed_at, change_id
        ) as next_changed_at,
        -- the latest change is the last in the same order (one sort instead of two)
        case
            when
                lead(change_id) over (
                    partition by ticket_id order by changed_at, change_id
                ) is null
                then 1
            else 0
        end as is_latest_change
    from known_changes
),

-- A solve is entering solved/closed from any other status; a reopen is leaving them again.
final as (
    select
        change_id,
        ticket_id,
        status,
        changed_at,
        next_changed_at,
        is_latest_change,
        {{ is_solved }} as is_solved_status,
        {{ is_solved }} and not {{ was_solved }} as is_solve,
        {{ was_solved }} and not {{ is_solved }} as is_reopen
    from sequenced_changes
)

select * from final
