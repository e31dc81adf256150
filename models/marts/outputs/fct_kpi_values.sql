{#- The public KPI mart: one row per output KPI x grain x period x dimension value.
    Incremental (strategy replace_periods, macros/incremental.sql): every period from the
    earliest one holding a component row rebuilt after this table's latest rebuilt_at (the
    component models stamp what they rebuild), or a row whose component is gone, is
    recomputed. A change to the kpi_registry seed needs --full-refresh. Domain-free: a KPI that
    is not a ratio of sums (rolled throughput yield, a product of step yields) arrives as a
    component row carrying its precomputed_value. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(on_spark=false),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
-- Not published while a KPI governance rule is broken (int_governance__kpi_violations).
-- depends_on: {{ ref('int_governance__kpi_violations') }}
with registry as (
    select * from {{ ref('int_governance__kpi_registry') }}
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
            {{ output_kpis.component_precomputed_value(model) }} as precomputed_value,
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
        {{ output_kpis.component_precomputed_value('int_units__kpi_components') }}
            as precomputed_value,
        rebuilt_at
    from {{ ref('int_units__kpi_components') }}
    where {{ output_kpis.declared_kpi_condition('kpi_id', 'output') }}
),

final as (
    {{ kpi_values_from_components('components', 'registry', precomputed=true) }}
),

kpi_values as (
    {{ kpi_value_columns('final') }}
)
{%- if is_incremental() %},

previous_build as (
    select max(rebuilt_at) as rebuilt_at from {{ this }}
),

changed_periods as (
    select components.period_start
    from components
    inner join previous_build on components.rebuilt_at > previous_build.rebuilt_at
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
