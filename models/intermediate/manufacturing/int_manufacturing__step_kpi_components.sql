{#- First-pass yield and defect components per inspection step, at every grain and dimension:
    the one place these measures are defined. Overall values sum the steps
    (int_manufacturing__kpi_components); rolled throughput yield multiplies them. Reported on
    the local date of a unit's first inspection at the step. The SQL is rollup_kpi_components
    and incremental_kpi_periods, shared by every *_kpi_components model so that all domains
    roll up and refresh the same way; this model only states its dimensions and measures. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(on_spark=false),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
) }}
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
        {'kpi_id': 'defect_rate_per_1000', 'numerator': 'defect_count', 'denominator': '1'},
    ],
    partition_by=['step_code'],
) }},

{{ incremental_kpi_periods('kpi_components', partition_by=['step_code']) }}
