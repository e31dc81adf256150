{#- The declared sales KPIs (var output_kpis_builtin_units: qualified_opportunities, win_rate)
    equal the hand-written SQL they replaced, row for row. The hand-written model is kept here,
    verbatim, as the reference. Returns every row where they differ: a declared row with no
    hand-written twin or another numerator or denominator, and a hand-written row the
    declaration does not produce unless it carries no unit (numerator 0 and denominator 0 or
    none: the hand-written model emitted such rows for a slice where only the other KPI had an
    event, as int_units__kpi_components never does). -#}
{{ config(enabled=var('output_kpis_enable_sales', true) is sameas true) }}
with opportunities as (
    select * from {{ ref('int_sales__qualified_opportunities') }}
),

declared as (
    select * from {{ ref('int_units__kpi_components') }}
    where kpi_id in ('qualified_opportunities', 'win_rate')
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
        {{ output_kpis.bool_to_int('is_won') }} as is_win
    from opportunities
    where is_closed and is_qualified
),

{{ output_kpis.rollup_kpi_components(
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

compared as (
    select
        coalesce(declared.kpi_id, kpi_components.kpi_id) as kpi_id,
        coalesce(declared.grain, kpi_components.grain) as grain,
        coalesce(declared.period_start, kpi_components.period_start) as period_start,
        coalesce(declared.dimension_name, kpi_components.dimension_name) as dimension_name,
        coalesce(declared.dimension_value, kpi_components.dimension_value) as dimension_value,
        declared.numerator as declared_numerator,
        declared.denominator as declared_denominator,
        kpi_components.numerator as hand_written_numerator,
        kpi_components.denominator as hand_written_denominator
    from declared
    full outer join kpi_components
        on {{ output_kpis.same_keys('declared', 'kpi_components', ['kpi_id', 'grain',
            'period_start', 'dimension_name', 'dimension_value']) }}
)

select * from compared
where
    (
        declared_numerator is not null
        and (
            hand_written_numerator is null
            or declared_numerator <> hand_written_numerator
            or declared_denominator is distinct from hand_written_denominator
        )
    )
    or (
        declared_numerator is null
        and (hand_written_numerator <> 0 or coalesce(hand_written_denominator, 0) <> 0)
    )
