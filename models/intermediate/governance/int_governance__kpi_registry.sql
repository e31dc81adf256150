{#- The one hub of KPI definitions: every KPI of the registry seed (built-in, SQL) and every
    declared KPI (vars output_kpis_units, output_kpis_builtin_units; docs/adding_a_kpi.md),
    each with the model that produces its units, the GE suite that enforces its definition and
    the mart that serves its values. Every model that reads KPI definitions reads them here. -#}
{%- set columns = ['kpi_id', 'kpi_name', 'layer', 'kind', 'domain', 'unit_of_output', 'formula',
    'aggregation', 'multiplier', 'unit', 'direction', 'owner', 'review_cadence', 'target_method',
    'bsc_perspective', 'exclusions', 'unit_model', 'ge_suite', 'mart'] %}
{%- set text = output_kpis.type_text() %}
with seeded as (
    select
        *,
        'kpi_registry' as defined_in,
        cast(null as {{ text }}) as unit_id
    from {{ ref('kpi_registry') }}
),

declared as (
    {{ output_kpis.declared_registry_rows() }}
),

final as (
    {%- for relation in ['seeded', 'declared'] %}
    select
        {%- for column in columns %}
        {%- if column == 'multiplier' %}
        cast(multiplier as {{ output_kpis.type_double() }}) as multiplier,
        {%- else %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        {%- if relation == 'declared' %}
        'declaration' as defined_in,
        {%- else %}
        defined_in,
        {%- endif %}
        unit_id
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
