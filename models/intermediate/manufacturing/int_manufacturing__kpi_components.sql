{#- Numerators and denominators of every manufacturing output KPI at each grain and dimension.
    Throughput is reported on the shift's date (a night shift belongs to the day it started);
    first-pass yield and defects are the sum over steps of int_manufacturing__step_kpi_components;
    units started count on the local date of a serial's first event. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
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

final as (
    select * from shift_kpis
    union all
    select * from start_kpis
    union all
    select * from inspection_kpis
),

{{ incremental_kpi_periods('final') }}
