{#- Customer churn rate per period = customers churned in the period / customers active at
    any time in it (active at the start, or signed up during it), so the numerator is always a
    subset of the denominator. Built per grain on the calendar because the denominator is a
    stock, which a daily sum would overcount. -#}
with customers as (
    select * from {{ ref('stg_oms__customers') }}
),

churn_events as (
    select * from {{ ref('stg_outcomes__churn_events') }}
),

calendar as (
    select * from {{ ref('int_calendar__days') }}
),

customer_lifetimes as (
    select
        customers.customer_id,
        customers.customer_segment,
        customers.signed_up_date,
        churn_events.churned_date
    from customers
    left join churn_events on customers.customer_id = churn_events.customer_id
),

periods as (
    {%- for grain in output_kpis.reporting_grains() %}
        select
            '{{ grain }}' as grain,
            {{ grain }}_start as period_start,
            max(calendar_date) as period_end
        from calendar
        group by {{ grain }}_start
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

exposures as (
    select
        periods.grain,
        periods.period_start,
        customer_lifetimes.customer_segment,
        {{ bool_to_int(
            'customer_lifetimes.churned_date between periods.period_start and periods.period_end'
        ) }} as is_churned
    from periods
    inner join customer_lifetimes
        on
            periods.period_end >= customer_lifetimes.signed_up_date
            and (
                customer_lifetimes.churned_date is null
                or periods.period_start <= customer_lifetimes.churned_date
            )
),

sliced as (
    select
        grain,
        period_start,
        'overall' as dimension_name,
        'all' as dimension_value,
        is_churned
    from exposures
    union all
    select
        grain,
        period_start,
        'customer_segment' as dimension_name,
        coalesce(customer_segment, '(none)') as dimension_value,
        is_churned
    from exposures
),

final as (
    select
        'customer_churn_rate' as kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        cast(sum(is_churned) as {{ output_kpis.type_double() }}) as numerator,
        cast(count(*) as {{ output_kpis.type_double() }}) as denominator
    from sliced
    group by grain, period_start, dimension_name, dimension_value
)

select * from final
