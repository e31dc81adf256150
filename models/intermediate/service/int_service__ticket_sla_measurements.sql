{#- Statuses, SLA metrics and clocks are read by role (vars sd_status_values,
    sd_sla_metric_values, sd_sla_clock_values); the pause statuses are open ones. -#}
{%- set pause_statuses = output_kpis.code_subset_var(
    'sla_pause_statuses', 'sd_status_values', 'open', ['pending', 'on_hold']) -%}
{%- set is_solved = output_kpis.code_in('status', 'sd_status_values', 'solved') -%}
{%- set was_solved = output_kpis.code_in("coalesce(previous_status, '')", 'sd_status_values',
    'solved') -%}
{%- set resolution_event = choice_var(
    'sla_resolution_event', ['final_solve', 'first_solve'], 'final_solve') -%}
{%- set horizon_days = number_var('sla_clock_horizon_days', 60) -%}
{%- set clock_keys = ['sla_measurement_id', 'clock_variant'] -%}
{%- set pause_status_list = "'" ~ (pause_statuses | join("', '")) ~ "'" -%}
{%- if resolution_event == 'first_solve' -%}
    {%- set resolution_event_sql = 'ticket_solves.first_solved_at' -%}
{%- else -%}
    {#- the final solve only counts while the ticket is still solved/closed at as_of -#}
    {%- set resolution_event_sql = 'case when ticket_solves.is_currently_solved = 1'
        ~ ' then ticket_solves.last_solved_at end' -%}
{%- endif -%}

{#- Incremental per ticket (macros/incremental.sql): a ticket is rebuilt while either of its
    measurements has no event yet (its status and elapsed minutes move with as_of), when it was
    created, replied to or changed status after the watermark (previous as_of -
    incremental_lookback_days), or when the fingerprint of its rows changed. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='ticket_id',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{%- set watermark = incremental_watermark() %}
{#- CTEs marked not_materialized are read more than once but are cheaper to scan or recompute
    than to copy: DuckDB would hold each as a full copy for the whole statement (at 100M raw
    rows the copies of the status changes and the clock segments outgrew a 6GB memory_limit). -#}

with all_tickets as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__tickets') }}
),

all_status_changes as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__ticket_status_changes') }}
),

policy_rows as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__sla_policies') }}
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
    from policy_rows
),

teams as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__teams') }}
),

business_hours as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_sd__business_hours') }}
),

customers as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__customers') }}
),

as_of as {{ output_kpis.not_materialized() }} (
    select {{ as_of_timestamp() }} as as_of_at
),

change_fingerprints as (
    select
        ticket_id,
        {{ source_fingerprint(['change_id', 'status', 'changed_at'], 'change_id') }}
            as changes_fingerprint
    from all_status_changes
    group by ticket_id
),

