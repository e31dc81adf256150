{#- KPI components of every declared KPI (docs/adding_a_kpi.md), at every grain and dimension,
    in the shape of the built-in *_kpi_components models: count = counted units on their
    completion's local date; quality_rate = counted units meeting the quality rule / counted
    units; on_time_rate = due units done by the deadline / due units, on the deadline's local
    date; per_actor = counted units / actor-periods (the declared ones, or those with at least
    one counted unit), an actor-period on its first day. A per-actor denominator carries only
    the dimensions its actor-periods have: other slices read (none) there. -#}
{{ config(
    materialized=output_kpis.incremental_materialization(on_spark=false),
    incremental_strategy='replace_periods',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{%- set units = output_kpis.unit_declarations() %}
{%- set text = output_kpis.type_text() %}
with declared_units as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_units__declared_units') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),
{%- for unit in units %}
{%- set per_actor = unit.kpis | selectattr('measure', 'equalto', 'per_actor') | list %}
{%- set unit_dimensions = unit.dimensions | map(attribute='name') | list %}

{{ unit.unit_id }}__events as (
    select
        completed_date as kpi_date,
        {%- for name in unit_dimensions %}
        dim_{{ name }},
        {%- endfor %}
        1 as counted_units,
        {{ output_kpis.bool_to_int('meets_quality') }} as good_units,
        0 as due_units,
        0 as on_time_units,
        {%- for kpi in per_actor %}
        0 as actor_periods_{{ loop.index }},
        {%- endfor %}
        actor_id
    from declared_units
    where unit_id = '{{ unit.unit_id }}' and is_counted
    {%- if unit.deadline %}
    union all
    select
        deadline_date as kpi_date,
        {%- for name in unit_dimensions %}
        dim_{{ name }},
        {%- endfor %}
        0 as counted_units,
        0 as good_units,
        1 as due_units,
        {{ output_kpis.bool_to_int('is_on_time') }} as on_time_units,
        {%- for kpi in per_actor %}
        0 as actor_periods_{{ loop.index }},
        {%- endfor %}
        actor_id
    from declared_units
    where unit_id = '{{ unit.unit_id }}' and is_due
    {%- endif %}
    {%- for kpi in per_actor %}
    {%- set outer = loop %}
    union all
    {%- if kpi.actor_periods %}
    {%- set periods = kpi.actor_periods %}
    {%- set period_dimensions = periods.dimensions | map(attribute='name') | list %}
    select distinct
        {{ output_kpis.period_start(kpi.per, 'cast(' ~ periods.date ~ ' as date)') }} as kpi_date,
        {%- for name in unit_dimensions %}
        {%- if name in period_dimensions %}
        {{ output_kpis.dimension_text(
            (periods.dimensions | selectattr('name', 'equalto', name) | first).column) }}
            as dim_{{ name }},
        {%- else %}
        cast(null as {{ text }}) as dim_{{ name }},
        {%- endif %}
        {%- endfor %}
        0 as counted_units,
        0 as good_units,
        0 as due_units,
        0 as on_time_units,
        {%- for other in per_actor %}
        {{ 1 if loop.index == outer.index else 0 }} as actor_periods_{{ loop.index }},
        {%- endfor %}
        {{ output_kpis.dimension_text(periods.actor) }} as actor_id
    from {{ output_kpis.unit_relation(periods.relation) }}
    where cast({{ periods.date }} as date) <= cast((select as_of_at from as_of) as date)
    {%- else %}
    select
        {{ output_kpis.period_start(kpi.per, 'completed_date') }} as kpi_date,
        {%- for name in unit_dimensions %}
        {%- if name in unit.actor_dimensions %}
        min(dim_{{ name }}) as dim_{{ name }},
        {%- else %}
        cast(null as {{ text }}) as dim_{{ name }},
        {%- endif %}
        {%- endfor %}
        0 as counted_units,
        0 as good_units,
        0 as due_units,
        0 as on_time_units,
        {%- for other in per_actor %}
        {{ 1 if loop.index == outer.index else 0 }} as actor_periods_{{ loop.index }},
        {%- endfor %}
        actor_id
    from declared_units
    where unit_id = '{{ unit.unit_id }}' and is_counted and actor_id is not null
    group by actor_id, {{ output_kpis.period_start(kpi.per, 'completed_date') }}
    {%- endif %}
    {%- endfor %}
),
{%- set dimensions = [] %}
{%- for name in unit_dimensions %}
{%- do dimensions.append({'name': name, 'column': 'dim_' ~ name}) %}
{%- endfor %}
{%- set measures = [] %}
{%- for kpi in unit.kpis %}
{%- if kpi.measure == 'count' %}
{%- do measures.append({'kpi_id': kpi.kpi_id, 'numerator': 'counted_units', 'denominator': none}) %}
{%- elif kpi.measure == 'quality_rate' %}
{%- do measures.append({'kpi_id': kpi.kpi_id, 'numerator': 'good_units',
    'denominator': 'counted_units'}) %}
{%- elif kpi.measure == 'on_time_rate' %}
{%- do measures.append({'kpi_id': kpi.kpi_id, 'numerator': 'on_time_units',
    'denominator': 'due_units'}) %}
{%- else %}
{%- do measures.append({'kpi_id': kpi.kpi_id, 'numerator': 'counted_units',
    'denominator': 'actor_periods_' ~ ((per_actor | map(attribute='kpi_id') | list).index(kpi.kpi_id)
        + 1)}) %}
{%- endif %}
{%- endfor %}

{{ output_kpis.rollup_kpi_components(
    unit.unit_id ~ '__events',
    'kpi_date',
    dimensions=dimensions,
    measures=measures,
    name=unit.unit_id ~ '__components',
) }},
{%- endfor %}

components as (
    {%- for unit in units %}
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator
    from {{ unit.unit_id }}__components
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    {{ output_kpis.rows_as_select([], [('kpi_id', text), ('grain', text), ('period_start', 'date'),
        ('dimension_name', text), ('dimension_value', text),
        ('numerator', output_kpis.type_double()), ('denominator', output_kpis.type_double())]) }}
    {%- endfor %}
),

final as (
    select
        components.*,
        as_of.as_of_at
    from components
    cross join as_of
    -- a slice no unit contributed to carries no information
    where components.numerator <> 0 or components.denominator <> 0
),

{{ incremental_kpi_periods('final') }}
