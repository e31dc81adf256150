{#- Numerators and denominators of every manufacturing output KPI at each grain and dimension.
    Throughput is reported on the shift's date (a night shift belongs to the day it started);
    first-pass yield and defects on the local date of a unit's first inspection at the step. -#}
with shift_output as (
    select * from {{ ref('int_manufacturing__shift_output') }}
),

inspections as (
    select * from {{ ref('int_manufacturing__first_pass_inspections') }}
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
    ],
    name='shift_kpis',
) }},

{{ rollup_kpi_components(
    'inspections',
    'first_inspected_local_date',
    dimensions=[
        {'name': 'site', 'column': 'site_id'},
        {'name': 'line', 'column': 'line_id'},
    ],
    measures=[
        {'kpi_id': 'first_pass_yield', 'numerator': bool_to_int('is_first_pass'),
         'denominator': '1'},
        {'kpi_id': 'defect_rate_per_1000', 'numerator': 'defect_count', 'denominator': '1'},
    ],
    name='inspection_kpis',
) }},

final as (
    select * from shift_kpis
    union all
    select * from inspection_kpis
)

select * from final
