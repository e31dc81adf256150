{#- One row per raw row of each table feeding a unit of output (two per ticket: one per SLA
    metric), with where it went: counted in a KPI, excluded with a definitional reason, or
    quarantined with its reason code. Every bucket is derived from the staged rows (or the
    quarantine), never from what a unit model happened to keep, so the books balance for any
    as_of and any quarantined row: fct_unit_accounting counts it, assert_raw_rows_accounted_for
    checks it. Rows stamped after as_of are `after_as_of` for every source (for order lines,
    whose only stamp is the promise, that is `not_yet_due`), as the unit models ignore them.
    Enabled domains only, and every declared unit of output ('unit <unit_id>'). A view: it is
    read once, by fct_unit_accounting. -#}
{{ config(materialized='view') }}
{%- set domains = output_kpis.enabled_domains() %}
with quarantined_rows as (
    select * from {{ ref('stg_quarantine__rows') }}
),

declared_units as (
    select * from {{ ref('int_units__declared_units') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),
{%- if 'manufacturing' in domains %}

    unit_events as (
        select * from {{ ref('int_manufacturing__event_scans') }}
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

    tickets as (
        select * from {{ ref('stg_sd__tickets') }}
    ),

    sla_measurements as (
        select * from {{ ref('int_service__ticket_sla_measurements') }}
    ),

    -- a values list, not a union of one-row selects: Spark 4.3's adaptive execution fails
    -- to ship a plan holding that union, broadcast, to its tasks (ClassCastException)
    sla_metrics as (
        select metrics.sla_metric
        from (values ('first_reply'), ('resolution')) as metrics (sla_metric)
    ),
{%- endif %}
{%- if 'sales' in domains %}

    opportunities as (
        select * from {{ ref('int_sales__qualified_opportunities') }}
    ),
{%- endif %}

{#- (accounting line, raw table in the quarantine, rows per raw row) of each enabled source #}
{%- set sources = [] %}
{%- if 'manufacturing' in domains %}
    {%- do sources.append(('mes_unit_events', 'mes.mes_unit_events', 1)) %}
{%- endif %}
{%- if 'fulfilment' in domains %}
    {%- do sources.append(('oms_order_lines', 'oms.oms_order_lines', 1)) %}
{%- endif %}
{%- if 'service' in domains %}
    {%- do sources.append(('sd_tickets (x 2 SLA metrics)', 'sd.sd_tickets', 2)) %}
{%- endif %}
{%- if 'sales' in domains %}
    {%- do sources.append(('crm_opportunities', 'crm.crm_opportunities', 1)) %}
{%- endif %}

dispositions as (
    {%- for source_table, raw_table, copies in sources %}
        select
            '{{ source_table }}' as source_table,
            'quarantined' as disposition,
            quarantined_rows.quarantine_reason as reason
        from quarantined_rows
        {%- if copies == 2 %}
            cross join sla_metrics
        {%- endif %}
        where quarantined_rows.source_table = '{{ raw_table }}'
        union all
    {%- endfor %}
    {%- if 'manufacturing' in domains %}
        {#- An event whose work order, line or site is not staged (quarantined) has no UTC
            time, so no unit model reads it. #}
        select
            'mes_unit_events' as source_table,
            null as disposition,
            case
                when unit_events.is_duplicate_scan then 'duplicate_scan'
                when unit_events.event_at is null then 'parent_quarantined'
                when unit_events.event_at > as_of.as_of_at then 'after_as_of'
                else 'counted'
            end as reason
        from unit_events
        cross join as_of
        union all
        {#- Units, not raw rows: the serial numbers with an event the unit models read. #}
        select
            'mes_unit_events (units)' as source_table,
            null as disposition,
            case
                when unit_status = 'good' then 'counted'
                else unit_status
            end as reason
        from completed_units
        union all
    {%- endif %}
    {%- if 'fulfilment' in domains %}
        select
            'oms_order_lines' as source_table,
            null as disposition,
            case when line_status = 'due' then 'counted' else line_status end as reason
        from order_lines
        union all
    {%- endif %}
    {%- if 'service' in domains %}
        {#- Each staged ticket once per metric: created after as_of, or its measurement's
            status (met and breached are counted; a ticket no policy covers has none). #}
        select
            'sd_tickets (x 2 SLA metrics)' as source_table,
            null as disposition,
            case
                when tickets.created_at > as_of.as_of_at then 'after_as_of'
                when sla_measurements.ticket_id is null then 'no_sla_policy'
                when sla_measurements.sla_status in ('met', 'breached') then 'counted'
                else sla_measurements.sla_status
            end as reason
        from tickets
        cross join sla_metrics
        cross join as_of
        left join sla_measurements
            on
                tickets.ticket_id = sla_measurements.ticket_id
                and sla_metrics.sla_metric = sla_measurements.metric
        union all
    {%- endif %}
    {%- if 'sales' in domains %}
        select
            'crm_opportunities' as source_table,
            null as disposition,
            case
                when opportunities.is_qualified then 'counted'
                when opportunities.created_at > opportunities.as_of_at then 'after_as_of'
                else 'not_qualified'
            end as reason
        from opportunities
        union all
    {%- endif %}
    {#- Every declared unit of output (docs/adding_a_kpi.md), one row per row of its relation:
        int_units__declared_units already carries each one's disposition and reason. #}
    select
        'unit ' || unit_id as source_table,
        disposition,
        coalesce(reason, 'counted') as reason
    from declared_units
    union all
    {#- closes the chain of union alls (no row) #}
    select
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as disposition,
        cast(null as {{ dbt.type_string() }}) as reason
    from as_of
    where 1 = 0
),

final as (
    select
        source_table,
        coalesce(
            disposition,
            case when reason = 'counted' then 'counted' else 'excluded' end
        ) as disposition,
        reason
    from dispositions
    where source_table is not null
)

select * from final
