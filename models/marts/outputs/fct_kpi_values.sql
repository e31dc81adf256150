{#- The public KPI mart: one row per output KPI x grain x period x dimension value.
    Incremental (strategy replace_periods, macros/incremental.sql): every period from the
    earliest one holding a component row rebuilt after this table's latest rebuilt_at (the
    component models stamp what they rebuild), or a row whose component is gone, is
    recomputed. A change to the kpi_registry seed needs --full-refresh. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
-- Not published while a KPI governance rule is broken (int_governance__kpi_violations).
-- depends_on: {{ ref('int_governance__kpi_violations') }}
-- Incremental runs read the step components' rebuilt_at (below, in the is_incremental branch).
-- depends_on: {{ output_kpis.domain_ref('int_manufacturing__step_kpi_components') }}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
),

step_yields as (
    select * from {{ output_kpis.domain_ref('fct_manufacturing_step_yields') }}
),

components as (
    {%- for model in output_kpis.domain_component_models() %}
        select
            kpi_id,
            grain,
            period_start,
            dimension_name,
            dimension_value,
            numerator,
            denominator,
            rebuilt_at
        from {{ ref(model) }}
        union all
    {%- endfor %}
    -- the declared output KPIs (docs/adding_a_kpi.md)
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator,
        rebuilt_at
    from {{ ref('int_units__kpi_components') }}
    where {{ output_kpis.declared_kpi_condition('kpi_id', 'output') }}
),

ratio_values as (
    {{ kpi_values_from_components('components', 'registry') }}
),

rolled_throughput_yield as (
    {#- Product of step yields via exp(sum(ln)); a step with zero yield makes the product 0. -#}
    select
        'rolled_throughput_yield' as kpi_id,
        registry.kpi_name,
        registry.domain,
        step_yields.grain,
        step_yields.period_start,
        step_yields.dimension_name,
        step_yields.dimension_value,
        cast(null as {{ output_kpis.type_double() }}) as numerator,
        cast(null as {{ output_kpis.type_double() }}) as denominator,
        case
            when min(step_yields.first_pass_yield) = 0 then 0.0
            else exp(sum(ln(nullif(step_yields.first_pass_yield, 0))))
        end as value
    from step_yields
    left join registry on registry.kpi_id = 'rolled_throughput_yield'
    where step_yields.inspected_count > 0
    group by
        registry.kpi_name,
        registry.domain,
        step_yields.grain,
        step_yields.period_start,
        step_yields.dimension_name,
        step_yields.dimension_value
),

final as (
    select * from ratio_values
    union all
    select * from rolled_throughput_yield
),

kpi_values as (
    {{ kpi_value_columns('final') }}
)
{%- if is_incremental() %},

step_components as (
    select * from {{ output_kpis.domain_ref('int_manufacturing__step_kpi_components') }}
),

previous_build as (
    select max(rebuilt_at) as rebuilt_at from {{ this }}
),

changed_periods as (
    select components.period_start
    from components
    inner join previous_build on components.rebuilt_at > previous_build.rebuilt_at
    union all
    select step_components.period_start
    from step_components
    inner join previous_build on step_components.rebuilt_at > previous_build.rebuilt_at
    union all
    -- a row whose component is gone
    select built.period_start
    from {{ this }} as built
    left join kpi_values
        on {{ same_keys('built', 'kpi_values', kpi_point_keys()) }}
    where kpi_values.kpi_id is null
),

rebuild_from as (
    select min(period_start) as rebuild_from from changed_periods
),

rebuilt as (
    {{ replace_periods_rows('kpi_values', 'rebuild_from') }}
)

select * from rebuilt
{%- else %}

-- the linter mis-reads the indent after the incremental branch
select * from kpi_values  -- noqa: LT02
{%- endif %}
