{#- One row per calendar day from the earliest date the enabled domains report a KPI on (or var
    kpi_calendar_start_date, when set and earlier) to the as_of date, with the start of each
    reporting period it falls in. Stock-type denominators (customers active at period start,
    agent-days) and the period list (int_calendar__periods) are built on it. It ends at as_of:
    no KPI row is published for a day after it (rollup_kpi_components). The earliest dates are
    read from the KPI component models (small: one row per KPI, day and slice), at the finest
    reporting grain, and from churn events (churn is rated on this calendar, so it cannot read
    its own components). -#}
{#- Every project that installs the package parses this model: the package vars that are not
    checked where they are used (source locations, domain switches, calendar) are checked here,
    so a bad value fails the parse naming the var. -#}
{%- do output_kpis.validate_package_vars() %}
{%- set grains = output_kpis.reporting_grains() %}
{%- set finest = [] %}
{%- for grain in output_kpis.known_grains() if grain in grains %}
    {%- do finest.append(grain) %}
{%- endfor %}
{%- set components = output_kpis.domain_component_models() + ['int_units__kpi_components'] %}
{%- if output_kpis.domain_enabled('manufacturing') %}
    {%- do components.append('int_manufacturing__step_kpi_components') %}
{%- endif %}
{%- set with_outcomes = output_kpis.domain_enabled('outcomes') %}
{%- if with_outcomes %}{% do components.append('int_outcomes__kpi_components') %}{% endif %}
{%- set start_var = output_kpis.calendar_start_date() %}
with
{%- for component in components %}
    {{ component }} as (
        select min(period_start) as first_date
        from {{ ref(component) }}
        where grain = '{{ finest[0] }}'
    ),
{%- endfor %}
{%- if with_outcomes %}

    churn_events as (
        select min(churned_date) as first_date
        from {{ ref('stg_outcomes__churn_events') }}
    ),
{%- endif %}

data_dates as (
    {%- for component in components %}
        select first_date from {{ component }}
        union all
    {%- endfor %}
    {%- if with_outcomes %}
        select first_date from churn_events
        union all
    {%- endif %}
    select cast({{ as_of_timestamp() }} as date) as first_date
),

bounds as (
    select
        {%- if start_var is none %}
            min(first_date) as first_date,
        {%- else %}
            least(min(first_date), cast('{{ start_var }}' as date)) as first_date,
        {%- endif %}
        cast({{ as_of_timestamp() }} as date) as last_date
    from data_dates
),

spine as (
    {{ output_kpis.days_between('bounds', 'first_date', 'last_date') }}
),

final as (
    select
        calendar_date,
        {%- for grain in output_kpis.known_grains() %}
            {{ period_start(grain, 'calendar_date') }} as {{ grain }}_start,
        {%- endfor %}
        cast({{ dbt_date_part('isodow', 'calendar_date') }} as integer) as iso_weekday
    from spine
)

select * from final
