{#- Robust anomaly flags on every KPI series (output and outcome KPIs): each period's value
    against the median and MAD of the previous W periods of the same series. Windows are built
    as joins on period_index (never as window functions: Postgres has no ordered-set window
    aggregates), so "the previous 12 months" means the same thing on every engine. -#}
{%- set grains = choice_list_var(
    'anomaly_grains', output_kpis.reporting_grains(), ['week', 'month']
) -%}
{%- set window_size = number_var('anomaly_window_periods', 12) -%}
{%- set min_periods = number_var('anomaly_min_periods', 8) -%}
{%- set z_threshold = number_var('anomaly_z_threshold', 3.5) -%}
{%- if window_size < 1 or window_size != window_size | int or min_periods > window_size -%}
    {{ exceptions.raise_compiler_error(
        "var 'anomaly_window_periods' must be a whole number >= 1 and >= var "
        ~ "'anomaly_min_periods'; got " ~ window_size ~ " and " ~ min_periods) }}
{%- endif -%}
{%- set grain_list -%}
    {%- for grain in grains -%}'{{ grain }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%}
{%- endset -%}

with all_values as (
    {{- output_kpis.all_kpi_values() }}
),

registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

kpi_values as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        value
    from all_values
    where grain in ({{ grain_list }})
),

points as (
    select
        kpi_values.kpi_id,
        kpi_values.grain,
        kpi_values.period_start,
        kpi_values.dimension_name,
        kpi_values.dimension_value,
        kpi_values.value,
        periods.period_index,
        periods.is_complete
    from kpi_values
    inner join periods
        on
            kpi_values.grain = periods.grain
            and kpi_values.period_start = periods.period_start
),

window_periods as (
    {#- Each period beside the W periods before it. Equi-joining points to this small calendar
        pairing keeps the window join linear in the number of points. #}
    select
        current_period.grain,
        current_period.period_index,
        earlier.period_index as window_period_index
    from periods as current_period
    inner join periods as earlier
        on
            current_period.grain = earlier.grain
            and current_period.period_index - {{ window_size }} <= earlier.period_index
            and current_period.period_index > earlier.period_index
    where current_period.grain in ({{ grain_list }})
),

window_points as (
    {#- A period with no row or a null value in the series is simply absent from the window:
        the window holds fewer points, it is never padded with zeros or stretched further back. #}
    select
        points.kpi_id,
        points.grain,
        points.period_index,
        points.dimension_name,
        points.dimension_value,
        earlier.value as window_value
    from points
    inner join window_periods
        on
            points.grain = window_periods.grain
            and points.period_index = window_periods.period_index
    inner join points as earlier
        on {{ same_keys('points', 'earlier', kpi_series_keys()) }}
            and window_periods.window_period_index = earlier.period_index
    where earlier.value is not null
),

window_medians as (
    select
        kpi_id,
        grain,
        period_index,
        dimension_name,
        dimension_value,
        count(*) as window_point_count,
        {{ median('window_value') }} as window_median
    from window_points
    group by kpi_id, grain, period_index, dimension_name, dimension_value
),

window_deviations as (
    select
        window_medians.kpi_id,
        window_medians.grain,
        window_medians.period_index,
        window_medians.dimension_name,
        window_medians.dimension_value,
        window_medians.window_point_count,
        window_medians.window_median,
        {{ median('abs(window_points.window_value - window_medians.window_median)') }}
            as window_mad,
        avg(abs(window_points.window_value - window_medians.window_median))
            as window_mean_abs_deviation
    from window_medians
    inner join window_points
        on {{ same_keys('window_medians', 'window_points', kpi_series_keys() + ['period_index']) }}
    group by
        window_medians.kpi_id,
        window_medians.grain,
        window_medians.period_index,
        window_medians.dimension_name,
        window_medians.dimension_value,
        window_medians.window_point_count,
        window_medians.window_median
),

scored as (
    select
        points.*,
        coalesce(window_deviations.window_point_count, 0) as window_point_count,
        window_deviations.window_median,
        window_deviations.window_mad,
        window_deviations.window_mean_abs_deviation,
        case
            when not points.is_complete then 'incomplete_period'
            when points.value is null then 'no_value'
            when coalesce(window_deviations.window_point_count, 0) < {{ min_periods }}
                then 'short_window'
            when window_deviations.window_mad > 0 then 'scored'
            when window_deviations.window_mean_abs_deviation > 0 then 'scored_mean_deviation'
            else 'flat_window'
        end as score_status
    from points
    left join window_deviations
        on {{ same_keys('points', 'window_deviations', kpi_series_keys() + ['period_index']) }}
),

z_scores as (
    select
        *,
        case
            when score_status = 'scored'
                then (value - window_median) / (1.4826 * window_mad)
            when score_status = 'scored_mean_deviation'
                then (value - window_median) / (1.2533 * window_mean_abs_deviation)
        end as robust_z_score
    from scored
),

flagged as (
    select
        *,
        coalesce(
            score_status in ('scored', 'scored_mean_deviation')
            and abs(robust_z_score) > {{ z_threshold }}
            or score_status = 'flat_window' and value <> window_median,
            false
        ) as is_anomaly
    from z_scores
),

final as (
    select
        cast(flagged.kpi_id as {{ dbt.type_string() }}) as kpi_id,
        cast(registry.kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(registry.layer as {{ dbt.type_string() }}) as kpi_layer,
        cast(registry.domain as {{ dbt.type_string() }}) as domain,
        cast(registry.direction as {{ dbt.type_string() }}) as direction,
        cast(flagged.grain as {{ dbt.type_string() }}) as grain,
        cast(flagged.period_start as date) as period_start,
        cast(flagged.dimension_name as {{ dbt.type_string() }}) as dimension_name,
        cast(flagged.dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(flagged.value as {{ output_kpis.type_double() }}) as value,
        cast(flagged.window_point_count as integer) as window_point_count,
        cast(flagged.window_median as {{ output_kpis.type_double() }}) as window_median,
        cast(flagged.window_mad as {{ output_kpis.type_double() }}) as window_mad,
        cast(flagged.window_mean_abs_deviation as {{ output_kpis.type_double() }})
            as window_mean_abs_deviation,
        cast(flagged.robust_z_score as {{ output_kpis.type_double() }}) as robust_z_score,
        cast(flagged.score_status as {{ dbt.type_string() }}) as score_status,
        flagged.is_anomaly,
        cast(
            case
                when flagged.is_anomaly and flagged.value > flagged.window_median then 'spike'
                when flagged.is_anomaly and flagged.value < flagged.window_median then 'drop'
            end as {{ dbt.type_string() }}
        ) as anomaly_direction,
        coalesce(
            flagged.is_anomaly and (
                registry.direction = 'higher_is_better' and flagged.value < flagged.window_median
                or registry.direction = 'lower_is_better'
                and flagged.value > flagged.window_median
            ),
            false
        ) as is_adverse,
        {{ output_kpis.as_of_timestamp() }} as as_of_at
    from flagged
    left join registry
        on flagged.kpi_id = registry.kpi_id
)

select * from final
