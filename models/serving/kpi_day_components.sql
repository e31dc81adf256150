{#- Serving view behind the semantic layer (models/serving/_serving__semantic.yml): the day
    rows of every KPI with a numerator, so MetricFlow re-aggregates them to any grain as
    sum(numerator) / sum(denominator). A KPI whose denominator is a stock (var
    stock_denominator_kpis: customer_churn_rate, customers active at any time in the period)
    also gets its denominator split into the stock at the day's start (the previous day's
    denominator less its numerator: those who left) and the day's inflow, so a period's
    denominator is its first day's stock plus the period's inflow. Which KPIs get a metric is
    decided in kpi_tooling/serving/semantic_layer.py (not rolled_throughput_yield, a product). -#}
{{ config(grants=output_kpis.serving_grants()) }}
{%- set stock_kpis = var('stock_denominator_kpis', ['customer_churn_rate']) -%}
{%- for kpi_id in stock_kpis -%}
    {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', kpi_id | string) -%}
        {{ exceptions.raise_compiler_error(
            "var 'stock_denominator_kpis' must list KPI ids (snake_case); got '"
            ~ kpi_id ~ "'") }}
    {%- endif -%}
{%- endfor -%}
{%- set stock_list = "'" ~ (stock_kpis | join("', '")) ~ "'" -%}

with kpi_values as (
    select * from {{ ref('kpi_values') }}
),

day_rows as (
    select
        kpi_id,
        layer,
        domain,
        period_start as kpi_date,
        dimension_name,
        dimension_value,
        numerator,
        coalesce(denominator, 0) as denominator,
        -- the stock carried into the day; the first day of a series holds all of it
        coalesce(
            lag(coalesce(denominator, 0)) over series - lag(numerator) over series,
            coalesce(denominator, 0)
        ) as stock_at_start
    from kpi_values
    where grain = 'day' and numerator is not null
    window series as (
        partition by kpi_id, dimension_name, dimension_value order by period_start
    )
),

final as (
    select
        kpi_id
        || '|' || cast(kpi_date as {{ dbt.type_string() }})
        || '|' || dimension_name
        || '|' || dimension_value as kpi_day_component_id,
        kpi_id,
        layer,
        domain,
        kpi_date,
        dimension_name,
        dimension_value,
        numerator,
        denominator,
        case
            when kpi_id in ({{ stock_list }}) then stock_at_start
        end as denominator_stock_at_start,
        case
            when kpi_id in ({{ stock_list }}) then denominator - stock_at_start
        end as denominator_inflow
    from day_rows
)

select * from final
