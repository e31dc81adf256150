{#- Qualified opportunities are counted in the period they qualified; win rate in the period
    deals closed (won / (won + lost), qualified deals only). -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
) }}
with opportunities as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_sales__qualified_opportunities') }}
),

opportunity_events as (
    select
        cast(qualified_at as date) as event_date,
        sales_team,
        rep_id,
        customer_segment,
        1 as is_qualification,
        0 as is_closure,
        0 as is_win
    from opportunities
    where is_qualified
    union all
    select
        cast(closed_at as date) as event_date,
        sales_team,
        rep_id,
        customer_segment,
        0 as is_qualification,
        1 as is_closure,
        {{ bool_to_int('is_won') }} as is_win
    from opportunities
    where is_closed and is_qualified
),

{{ rollup_kpi_components(
    'opportunity_events',
    'event_date',
    dimensions=[
        {'name': 'sales_team', 'column': 'sales_team'},
        {'name': 'rep', 'column': 'rep_id'},
        {'name': 'customer_segment', 'column': 'customer_segment'},
    ],
    measures=[
        {'kpi_id': 'qualified_opportunities', 'numerator': 'is_qualification',
         'denominator': none},
        {'kpi_id': 'win_rate', 'numerator': 'is_win', 'denominator': 'is_closure'},
    ],
) }},

{{ incremental_kpi_periods('kpi_components') }}
