{#- The unit of sales output: an opportunity that met the qualification criteria. A won deal
    is qualified by definition; when the CRM never stamped qualified_at it is qualified at close.
    Only what was known at as_of counts: a qualification or close after as_of has not happened
    yet - the deal was still open then, so its stage role at as_of is open whatever its current
    stage. Every staged opportunity has a row (the unit accounting reads them all); one created
    after as_of is therefore open and unqualified, and counted nowhere. -#}
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
        -- closed after as_of: still open at as_of, whatever the current (won/lost) stage
        case
            when opportunities.closed_at > as_of.as_of_at then 'open'
            else {{ output_kpis.code_role('opportunities.stage', 'crm_stage_values') }}
        end as stage_role,
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
        as_of_state.stage_role,
        as_of_state.amount,
        as_of_state.qualified_at is not null as is_qualified,
        as_of_state.closed_at is not null and as_of_state.stage_role in ('won', 'lost')
            as is_closed,
        as_of_state.closed_at is not null and as_of_state.stage_role = 'won' as is_won,
        as_of_state.as_of_at
    from as_of_state
    left join reps on as_of_state.rep_id = reps.rep_id
    left join customers on as_of_state.customer_id = customers.customer_id
)

select * from final
