{#- Numerators and denominators of every manufacturing output KPI at each grain and dimension.
    Throughput is reported on the shift's date (a night shift belongs to the day it started);
    first-pass yield and defects are the sum over steps of int_manufacturing__step_kpi_components;
    units started count on the local date of a serial's first event. Rolled throughput yield is a
    product of step yields, not a ratio of sums: its rows carry the product in precomputed_value
    (numerator and denominator null), which fct_kpi_values publishes as the value. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(on_spark=false),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
) }}
with shift_output as (
    select * from {{ ref('int_manufacturing__shift_output') }}
),

step_kpis as (
    select * from {{ ref('int_manufacturing__step_kpi_components') }}
),

units as (
    select * from {{ ref('int_manufacturing__completed_units') }}
),

{{ rollup_kpi_components(
    'shift_output',
    'shift_date',
    dimensions=[
        {'name': 'site', 'column': 'site_id'},
        {'name': 'line', 'column': 'line_id'},
    ],
    measures=[
        {'kpi_id': 'throughput_rate', 'numerator': 'good_unit_count',
         'denominator': 'operating_minutes / 60.0'},
        {'kpi_id': 'units_per_shift', 'numerator': 'good_unit_count',
         'denominator': bool_to_int('is_producing_shift')},
        {'kpi_id': 'good_units', 'numerator': 'good_unit_count', 'denominator': none},
    ],
    name='shift_kpis',
) }},

{{ rollup_kpi_components(
    'units',
    'started_local_date',
    dimensions=[
        {'name': 'site', 'column': 'site_id'},
        {'name': 'line', 'column': 'line_id'},
    ],
    measures=[{'kpi_id': 'units_started', 'numerator': '1', 'denominator': none}],
    name='start_kpis',
) }},

inspection_kpis as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from step_kpis
    group by kpi_id, grain, period_start, dimension_name, dimension_value
),

step_yields as (
    select
        grain,
        period_start,
        dimension_name,
        dimension_value,
        denominator as inspected_count,
        {{ safe_divide('numerator', 'denominator') }} as first_pass_yield
    from step_kpis
    where kpi_id = 'first_pass_yield'
),

rolled_throughput_yield as (
    {#- Product of step yields via exp(sum(ln)); a step with zero yield makes the product 0;
        a step with no inspections in the slice is left out. -#}
    select
        'rolled_throughput_yield' as kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        cast(null as {{ output_kpis.type_double() }}) as numerator,
        cast(null as {{ output_kpis.type_double() }}) as denominator,
        case
            when min(first_pass_yield) = 0 then 0.0
            else exp(sum(ln(nullif(first_pass_yield, 0))))
        end as precomputed_value
    from step_yields
    where inspected_count > 0
    group by grain, period_start, dimension_name, dimension_value
),

ratio_components as (
    select * from shift_kpis
    union all
    select * from start_kpis
    union all
    select * from inspection_kpis
),

final as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator,
        cast(null as {{ output_kpis.type_double() }}) as precomputed_value
    from ratio_components
    union all
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator,
        cast(precomputed_value as {{ output_kpis.type_double() }}) as precomputed_value
    from rolled_throughput_yield
),

{{ incremental_kpi_periods('final', float_columns=['precomputed_value']) }}
