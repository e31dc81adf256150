{#- The unit of sales output: an opportunity that met the qualification criteria. A won deal
    is qualified by definition; when the CRM never stamped qualified_at it is qualified at close.
    Timestamps after as_of are treated as not yet happened. -#}
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

reps as (
    select * from {{ ref('stg_crm__reps') }}
),

customers as (
    select * from {{ ref('stg_oms__customers') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

as_of_state as (
    select
        opportunities.opportunity_id,
        opportunities.customer_id,
        opportunities.rep_id,
        opportunities.created_at,
        opportunities.stage,
        opportunities.amount,
        case
            when opportunities.closed_at <= as_of.as_of_at then opportunities.closed_at
        end as closed_at,
        case
            when opportunities.qualified_at <= as_of.as_of_at then opportunities.qualified_at
            when
                {{ output_kpis.code_in('opportunities.stage', 'crm_stage_values', 'won') }}
                and opportunities.closed_at <= as_of.as_of_at
                then opportunities.closed_at
        end as qualified_at,
        as_of.as_of_at
    from opportunities
    cross join as_of
),

final as (
    select
        as_of_state.opportunity_id,
        as_of_state.customer_id,
        customers.customer_segment,
        as_of_state.rep_id,
        reps.sales_team,
        as_of_state.created_at,
        as_of_state.qualified_at,
        as_of_state.closed_at,
        as_of_state.stage,
        {{ output_kpis.code_role('as_of_state.stage', 'crm_stage_values') }} as stage_role,
        as_of_state.amount,
        as_of_state.qualified_at is not null as is_qualified,
        as_of_state.closed_at is not null
        and {{ output_kpis.code_in('as_of_state.stage', 'crm_stage_values', ['won', 'lost']) }}
            as is_closed,
        as_of_state.closed_at is not null
        and {{ output_kpis.code_in('as_of_state.stage', 'crm_stage_values', 'won') }} as is_won,
        as_of_state.as_of_at
    from as_of_state
    left join reps on as_of_state.rep_id = reps.rep_id
    left join customers on as_of_state.customer_id = customers.customer_id
)

select * from final
