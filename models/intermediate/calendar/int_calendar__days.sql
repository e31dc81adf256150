{#- One row per calendar day from var kpi_calendar_start_date to the as_of date, with the start
    of each period it falls in. Stock-type denominators (customers active at period start,
    agent-days) are built on it. Every grain's column is there whatever var kpi_grains reports:
    the columns do not move with a consumer's vars (unit-test fixtures and tests name them). -#}
{#- Every project that installs the package parses this model: the package vars that are not
    checked where they are used (source locations, domain switches, calendar) are checked here,
    so a bad value fails the parse naming the var. -#}
{%- do output_kpis.validate_package_vars() %}
with spine as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ date_var('kpi_calendar_start_date', '2020-01-01') ~ "' as date)",
        dbt.dateadd('day', 1, 'cast(' ~ as_of_timestamp() ~ ' as date)'),
    ) }}
),

final as (
    select
        cast(date_day as date) as calendar_date,
        {%- for grain in ['day', 'week', 'month', 'quarter'] %}
            {{ period_start(grain, 'date_day') }} as {{ grain }}_start,
        {%- endfor %}
        cast({{ dbt_date_part('isodow', 'date_day') }} as integer) as iso_weekday
    from spine
)

select * from final
