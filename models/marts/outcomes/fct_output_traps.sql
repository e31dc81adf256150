{#- The output trap: the team produces more (or better) while the outcome it is meant to move
    stays flat or worsens. For every linked series and complete period: the mean of the trailing
    window (output_trap_window_periods periods ending at the period) against the window before
    it, for the output and for the outcome, as relative changes oriented by each KPI's direction
    so that a positive change is an improvement on both sides. Only complete periods count: a
    half-finished month must not look like a drop. Only output KPIs of the kinds in var
    output_trap_kinds are watched (default volume: "volume up, outcome flat"); quality and
    delivery KPIs recovering from a dip while a lagging outcome still peaks would otherwise
    read as traps. Each of the four window means must rest on at least
    var output_trap_min_window_units units (denominator, or the count of a count KPI), else
    the period is 'thin_sample', not judged. -#}
{%- set grains = choice_list_var(
    'output_trap_grains', output_kpis.reporting_grains(),
    ['month', 'quarter']) -%}
{%- set grain_list = "'" ~ grains | join("', '") ~ "'" -%}
{%- set kinds = choice_list_var(
    'output_trap_kinds', ['volume', 'quality', 'delivery'], ['volume']) -%}
{%- set kind_list = "'" ~ kinds | join("', '") ~ "'" -%}
{%- set window_periods = number_var('output_trap_window_periods', 3) | int -%}
{%- set output_threshold = number_var('output_trap_output_threshold', 0.25) -%}
{%- set flat_tolerance = number_var('output_trap_outcome_flat_tolerance', 0.10) -%}
{%- set min_units = number_var('output_trap_min_window_units', 30) -%}
{%- if window_periods < 1 -%}
    {{ exceptions.raise_compiler_error(
        "var 'output_trap_window_periods' must be a whole number >= 1; got '"
        ~ var('output_trap_window_periods') ~ "'") }}
{%- endif -%}

with links as (
    select * from {{ ref('fct_output_outcome_links') }}
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

series_points as (
    select
        links.output_kpi_id,
        links.outcome_kpi_id,
        links.grain,
        links.dimension_name,
        links.dimension_value,
        links.period_start,
        periods.period_index,
        links.output_value,
        links.outcome_value,
        {#- The evidence behind each value: units in the denominator (a count KPI: the count). #}
        coalesce(links.output_denominator, links.output_numerator) as output_units,
        coalesce(links.outcome_denominator, links.outcome_numerator) as outcome_units,
        links.as_of_at
    from links
    inner join periods
        on
            links.grain = periods.grain
            and links.period_start = periods.period_start
    inner join registry on links.output_kpi_id = registry.kpi_id
    where
        periods.is_complete
        and links.grain in ({{ grain_list }})
        and registry.kind in ({{ kind_list }})
),

windowed as (
    -- each period against the 2W periods ending at it: positions 0..W-1 back are the recent
    -- window, W..2W-1 back the prior one; a period missing either value leaves a gap
    select
        anchor.output_kpi_id,
        anchor.outcome_kpi_id,
        anchor.grain,
        anchor.dimension_name,
        anchor.dimension_value,
        anchor.period_start,
        anchor.as_of_at,
        sum(
            case
                when history.output_value is not null and history.outcome_value is not null
                    then 1
                else 0
            end
        ) as window_period_count,
        avg(
            case
                when history.period_index > anchor.period_index - {{ window_periods }}
                    then history.output_value
            end
        ) as output_recent_mean,
        avg(
            case
                when history.period_index <= anchor.period_index - {{ window_periods }}
                    then history.output_value
            end
        ) as output_prior_mean,
        avg(
            case
                when history.period_index > anchor.period_index - {{ window_periods }}
                    then history.outcome_value
            end
        ) as outcome_recent_mean,
        avg(
            case
                when history.period_index <= anchor.period_index - {{ window_periods }}
                    then history.outcome_value
            end
        ) as outcome_prior_mean,
        sum(
            case
                when history.period_index > anchor.period_index - {{ window_periods }}
                    then history.output_units
            end
        ) as output_recent_units,
        sum(
            case
                when history.period_index <= anchor.period_index - {{ window_periods }}
                    then history.output_units
            end
        ) as output_prior_units,
        sum(
            case
                when history.period_index > anchor.period_index - {{ window_periods }}
                    then history.outcome_units
            end
        ) as outcome_recent_units,
        sum(
            case
                when history.period_index <= anchor.period_index - {{ window_periods }}
                    then history.outcome_units
            end
        ) as outcome_prior_units
    from series_points as anchor
    inner join series_points as history
        on {{ same_keys('anchor', 'history', pair_series_keys()) }}
            and history.period_index > anchor.period_index - {{ 2 * window_periods }}
            and anchor.period_index >= history.period_index
    group by
        anchor.output_kpi_id,
        anchor.outcome_kpi_id,
        anchor.grain,
        anchor.dimension_name,
        anchor.dimension_value,
        anchor.period_start,
        anchor.as_of_at
),

oriented as (
    select
        windowed.*,
        case
            when windowed.window_period_count < {{ 2 * window_periods }}
                then 'incomplete_window'
            when windowed.output_prior_mean = 0 or windowed.outcome_prior_mean = 0
                then 'zero_baseline'
            {#- A 3-month mean of 7 cancelled lines or 20 CSAT answers swings by 25 % on its own. #}
            when
                coalesce(windowed.output_recent_units, 0) < {{ min_units }}
                or coalesce(windowed.output_prior_units, 0) < {{ min_units }}
                or coalesce(windowed.outcome_recent_units, 0) < {{ min_units }}
                or coalesce(windowed.outcome_prior_units, 0) < {{ min_units }}
                then 'thin_sample'
            else 'evaluated'
        end as evaluation_status,
        case output_kpi.direction when 'lower_is_better' then -1.0 else 1.0 end
            as output_orientation,
        case outcome_kpi.direction when 'lower_is_better' then -1.0 else 1.0 end
            as outcome_orientation
    from windowed
    inner join registry as output_kpi on windowed.output_kpi_id = output_kpi.kpi_id
    inner join registry as outcome_kpi on windowed.outcome_kpi_id = outcome_kpi.kpi_id
),

changes as (
    select
        *,
        case
            when evaluation_status = 'evaluated'
                then output_orientation * (output_recent_mean - output_prior_mean)
                    / abs(output_prior_mean)
        end as output_improvement,
        case
            when evaluation_status = 'evaluated'
                then outcome_orientation * (outcome_recent_mean - outcome_prior_mean)
                    / abs(outcome_prior_mean)
        end as outcome_improvement
    from oriented
),

final as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        period_start,
        cast(window_period_count as integer) as window_period_count,
        cast(output_recent_mean as {{ output_kpis.type_double() }}) as output_recent_mean,
        cast(output_prior_mean as {{ output_kpis.type_double() }}) as output_prior_mean,
        cast(output_improvement as {{ output_kpis.type_double() }}) as output_improvement,
        cast(outcome_recent_mean as {{ output_kpis.type_double() }}) as outcome_recent_mean,
        cast(outcome_prior_mean as {{ output_kpis.type_double() }}) as outcome_prior_mean,
        cast(outcome_improvement as {{ output_kpis.type_double() }}) as outcome_improvement,
        evaluation_status,
        case
            when evaluation_status = 'evaluated'
                then
                    output_improvement > {{ output_threshold }}
                    and outcome_improvement <= {{ flat_tolerance }}
        end as is_output_trap,
        as_of_at
    from changes
)

select * from final
