{#- KPI arithmetic shared by every domain: ratios are always sum(numerator) / sum(denominator),
    never an average of ratios, and a zero denominator yields null rather than an error. -#}

{% macro safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ output_kpis.type_double() }})
            / cast({{ denominator }} as {{ output_kpis.type_double() }})
    end
{%- endmacro %}

{% macro kpi_value(aggregation, numerator, denominator, multiplier) -%}
    {#- aggregation: ratio | rate (num/den x multiplier) or count (the numerator itself). -#}
    case
        when {{ aggregation }} = 'count' then cast({{ numerator }} as {{ output_kpis.type_double() }})
        else {{ safe_divide(numerator, denominator) }} * {{ multiplier }}
    end
{%- endmacro %}

{% macro bool_to_int(expr) -%}
    case when {{ expr }} then 1 else 0 end
{%- endmacro %}

{% macro rollup_kpi_components(
    relation, date_column, dimensions, measures, partition_by=[], name='kpi_components'
) -%}
    {#-
        Turns unit-level rows into KPI components at every reporting grain and dimension.

        relation      a ref() or CTE name holding one row per unit (or per unit-day)
        date_column   the local date the unit is reported on
        dimensions    list of {name, column}: each becomes its own slice; 'overall' is added
        measures      list of {kpi_id, numerator, denominator}: SQL expressions summed per slice;
                      denominator none = a count KPI
        partition_by  columns kept as extra grouping keys (e.g. step_code for RTY)
        name          name of the final CTE (helper CTEs are prefixed with it), so one model
                      can call the macro more than once

        Returns kpi_id, grain, period_start, dimension_name, dimension_value, <partition_by>,
        numerator, denominator.
    -#}
    {%- set grains = output_kpis.reporting_grains() -%}
    {%- set part_cols = partition_by | join(', ') -%}
    {%- set all_dims = [{'name': 'overall', 'column': "'all'"}] + dimensions -%}
    {{ name }}__daily as (
        select
            cast({{ date_column }} as date) as kpi_date,
            {%- for dim in dimensions %}
            coalesce(cast({{ dim.column }} as {{ dbt.type_string() }}), '(none)') as dim_{{ dim.name }},
            {%- endfor %}
            {%- for col in partition_by %}
            {{ col }},
            {%- endfor %}
            {%- for m in measures %}
            sum({{ m.numerator }}) as m{{ loop.index }}_numerator,
            {%- if m.denominator is not none %}
            sum({{ m.denominator }}) as m{{ loop.index }}_denominator{% if not loop.last %},{% endif %}
            {%- else %}
            cast(null as {{ output_kpis.type_double() }})
                as m{{ loop.index }}_denominator{% if not loop.last %},{% endif %}
            {%- endif %}
            {%- endfor %}
        from {{ relation }}
        {# Only periods that have started by as_of are published: a line promised for next
            month is not a KPI yet (fct_unit_accounting still shows it as not_yet_due). #}
        where
            {{ date_column }} is not null
            and cast({{ date_column }} as date) <= cast({{ output_kpis.as_of_timestamp() }} as date)
        group by
            cast({{ date_column }} as date)
            {%- for dim in dimensions %},
            coalesce(cast({{ dim.column }} as {{ dbt.type_string() }}), '(none)')
            {%- endfor %}
            {%- for col in partition_by %},
            {{ col }}
            {%- endfor %}
    ),

    {{ name }}__sliced as (
        {%- for dim in all_dims %}
        select
            kpi_date,
            '{{ dim.name }}' as dimension_name,
            {% if dim.name == 'overall' %}'all'{% else %}dim_{{ dim.name }}{% endif %} as dimension_value,
            {%- for col in partition_by %}
            {{ col }},
            {%- endfor %}
            {%- for m in measures %}
            m{{ loop.index }}_numerator,
            m{{ loop.index }}_denominator{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ name }}__daily
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ),

    {{ name }}__graded as (
        {%- for grain in grains %}
        select
            '{{ grain }}' as grain,
            {{ output_kpis.period_start(grain, 'kpi_date') }} as period_start,
            dimension_name,
            dimension_value,
            {%- for col in partition_by %}
            {{ col }},
            {%- endfor %}
            {%- for m in measures %}
            sum(m{{ loop.index }}_numerator) as m{{ loop.index }}_numerator,
            sum(m{{ loop.index }}_denominator) as m{{ loop.index }}_denominator{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ name }}__sliced
        group by 1, 2, 3, 4{% for col in partition_by %}, {{ 4 + loop.index }}{% endfor %}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ),

    {{ name }} as (
        {%- for m in measures %}
        select
            '{{ m.kpi_id }}' as kpi_id,
            grain,
            period_start,
            dimension_name,
            dimension_value,
            {%- for col in partition_by %}
            {{ col }},
            {%- endfor %}
            cast(m{{ loop.index }}_numerator as {{ output_kpis.type_double() }}) as numerator,
            cast(m{{ loop.index }}_denominator as {{ output_kpis.type_double() }}) as denominator
        from {{ name }}__graded
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro kpi_values_from_components(components, registry, precomputed=false) -%}
    {#- Joins KPI components to the registry and computes each value once, here, from its
        numerator and denominator. A component with no registry row keeps a null kpi_name and
        fails the marts' not_null test instead of vanishing. With precomputed=true the
        components carry a precomputed_value column, which is the value where it is not null
        (a KPI that is not a ratio of sums, e.g. a product of step yields). -#}
    {%- set computed = output_kpis.kpi_value(
        registry ~ '.aggregation',
        components ~ '.numerator',
        components ~ '.denominator',
        registry ~ '.multiplier',
    ) -%}
    select
        {{ components }}.kpi_id,
        {{ registry }}.kpi_name,
        {{ registry }}.domain,
        {{ components }}.grain,
        cast({{ components }}.period_start as date) as period_start,
        {{ components }}.dimension_name,
        {{ components }}.dimension_value,
        {{ components }}.numerator,
        {{ components }}.denominator,
        {%- if precomputed %}
        coalesce({{ components }}.precomputed_value, {{ computed }}) as value
        {%- else %}
        {{ computed }} as value
        {%- endif %}
    from {{ components }}
    left join {{ registry }} on {{ components }}.kpi_id = {{ registry }}.kpi_id
{%- endmacro %}

{% macro component_precomputed_value(model_name) -%}
    {#- The precomputed_value column of a *_kpi_components model whose YAML declares one (its
        rows carry a value that is not a ratio of sums), else a typed null: the value marts
        read every component model alike without each model restating an empty column. -#}
    {%- set declaring = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.name == model_name
            and 'precomputed_value' in node.columns -%}
            {%- do declaring.append(node.unique_id) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if declaring -%}
        precomputed_value
    {%- else -%}
        cast(null as {{ output_kpis.type_double() }})
    {%- endif -%}
{%- endmacro %}

{% macro all_kpi_values() -%}
    {#- Every KPI value, output (fct_kpi_values) and outcome (fct_outcome_values), as one
        select: the one union of the two value marts, which fct_kpi_status,
        fct_kpi_scorecard, fct_kpi_anomalies and the kpi_values serving view read. A macro,
        not a model: the serving views read only the schemas published together (marts,
        serving), and the readers' unit tests give the two marts as typed inputs. With the
        outcomes domain off it holds the output values alone. -#}
    {%- for relation in [ref('fct_kpi_values'), output_kpis.domain_ref('fct_outcome_values')] %}
    select
        kpi_id,
        kpi_name,
        domain,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        numerator,
        denominator,
        value,
        as_of_at
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro pivot_kpi_values(kpi_ids) -%}
    {#- Wide, readable view of fct_kpi_values: one row per grain x period x dimension, and for
        each KPI its value, numerator and denominator side by side. -#}
    select
        grain,
        period_start,
        dimension_name,
        dimension_value,
        {%- for kpi_id in kpi_ids %}
        max(case when kpi_id = '{{ kpi_id }}' then value end) as {{ kpi_id }},
        max(case when kpi_id = '{{ kpi_id }}' then numerator end) as {{ kpi_id }}_numerator,
        max(case when kpi_id = '{{ kpi_id }}' then denominator end) as {{ kpi_id }}_denominator,
        {%- endfor %}
        max(as_of_at) as as_of_at
    from {{ ref('fct_kpi_values') }}
    where kpi_id in ({% for kpi_id in kpi_ids %}'{{ kpi_id }}'{% if not loop.last %}, {% endif %}{% endfor %})
    group by grain, period_start, dimension_name, dimension_value
{%- endmacro %}

{% macro kpi_value_columns(relation) -%}
    {#- The typed column list of the public KPI value marts (fct_kpi_values,
        fct_outcome_values), so both publish the same contract. The contract's varchar, not
        dbt.type_string() (text on Postgres): an incremental run compares the new rows' types
        with the built table's, and on_schema_change='fail' stops at text vs varchar. -#}
    select
        cast(kpi_id as {{ output_kpis.type_text() }}) as kpi_id,
        cast(kpi_name as {{ output_kpis.type_text() }}) as kpi_name,
        cast(domain as {{ output_kpis.type_text() }}) as domain,
        cast(grain as {{ output_kpis.type_text() }}) as grain,
        cast(period_start as date) as period_start,
        cast(dimension_name as {{ output_kpis.type_text() }}) as dimension_name,
        cast(dimension_value as {{ output_kpis.type_text() }}) as dimension_value,
        cast(numerator as {{ output_kpis.type_double() }}) as numerator,
        cast(denominator as {{ output_kpis.type_double() }}) as denominator,
        cast(value as {{ output_kpis.type_double() }}) as value,
        {{ output_kpis.as_of_timestamp() }} as as_of_at,
        {{ output_kpis.run_started_timestamp() }} as rebuilt_at
    from {{ relation }}
{%- endmacro %}