-- The ticket, its team's schedule, its customer's segment and all of its status changes.
unit_fingerprints as (
    select
        all_tickets.ticket_id,
        {{ source_fingerprint([
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

{%- if is_incremental() %}

units_to_build as (
    {{ units_to_build(
        'ticket_id',
        built='(select ticket_id, max(source_fingerprint) as source_fingerprint,'
            ~ ' max(case when event_at is null then 1 else 0 end) as has_open_measurement'
            ~ ' from ' ~ this ~ ' group by ticket_id)',
        still_open='built.has_open_measurement = 1',
        recent_units='select ticket_id from all_tickets where created_at > ' ~ watermark
            ~ ' or first_replied_at > ' ~ watermark
            ~ ' union all select ticket_id from all_status_changes where changed_at > '
            ~ watermark,
    ) }}
),

{%- endif %}

-- A full build takes every ticket: no join to units_to_build (all of unit_fingerprints).
tickets as {{ output_kpis.not_materialized() }} (
    select all_tickets.*
    from all_tickets
    {%- if is_incremental() %}
    inner join units_to_build on all_tickets.ticket_id = units_to_build.ticket_id
    {%- endif %}
),

status_changes as {{ output_kpis.not_materialized() }} (
    select all_status_changes.*
    from all_status_changes
    {%- if is_incremental() %}
    inner join units_to_build on all_status_changes.ticket_id = units_to_build.ticket_id
    {%- endif %}
),

-- Only what was known at as_of exists: later tickets, replies and status changes are ignored.
known_tickets as {{ output_kpis.not_materialized() }} (
    select
        tickets.ticket_id,
        tickets.customer_id,
        tickets.team_id,
        tickets.agent_id,
        tickets.priority,
        teams.schedule_id,
        customers.customer_segment,
        tickets.created_at,
        case
            when tickets.first_replied_at <= as_of.as_of_at then tickets.first_replied_at
        end as first_replied_at
    from tickets
    cross join as_of
    left join teams
        on tickets.team_id = teams.team_id
    left join customers
        on tickets.customer_id = customers.customer_id
    where tickets.created_at <= as_of.as_of_at
),

known_changes as (
    select
        status_changes.change_id,
        status_changes.ticket_id,
        status_changes.status,
        status_changes.changed_at
    from status_changes
    cross join as_of
    inner join known_tickets
        on status_changes.ticket_id = known_tickets.ticket_id
    where status_changes.changed_at <= as_of.as_of_at
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
flagged_changes as {{ output_kpis.not_materialized() }} (
    select
        *,
        {{ is_solved }} and not {{ was_solved }} as is_solve,
        {{ was_solved }} and not {{ is_solved }} as is_reopen
    from sequenced_changes
),

ticket_solves as (
    select
        ticket_id,
        min(case when is_solve then changed_at end) as first_solved_at,
        max(case when is_solve then changed_at end) as last_solved_at,
        max(
            case
                when is_latest_change = 1 and {{ is_solved }} then 1 else 0
            end
        ) as is_currently_solved,
        sum({{ bool_to_int('is_reopen') }}) as reopen_count,
        min(changed_at) as first_changed_at
    from flagged_changes
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
    left join ticket_solves
        on known_tickets.ticket_id = ticket_solves.ticket_id
),

-- The policy version in force on the ticket's creation date (UTC) for its current priority.
measurements as (
    select
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
        ticket_metrics.created_at as started_at,
        -- The clock is evaluated up to sla_clock_horizon_days past the end of the measured
        -- span (the event, or as_of): pauses end there, so the deadline of any target the
        -- running clock reaches within the horizon is found however long the ticket paused.
        {{ add_minutes(
            'greatest(ticket_metrics.created_at, coalesce(ticket_metrics.event_at, as_of.as_of_at))',
            horizon_days * 1440) }} as horizon_at,
        ticket_metrics.event_at,
        -- Pauses apply only while the measurement is open: after its event, and after as_of
        -- (the future is unknown), the clock is taken as running. So every measurement has a
        -- deadline - the earliest it can be - and an open one's deadline is never in the past
        -- merely because the ticket is pending right now.
        coalesce(ticket_metrics.event_at, as_of.as_of_at) as pause_cutoff_at,
        ticket_solves.first_changed_at,
        cast(coalesce(ticket_solves.reopen_count, 0) as integer) as reopen_count,
        ticket_metrics.ticket_id || '|' || ticket_metrics.metric as sla_measurement_id,
        case when sla_policies.clock = 'business' then ticket_metrics.schedule_id end
            as clock_schedule_id
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
    left join ticket_solves
        on ticket_metrics.ticket_id = ticket_solves.ticket_id
),

-- Stretches of time the clock may run, before business hours are applied. Variant `clock`
-- honours the policy's pause; variant `unpaused` (pausing policies only) ignores it, so the
-- difference of the two is the clock time lost to pauses.
run_segments as {{ output_kpis.not_materialized() }} (
    select
        measurements.sla_measurement_id,
        'clock' as clock_variant,
        measurements.clock_schedule_id as schedule_id,
        measurements.started_at as segment_start_at,
        measurements.horizon_at as segment_end_at
    from measurements
    where not measurements.is_paused_on_pending

    union all

    select
        measurements.sla_measurement_id,
        'unpaused' as clock_variant,
        measurements.clock_schedule_id as schedule_id,
        measurements.started_at as segment_start_at,
        measurements.horizon_at as segment_end_at
    from measurements
    where measurements.is_paused_on_pending

    union all

    -- before the first recorded status the ticket counts as new (clock running)
    select
        measurements.sla_measurement_id,
        'clock' as clock_variant,
        measurements.clock_schedule_id as schedule_id,
        measurements.started_at as segment_start_at,
        least(
            coalesce(measurements.first_changed_at, measurements.horizon_at),
            measurements.horizon_at,
            measurements.pause_cutoff_at
        ) as segment_end_at
    from measurements
    where measurements.is_paused_on_pending

    union all

    select
        measurements.sla_measurement_id,
        'clock' as clock_variant,
        measurements.clock_schedule_id as schedule_id,
        case
            when flagged_changes.changed_at > measurements.started_at
                then flagged_changes.changed_at
            else measurements.started_at
        end as segment_start_at,
        least(
            coalesce(flagged_changes.next_changed_at, measurements.horizon_at),
            measurements.horizon_at,
            measurements.pause_cutoff_at
        ) as segment_end_at
    from measurements
    inner join flagged_changes
        on measurements.ticket_id = flagged_changes.ticket_id
    where
        measurements.is_paused_on_pending
        and flagged_changes.status not in ({{ pause_status_list }})

    union all

    -- after the event / as_of the clock runs whatever the status
    select
        measurements.sla_measurement_id,
        'clock' as clock_variant,
        measurements.clock_schedule_id as schedule_id,
        measurements.pause_cutoff_at as segment_start_at,
        measurements.horizon_at as segment_end_at
    from measurements
    where measurements.is_paused_on_pending
),

calendar_bounds as (
    select
        {{ dbt.dateadd('day', -1, 'min(cast(started_at as date))') }} as first_date,
        {{ dbt.dateadd('day', 1, 'max(cast(horizon_at as date))') }} as last_date
    from measurements
),

open_intervals as (
    {{ business_time_open_intervals(
        'business_hours',
        '(select first_date from calendar_bounds)',
        '(select last_date from calendar_bounds)') }}
),

open_index as (
    {{ business_time_open_index('open_intervals') }}
),

open_lookup as (
    {{ business_time_open_lookup(
        'open_index',
        '(select first_date from calendar_bounds)',
        '(select last_date from calendar_bounds)') }}
),

clock_variants as (
    select 'clock' as clock_variant
    union all
    select 'unpaused' as clock_variant
),

measure_ends as (
    select
        measurements.sla_measurement_id,
        clock_variants.clock_variant,
        coalesce(measurements.event_at, as_of.as_of_at) as measured_until_at
    from measurements
    cross join as_of
    cross join clock_variants
),

-- Clock milliseconds per run segment, from the schedule's cumulative business time at the
-- segment's ends (no expansion of segments into business-hours intervals).
segment_clock as {{ output_kpis.not_materialized() }} (
    {{ business_time_segment_clock('run_segments', 'open_lookup', 'measure_ends', clock_keys) }}
),

clock_targets as (
    select
        sla_measurement_id,
        'clock' as clock_variant,
        target_minutes
    from measurements
),

segment_deadlines as (
    {{ business_time_segment_deadlines(
        'segment_clock', 'open_index', 'clock_targets', clock_keys) }}
),

-- Deadlines reached exactly at the end of a clock interval are taken from the interval-by-
-- interval float running sum, as they always were (it can put them at the next opening).
interval_end_segments as (
    select run_segments.*
    from run_segments
    inner join segment_deadlines
        on
            run_segments.sla_measurement_id = segment_deadlines.sla_measurement_id
            and run_segments.clock_variant = segment_deadlines.clock_variant
    where segment_deadlines.is_at_interval_end = 1
),

interval_end_clock_intervals as (
    {{ business_time_clock_intervals('interval_end_segments', 'open_intervals', clock_keys) }}
),

deadlines as (
    select
        sla_measurement_id,
        clock_variant,
        deadline_at
    from segment_deadlines
    where is_at_interval_end = 0

    union all

    select
        sla_measurement_id,
        clock_variant,
        deadline_at
    from (
        {{ business_time_deadlines('interval_end_clock_intervals', 'clock_targets', clock_keys) }}
    ) as interval_end_deadlines
),

elapsed as (
    select
        sla_measurement_id,
        clock_variant,
        sum(coalesce(elapsed_cum_ms - start_cum_ms, 0)) / 60000.0 as elapsed_minutes
    from segment_clock
    group by sla_measurement_id, clock_variant
),

measured as (
    select
        measurements.*,
        deadlines.deadline_at,
        as_of.as_of_at,
        -- rounded to 0.001 minute: sums of fractional minutes carry float noise
        {{ output_kpis.round_double('coalesce(clock_elapsed.elapsed_minutes, 0)', 3) }}
            as elapsed_clock_minutes,
        cast(
            case
                when measurements.is_paused_on_pending
                    then
                        coalesce(unpaused_elapsed.elapsed_minutes, 0)
                        - coalesce(clock_elapsed.elapsed_minutes, 0)
                else 0
            end as {{ output_kpis.type_double() }}
        ) as raw_paused_minutes
    from measurements
    cross join as_of
    left join deadlines
        on
            measurements.sla_measurement_id = deadlines.sla_measurement_id
            and deadlines.clock_variant = 'clock'
    left join elapsed as clock_elapsed
        on
            measurements.sla_measurement_id = clock_elapsed.sla_measurement_id
            and clock_elapsed.clock_variant = 'clock'
    left join elapsed as unpaused_elapsed
        on
            measurements.sla_measurement_id = unpaused_elapsed.sla_measurement_id
            and unpaused_elapsed.clock_variant = 'unpaused'
),

-- Met: the event at or before the deadline. No event and the deadline already passed at
-- as_of: breached now. A deadline is null only for a target longer than the horizon of
-- running clock (a configuration error the GE suite refuses); such a row is still judged
-- exactly: on elapsed clock minutes (never capped) once it has an event, else in progress.
statused as (
    select
        *,
        case
            when event_at is not null and deadline_at is not null and event_at <= deadline_at
                then 'met'
            when event_at is not null and deadline_at is not null then 'breached'
            when event_at is not null and elapsed_clock_minutes <= target_minutes then 'met'
            when event_at is not null then 'breached'
            when deadline_at < as_of_at then 'breached'
            else 'in_progress'
        end as sla_status
    from measured
),

verdicts as (
    select
        *,
        {{ output_kpis.round_double('raw_paused_minutes', 3) }} as paused_minutes,
        sla_status = 'met' as is_met,
        sla_status = 'breached' as is_breached,
        case
            when event_at is null then deadline_at
            when deadline_at is null then event_at
            when event_at < deadline_at then event_at
            else deadline_at
        end as reporting_at
    from statused
),

-- the zone of the team's schedule: the local day a measurement reports on
team_time_zones as (
    select
        team_id,
        time_zone
    from {{ ref('int_service__teams') }}
),

final as (
    select
        verdicts.sla_measurement_id,
        verdicts.ticket_id,
        verdicts.metric,
        verdicts.priority,
        verdicts.team_id,
        verdicts.agent_id,
        verdicts.customer_segment,
        verdicts.policy_id,
        verdicts.clock,
        verdicts.target_minutes,
        verdicts.started_at,
        verdicts.deadline_at,
        verdicts.event_at,
        verdicts.elapsed_clock_minutes,
        verdicts.paused_minutes,
        verdicts.reopen_count,
        verdicts.sla_status,
        verdicts.is_met,
        verdicts.is_breached,
        verdicts.reporting_at,
        team_time_zones.time_zone,
        unit_fingerprints.source_fingerprint,
        verdicts.as_of_at
    from verdicts
    inner join unit_fingerprints on verdicts.ticket_id = unit_fingerprints.ticket_id
    left join team_time_zones on verdicts.team_id = team_time_zones.team_id
)

select * from final
