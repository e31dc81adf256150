{#- Where every raw row went: for each raw table feeding a unit of output, the rows counted in
    a KPI denominator and the rows excluded, each with its reason. The test
    assert_raw_rows_accounted_for checks that the buckets add up to the raw row count. Only the
    enabled domains (vars output_kpis_enable_*) are accounted for. -#}
{%- set domains = output_kpis.enabled_domains() %}
with as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),
{%- if 'manufacturing' in domains %}

    unit_events as (
        select * from {{ ref('stg_mes__unit_events') }}
    ),

    completed_units as (
        select * from {{ ref('int_manufacturing__completed_units') }}
    ),
{%- endif %}
{%- if 'fulfilment' in domains %}

    order_lines as (
        select * from {{ ref('int_fulfilment__order_lines') }}
    ),
{%- endif %}
{%- if 'service' in domains %}

    sla_measurements as (
        select * from {{ ref('int_service__ticket_sla_measurements') }}
    ),

    tickets as (
        select * from {{ ref('stg_sd__tickets') }}
    ),

    sla_metrics as (
        select 'first_reply' as sla_metric
        union all
        select 'resolution' as sla_metric
    ),
{%- endif %}
{%- if 'sales' in domains %}

    opportunities as (
        select * from {{ ref('int_sales__qualified_opportunities') }}
    ),
{%- endif %}

dispositions as (
    {%- if 'manufacturing' in domains %}
        select
            'mes_unit_events' as source_table,
            case
                when unit_events.is_duplicate_scan then 'duplicate_scan'
                when unit_events.event_at > as_of.as_of_at then 'after_as_of'
                else 'counted'
            end as reason
        from unit_events
        cross join as_of
        union all
        select
            'mes_unit_events (units)' as source_table,
            case
                when unit_status = 'good' then 'counted'
                else unit_status
            end as reason
        from completed_units
    {%- endif %}
    {%- if 'fulfilment' in domains %}
        {%- if domains.index('fulfilment') > 0 %}
            union all
        {%- endif %}
        select
            'oms_order_lines' as source_table,
            case when line_status = 'due' then 'counted' else line_status end as reason
        from order_lines
    {%- endif %}
    {%- if 'service' in domains %}
        {%- if domains.index('service') > 0 %}
            union all
        {%- endif %}
        select
            'sd_tickets (x 2 SLA metrics)' as source_table,
            case when sla_status = 'in_progress' then 'in_progress' else 'counted' end as reason
        from sla_measurements
        union all
        -- a ticket created after as_of has no measurement of either metric yet
        select
            'sd_tickets (x 2 SLA metrics)' as source_table,
            'after_as_of' as reason
        from tickets
        cross join sla_metrics
        cross join as_of
        where tickets.created_at > as_of.as_of_at
    {%- endif %}
    {%- if 'sales' in domains %}
        {%- if domains.index('sales') > 0 %}
            union all
        {%- endif %}
        select
            'crm_opportunities' as source_table,
            case when is_qualified then 'counted' else 'not_qualified' end as reason
        from opportunities
    {%- endif %}
),

final as (
    select
        source_table,
        case when reason = 'counted' then 'counted' else 'excluded' end as disposition,
        reason,
        count(*) as row_count
    from dispositions
    group by source_table, reason
)

select
    final.*,
    as_of.as_of_at
from final
cross join as_of
