-- The verdict of fct_leading_indicators is the strongest eligible lag of fct_output_outcome_lags
-- (ties to the smaller lag), and every correlation is a correlation: within [-1, 1].
with lags as (
    select * from {{ ref('fct_output_outcome_lags') }}
),

verdicts as (
    select * from {{ ref('fct_leading_indicators') }}
),

stronger_lags as (
    select
        verdicts.output_kpi_id,
        verdicts.outcome_kpi_id,
        verdicts.grain,
        verdicts.dimension_name,
        verdicts.dimension_value,
        lags.lag_periods,
        'a stronger or equally strong smaller lag' as problem
    from verdicts
    inner join lags
        on
            verdicts.output_kpi_id = lags.output_kpi_id
            and verdicts.outcome_kpi_id = lags.outcome_kpi_id
            and verdicts.grain = lags.grain
            and verdicts.dimension_name = lags.dimension_name
            and verdicts.dimension_value = lags.dimension_value
    where
        lags.status != 'insufficient_data'
        and lags.pearson_correlation is not null
        and (
            verdicts.best_lag_periods is null
            or abs(lags.pearson_correlation) > abs(verdicts.pearson_correlation)
            or (
                abs(lags.pearson_correlation) = abs(verdicts.pearson_correlation)
                and lags.lag_periods < verdicts.best_lag_periods
            )
        )
),

out_of_range as (
    select
        output_kpi_id,
        outcome_kpi_id,
        grain,
        dimension_name,
        dimension_value,
        lag_periods,
        'correlation outside [-1, 1]' as problem
    from lags
    where pearson_correlation < -1 or pearson_correlation > 1
)

select * from stronger_lags
union all
select * from out_of_range
