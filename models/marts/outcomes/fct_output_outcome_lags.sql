{#- Is the output a leading indicator? For every linked output -> outcome series (pair, grain,
    dimension value) and lag k in 0..lag_analysis_max_lag: the Pearson correlation of the
    output at period i with the outcome at period i + k. Periods are shifted by the calendar's
    period_index (never by date arithmetic) and only complete periods count, so a half-finished
    month cannot pose as a drop. A short series gets no correlation at all. -#}
{%- set grains = choice_list_var(
    'lag_analysis_grains', output_kpis.reporting_grains(),
    ['month', 'quarter']) -%}
{%- set grain_list = "'" ~ grains | join("', '") ~ "'" -%}
{%- set max_lag = number_var('lag_analysis_max_lag', 4) | int -%}
{%- set min_periods = number_var('lag_analysis_min_periods', 6) -%}
{%- set z_critical = number_var('lag_analysis_z_critical', 1.96) -%}
{%- if min_periods < 4 -%}
    {{ exceptions.raise_compiler_error(
        "var 'lag_analysis_min_periods' must be >= 4 (the Fisher z needs n - 3 > 0); got '"
        ~ min_periods ~ "'") }}
{%- endif -%}
{#- |r| is capped just below 1 before atanh so a perfect fit gives a large finite z. -#}
{%- set r_cap = 0.999999 -%}

with links as (
    select * from {{ ref('fct_output_outcome_links') }}
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

series_points as (
    select
        links.output_kpi_id,
        links.outcome_kpi_id,
        links.expected_relationship,
        links.grain,
        links.dimension_name,
        links.dimension_value,
        periods.period_index,
        links.output_value,
        links.outcome_value,
        links.as_of_at
    from links
    inner join periods
        on
            links.grain = periods.grain
            and links.period_start = periods.period_start
    where
        periods.is_complete
        and links.grain in ({{ grain_list }})
),

series as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        max(expected_relationship) as expected_relationship,
        max(as_of_at) as as_of_at
    from series_points
    group by output_kpi_id, outcome_kpi_id, grain, dimension_name, dimension_value
),

lags as (
    {%- for k in range(max_lag + 1) %}
        select {{ k }} as lag_periods
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

paired as (
    select
        leading_side.output_kpi_id,
        leading_side.outcome_kpi_id,
        leading_side.grain,
        leading_side.dimension_name,
        leading_side.dimension_value,
        lags.lag_periods,
        leading_side.output_value,
        lagging_side.outcome_value
    from series_points as leading_side
    cross join lags
    inner join series_points as lagging_side
        on {{ same_keys('leading_side', 'lagging_side', pair_series_keys()) }}
            and lagging_side.period_index = leading_side.period_index + lags.lag_periods
    where
        leading_side.output_value is not null
        and lagging_side.outcome_value is not null
),

correlated as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        lag_periods,
        count(*) as paired_period_count,
        -- corr() of a constant series is NaN on some engines and null on others: a series
        -- needs two distinct values on each side to have a correlation at all.
        case
            when count(distinct output_value) > 1 and count(distinct outcome_value) > 1
                then corr(output_value, outcome_value)
        end as raw_correlation
    from paired
    group by output_kpi_id, outcome_kpi_id, grain, dimension_name, dimension_value, lag_periods
),

scored as (
    select
        series.output_kpi_id,
        series.outcome_kpi_id,
        series.expected_relationship,
        series.grain,
        series.dimension_name,
        series.dimension_value,
        lags.lag_periods,
        cast(coalesce(correlated.paired_period_count, 0) as integer) as paired_period_count,
        -- no correlation on a short series; rounding can push r a hair past +/-1.
        -- (case, not greatest/least: those skip nulls on some engines)
        case
            when coalesce(correlated.paired_period_count, 0) < {{ min_periods }} then null
            when correlated.raw_correlation > 1 then 1.0
            when correlated.raw_correlation < -1 then -1.0
            else correlated.raw_correlation
        end as pearson_correlation,
        series.as_of_at
    from series
    cross join lags
    left join correlated
        on {{ same_keys('series', 'correlated', pair_series_keys()) }}
            and lags.lag_periods = correlated.lag_periods
),

capped as (
    select
        *,
        case
            when pearson_correlation > {{ r_cap }} then {{ r_cap }}
            when pearson_correlation < -{{ r_cap }} then -{{ r_cap }}
            else pearson_correlation
        end as capped_correlation
    from scored
),

with_z as (
    select
        *,
        -- Fisher z = atanh(r) * sqrt(n - 3), atanh written with ln for portability; only
        -- where r exists, which implies n >= min_periods > 3
        case
            when capped_correlation is not null
                then 0.5 * ln((1 + capped_correlation) / (1 - capped_correlation))
                    * sqrt(paired_period_count - 3)
        end as fisher_z
    from capped
),

final as (
    select
        output_kpi_id,
        outcome_kpi_id,
        expected_relationship,
        grain,
        dimension_name,
        dimension_value,
        lag_periods,
        paired_period_count,
        cast(pearson_correlation as {{ output_kpis.type_double() }}) as pearson_correlation,
        cast(fisher_z as {{ output_kpis.type_double() }}) as fisher_z,
        case
            when paired_period_count < {{ min_periods }} then 'insufficient_data'
            when abs(fisher_z) >= {{ z_critical }} then 'significant'
            else 'not_significant'
        end as status,
        as_of_at
    from with_z
)

select * from final
