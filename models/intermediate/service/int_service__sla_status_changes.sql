{#- Part of int_service__ticket_sla_measurements: the status history the SLA clocks read.
    Statuses are read by role (var sd_status_values). Every ticket's history, not only the
    tickets computed in this run: the spans and run segments join it to those tickets, and a
    model here that read int_service__sla_tickets_to_build would put the whole SLA chain, the
    build's critical path, one level deeper in dbt's queue (docs/PERFORMANCE.md). -#}
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
