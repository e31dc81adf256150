{#- Every KPI value, output and outcome alike, in one place: the governance marts (status,
    scorecard, anomalies) and the serving view read it here instead of each unioning
    fct_kpi_values with fct_outcome_values. With the outcomes domain switched off it holds the
    output values alone. Ephemeral (inlined into each reader, no relation of its own): the
    serving views read only relations of the schemas published together (marts, serving;
    kpi_tooling/publish_postgres.py swaps them as a unit), and the union adds no data. -#}
{{ config(materialized='ephemeral') }}
with output_values as (
    select * from {{ ref('fct_kpi_values') }}
),

outcome_values as (
    select * from {{ output_kpis.domain_ref('fct_outcome_values') }}
),

final as (
    {%- for relation in ['output_values', 'outcome_values'] %}
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
)

select * from final
