{#- Outcome KPIs per grain x period x dimension, on the dimensions they share with outputs. -#}
with registry as (
    select * from {{ ref('kpi_registry') }}
),

components as (
    select * from {{ ref('int_outcomes__kpi_components') }}
    union all
    select * from {{ ref('int_outcomes__churn_components') }}
),

final as (
    {{ kpi_values_from_components('components', 'registry') }}
)

select
    cast(kpi_id as varchar) as kpi_id,
    cast(kpi_name as varchar) as kpi_name,
    cast(domain as varchar) as domain,
    cast(grain as varchar) as grain,
    cast(period_start as date) as period_start,
    cast(dimension_name as varchar) as dimension_name,
    cast(dimension_value as varchar) as dimension_value,
    cast(numerator as double precision) as numerator,
    cast(denominator as double precision) as denominator,
    cast(value as double precision) as value,
    {{ as_of_timestamp() }} as as_of_at
from final
