-- Nothing silently dropped: raw rows = rows counted + rows excluded with a reason, per source
-- (and per declared unit of output, on the relation it names).
-- Returns each source whose books do not balance, with the difference. Enabled domains only.
{%- set domains = output_kpis.enabled_domains() %}
with accounting as (
    select
        source_table,
        sum(row_count) as accounted_rows
    from {{ ref('fct_unit_accounting') }}
    group by source_table
),

raw_counts as (
    {%- if 'manufacturing' in domains %}
        select
            'mes_unit_events' as source_table,
            count(*) as raw_rows
        from {{ source('mes', 'mes_unit_events') }}
        union all
        select
            'mes_unit_events (units)' as source_table,
            count(distinct serial_number) as raw_rows
        from {{ ref('int_manufacturing__unit_events') }}
    {%- endif %}
    {%- if 'fulfilment' in domains %}
        {%- if domains.index('fulfilment') > 0 %}
            union all
        {%- endif %}
        select
            'oms_order_lines' as source_table,
            count(*) as raw_rows
        from {{ source('oms', 'oms_order_lines') }}
    {%- endif %}
    {%- if 'service' in domains %}
        {%- if domains.index('service') > 0 %}
            union all
        {%- endif %}
        select
            'sd_tickets (x 2 SLA metrics)' as source_table,
            2 * count(*) as raw_rows
        from {{ source('sd', 'sd_tickets') }}
    {%- endif %}
    {%- if 'sales' in domains %}
        {%- if domains.index('sales') > 0 %}
            union all
        {%- endif %}
        select
            'crm_opportunities' as source_table,
            count(*) as raw_rows
        from {{ source('crm', 'crm_opportunities') }}
    {%- endif %}
    {#- every declared unit: the rows of the relation it names #}
    {%- for unit in output_kpis.unit_declarations() %}
        union all
        select
            'unit {{ unit.unit_id }}' as source_table,
            count(*) as raw_rows
        from {{ output_kpis.unit_relation(unit.relation) }}
    {%- endfor %}
)

select
    raw_counts.source_table,
    raw_counts.raw_rows,
    coalesce(accounting.accounted_rows, 0) as accounted_rows,
    raw_counts.raw_rows - coalesce(accounting.accounted_rows, 0) as unaccounted_rows
from raw_counts
left join accounting on raw_counts.source_table = accounting.source_table
where raw_counts.raw_rows != coalesce(accounting.accounted_rows, 0)
