{#- First-pass yield per inspection step: the components of rolled throughput yield. -#}
with inspections as (
    select * from {{ ref('int_manufacturing__first_pass_inspections') }}
),

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
    ],
    partition_by=['step_code'],
) }},

final as (
    select
        grain,
        period_start,
        dimension_name,
        dimension_value,
        step_code,
        numerator as first_pass_count,
        denominator as inspected_count,
        {{ safe_divide('numerator', 'denominator') }} as first_pass_yield
    from kpi_components
)

select * from final
