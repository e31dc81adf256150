{#- The verdict of the lag analysis, one row per linked output -> outcome series (pair, grain,
    dimension value): the lag at which the output tracks the outcome most strongly, whether that
    is significant and in the expected direction, in plain words for the KPI review. -#}
{%- set min_periods = number_var('lag_analysis_min_periods', 6) -%}
{%- set max_lag = number_var('lag_analysis_max_lag', 4) | int -%}

with lags as (
    select * from {{ ref('fct_output_outcome_lags') }}
),

series as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        max(expected_relationship) as expected_relationship,
        max(paired_period_count) as max_paired_period_count,
        max(as_of_at) as as_of_at
    from lags
    group by output_kpi_id, outcome_kpi_id, grain, dimension_name, dimension_value
),

ranked as (
    -- only lags with enough data and a defined correlation compete; ties go to the smaller lag
    select
        *,
        row_number() over (
            partition by output_kpi_id, outcome_kpi_id, grain, dimension_name, dimension_value
            order by abs(pearson_correlation) desc, lag_periods asc
        ) as strength_rank
    from lags
    where status != 'insufficient_data' and pearson_correlation is not null
),

best as (
    select * from ranked
    where strength_rank = 1
),

judged as (
    select
        series.output_kpi_id,
        series.outcome_kpi_id,
        series.expected_relationship,
        series.grain,
        series.dimension_name,
        series.dimension_value,
        best.lag_periods as best_lag_periods,
        best.pearson_correlation,
        coalesce(best.paired_period_count, series.max_paired_period_count) as paired_period_count,
        best.fisher_z,
        case
            when series.max_paired_period_count < {{ min_periods }} then 'insufficient_data'
            when best.status is null then 'not_significant'
            else best.status
        end as status,
        case
            when best.pearson_correlation > 0 then series.expected_relationship = 'positive'
            when best.pearson_correlation < 0 then series.expected_relationship = 'negative'
        end as is_sign_as_expected,
        series.as_of_at
    from series
    left join best
        on {{ same_keys('series', 'best', pair_series_keys()) }}
),

worded as (
    select
        *,
        case
            when best_lag_periods = 0 then 'lag 0'
            when best_lag_periods = 1 then '1 ' || grain
            else cast(best_lag_periods as {{ dbt.type_string() }}) || ' ' || grain || 's'
        end as lag_words,
        '(r = ' || cast(cast(pearson_correlation as decimal(6, 2)) as {{ dbt.type_string() }})
        || ', n = ' || cast(paired_period_count as {{ dbt.type_string() }})
        || ' ' || grain || 's)' as evidence_words
    from judged
),

final as (
    select
        output_kpi_id,
        outcome_kpi_id,
        expected_relationship,
        grain,
        dimension_name,
        dimension_value,
        best_lag_periods,
        cast(pearson_correlation as {{ output_kpis.type_double() }}) as pearson_correlation,
        paired_period_count,
        cast(fisher_z as {{ output_kpis.type_double() }}) as fisher_z,
        status,
        is_sign_as_expected,
        case
            when status = 'insufficient_data'
                then 'Not enough data: at most '
                    || cast(paired_period_count as {{ dbt.type_string() }})
                    || ' paired ' || grain || 's at any lag, '
                    || '{{ min_periods }} needed.'
            when pearson_correlation is null
                then 'No correlation: one of the series is constant.'
            when status = 'not_significant'
                then 'No significant relationship at lags 0-{{ max_lag }}; strongest at '
                    || lag_words || ' ' || evidence_words || '.'
            when not is_sign_as_expected
                then 'Moves against the expected ' || expected_relationship
                    || ' relationship at ' || lag_words || ' ' || evidence_words
                    || ': check the link.'
            when best_lag_periods = 0
                then 'Moves with ' || outcome_kpi_id || ' in the same ' || grain || ' '
                    || evidence_words || ', as expected: coincident, not leading.'
            else 'Leads ' || outcome_kpi_id || ' by ' || lag_words || ' ' || evidence_words
                || ', as expected: a leading indicator.'
        end as finding,
        as_of_at
    from worded
)

select * from final
