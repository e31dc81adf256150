{#- Numerators and denominators of the outcome KPIs, on the dimensions each shares with the
    outputs meant to drive it (so the output/outcome join is like for like):
    revenue by site and customer segment; CSAT by team, agent, priority and segment; NPS by
    segment; returns per 1,000 good units produced by site and line. Churn, whose denominator is
    a stock at period start, is in int_outcomes__churn_components. CSAT needs the service domain
    and returns the manufacturing domain (vars output_kpis_enable_*); without it, that KPI is
    not built. -#}
{%- set with_service = output_kpis.domain_enabled('service') %}
{%- set with_manufacturing = output_kpis.domain_enabled('manufacturing') %}
with invoices as (
    select * from {{ ref('stg_outcomes__invoices') }}
),

survey_responses as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_outcomes__survey_responses') }}
),

{%- if with_manufacturing %}

    return_claims as (
        select * from {{ ref('stg_outcomes__return_claims') }}
    ),
{%- endif %}

customers as (
    select * from {{ ref('stg_oms__customers') }}
),

{%- if with_service %}

    tickets as (
        select * from {{ ref('int_service__ticket_sla_measurements') }}
        where metric = 'resolution'
    ),
{%- endif %}
{%- if with_manufacturing %}

    completed_units as {{ output_kpis.not_materialized() }} (
        select * from {{ ref('int_manufacturing__completed_units') }}
    ),
{%- endif %}

as_of as (
    select cast({{ as_of_timestamp() }} as date) as as_of_date
),

revenue_events as (
    select
        invoices.invoice_date as event_date,
        invoices.site_id,
        customers.customer_segment,
        invoices.amount
    from invoices
    cross join as_of
    left join customers on invoices.customer_id = customers.customer_id
    where invoices.invoice_date <= as_of.as_of_date
),

{%- if with_service %}

    csat_events as (
        select
            cast(survey_responses.responded_at as date) as event_date,
            tickets.team_id,
            tickets.agent_id,
            tickets.priority,
            customers.customer_segment,
            {{ bool_to_int('survey_responses.score >= 4') }} as is_satisfied
        from survey_responses
        cross join as_of
        left join tickets on survey_responses.ticket_id = tickets.ticket_id
        left join customers on survey_responses.customer_id = customers.customer_id
        where
            {{ output_kpis.code_in(
                'survey_responses.survey_type', 'cx_survey_type_values', 'csat') }}
            and cast(survey_responses.responded_at as date) <= as_of.as_of_date
    ),
{%- endif %}

nps_events as (
    select
        cast(survey_responses.responded_at as date) as event_date,
        customers.customer_segment,
        case
            when survey_responses.score >= 9 then 1
            when survey_responses.score <= 6 then -1
            else 0
        end as nps_contribution
    from survey_responses
    cross join as_of
    left join customers on survey_responses.customer_id = customers.customer_id
    where
        {{ output_kpis.code_in('survey_responses.survey_type', 'cx_survey_type_values', 'nps') }}
        and cast(survey_responses.responded_at as date) <= as_of.as_of_date
),

{%- if with_manufacturing %}

    quality_events as (
        select
            return_claims.claimed_date as event_date,
            coalesce(completed_units.site_id, return_claims.site_id) as site_id,
            completed_units.line_id,
            return_claims.claimed_quantity as claimed_units,
            0 as good_units
        from return_claims
        cross join as_of
        left join completed_units on return_claims.serial_number = completed_units.serial_number
        where return_claims.claimed_date <= as_of.as_of_date
        union all
        select
            coalesce(completed_shift_date, completed_local_date) as event_date,
            site_id,
            line_id,
            0 as claimed_units,
            1 as good_units
        from completed_units
        where is_good_unit
    ),
{%- endif %}

{{ rollup_kpi_components(
    'revenue_events', 'event_date',
    dimensions=[
        {'name': 'site', 'column': 'site_id'},
        {'name': 'customer_segment', 'column': 'customer_segment'},
    ],
    measures=[{'kpi_id': 'revenue', 'numerator': 'amount', 'denominator': none}],
    name='revenue_kpis',
) }},

{%- if with_service %}

{{ rollup_kpi_components(
    'csat_events', 'event_date',
    dimensions=[
        {'name': 'team', 'column': 'team_id'},
        {'name': 'agent', 'column': 'agent_id'},
        {'name': 'priority', 'column': 'priority'},
        {'name': 'customer_segment', 'column': 'customer_segment'},
    ],
    measures=[{'kpi_id': 'csat_satisfied_rate', 'numerator': 'is_satisfied', 'denominator': '1'}],
    name='csat_kpis',
) }},
{%- endif %}

{{ rollup_kpi_components(
    'nps_events', 'event_date',
    dimensions=[{'name': 'customer_segment', 'column': 'customer_segment'}],
    measures=[{'kpi_id': 'nps', 'numerator': 'nps_contribution', 'denominator': '1'}],
    name='nps_kpis',
) }},

{%- if with_manufacturing %}

{{ rollup_kpi_components(
    'quality_events', 'event_date',
    dimensions=[
        {'name': 'site', 'column': 'site_id'},
        {'name': 'line', 'column': 'line_id'},
    ],
    measures=[
        {'kpi_id': 'return_rate_per_1000_units', 'numerator': 'claimed_units',
         'denominator': 'good_units'},
    ],
    name='quality_kpis',
) }},
{%- endif %}

final as (
    select * from revenue_kpis
    {%- if with_service %}
        union all
        select * from csat_kpis
    {%- endif %}
    union all
    select * from nps_kpis
    {%- if with_manufacturing %}
        union all
        select * from quality_kpis
    {%- endif %}
)

select * from final
