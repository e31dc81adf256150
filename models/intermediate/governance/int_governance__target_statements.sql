{#- Every stated target, as written: the outcome_targets and output_targets seeds and the
    declared KPIs' `target` rows (an outcome's beside outcome_targets, an output's beside
    output_targets), with target_source outcome_target or explicit. -#}
{%- set seeds = [('outcome_targets', 'outcome_target'), ('output_targets', 'explicit')] %}
with
{%- for seed, target_source in seeds %}
    {{ seed }} as (
        select
            *,
            '{{ target_source }}' as target_source,
            '{{ seed }}' as defined_in
        from {{ ref(seed) }}
    ),
{%- endfor %}

declared as (
    select
        *,
        case when layer = 'outcome' then 'outcome_target' else 'explicit' end as target_source,
        'declaration' as defined_in
    from ({{ output_kpis.declared_target_rows() }}) as declared_rows
),

final as (
    {%- for relation in ['outcome_targets', 'output_targets', 'declared'] %}
    select
        kpi_id,
        grain,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        dimension_name,
        dimension_value,
        cast(target_value as {{ output_kpis.type_double() }}) as target_value,
        note,
        target_source,
        defined_in
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
