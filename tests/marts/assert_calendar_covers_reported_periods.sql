-- Every period a KPI mart reports is in the calendar (int_calendar__periods): status, scorecard,
-- anomalies, lags and traps inner-join it, so a period missing there silently drops out of them.
-- The calendar starts at the earliest date the enabled domains report on; a miss means a date
-- source it does not read. Each row says what to do.
{%- set string = dbt.type_string() %}
with reported as (
    select
        kpi_id,
        grain,
        period_start
    from ({{ output_kpis.all_kpi_values() }}) as kpi_values
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

missing as (
    select
        reported.kpi_id,
        reported.grain,
        min(reported.period_start) as first_missing_period_start,
        count(*) as missing_row_count
    from reported
    left join periods
        on reported.grain = periods.grain and reported.period_start = periods.period_start
    where periods.period_start is null
    group by reported.kpi_id, reported.grain
)

select
    kpi_id,
    grain,
    first_missing_period_start,
    missing_row_count,
    'int_calendar__periods lacks ' || cast(missing_row_count as {{ string }}) || ' '
    || grain || ' periods of ' || kpi_id || ' from '
    || cast(first_missing_period_start as {{ string }})
    || ': set var kpi_calendar_start_date to that date or earlier, and report the missed '
    || 'date source (models/intermediate/calendar/int_calendar__days.sql)' as what_to_do
from missing
