{#- First-pass yield per inspection step: the components of rolled throughput yield. -#}
with step_kpis as (
    select * from {{ ref('int_manufacturing__step_kpi_components') }}
    where kpi_id = 'first_pass_yield'
),

final as (
    select
        grain,
        period_start,
        dimension_name,
        dimension_value,
        step_code,
        numerator as first_pass_count,
        denominator as inspected_count,
        {{ safe_divide('numerator', 'denominator') }} as first_pass_yield
    from step_kpis
)

select * from final
