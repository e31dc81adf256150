{#- Delivery KPIs are reported in the period of the line's promised date (its due period).
    The SQL is rollup_kpi_components (grains and slices) and incremental_kpi_periods (which
    periods to replace), shared by every *_kpi_components model so that all domains roll up
    and refresh the same way; this model only states its dimensions and measures. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(on_spark=false),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
) }}
with order_lines as (
    select * from {{ ref('int_fulfilment__order_lines') }}
),

{{ rollup_kpi_components(
    'order_lines',
    'promised_date',
    dimensions=[
        {'name': 'site', 'column': 'site_id'},
        {'name': 'customer_segment', 'column': 'customer_segment'},
    ],
    measures=[
        {'kpi_id': 'on_time_rate', 'numerator': bool_to_int('is_on_time'),
         'denominator': bool_to_int('is_due')},
        {'kpi_id': 'in_full_rate', 'numerator': bool_to_int('is_in_full'),
         'denominator': bool_to_int('is_due')},
        {'kpi_id': 'otif_rate', 'numerator': bool_to_int('is_otif'),
         'denominator': bool_to_int('is_due')},
        {'kpi_id': 'cancelled_order_lines', 'numerator': bool_to_int('is_cancelled'),
         'denominator': none},
    ],
) }},

{{ incremental_kpi_periods('kpi_components') }}
