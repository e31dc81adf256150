{#- One row per KPI and raw table its units are counted from, with the table's staged rows. A
    KPI with an empty source (no row, or every row quarantined) has no data, whatever its value
    says: an empty claims table makes the return rate 0, not "on track" (fct_kpi_status grades
    it no_data). Tables of disabled domains and tables declared absent are left out. -#}
{%- set kpi_tables = {
    'throughput_rate': ['mes_unit_events', 'mes_shifts'],
    'units_per_shift': ['mes_unit_events', 'mes_shifts'],
    'good_units': ['mes_unit_events'],
    'units_started': ['mes_unit_events'],
    'first_pass_yield': ['mes_unit_events'],
    'rolled_throughput_yield': ['mes_unit_events'],
    'defect_rate_per_1000': ['mes_unit_events', 'mes_defects'],
    'on_time_rate': ['oms_order_lines', 'oms_shipments'],
    'in_full_rate': ['oms_order_lines', 'oms_shipments'],
    'otif_rate': ['oms_order_lines', 'oms_shipments'],
    'cancelled_order_lines': ['oms_order_lines'],
    'sla_first_reply_compliance': ['sd_tickets'],
    'sla_resolution_compliance': ['sd_tickets', 'sd_ticket_status_changes'],
    'sla_compliance': ['sd_tickets', 'sd_ticket_status_changes'],
    'tickets_resolved_per_agent_day': ['sd_ticket_status_changes', 'sd_agents'],
    'qualified_opportunities': ['crm_opportunities'],
    'win_rate': ['crm_opportunities'],
    'revenue': ['fin_invoices'],
    'csat_satisfied_rate': ['cx_survey_responses'],
    'nps': ['cx_survey_responses'],
    'return_rate_per_1000_units': ['qa_return_claims', 'mes_unit_events'],
    'customer_churn_rate': ['cs_churn_events', 'oms_customers'],
} -%}
{%- set staging_models = {} -%}
{%- for source_name, table_name, staging_model in quarantine_tables()
    if output_kpis.raw_table_present(table_name) -%}
    {%- do staging_models.update({table_name: staging_model}) -%}
{%- endfor -%}
{%- set pairs = [] -%}
{%- for kpi_id, tables in kpi_tables.items() -%}
    {%- for table_name in tables if table_name in staging_models -%}
        {%- do pairs.append((kpi_id, table_name)) -%}
    {%- endfor -%}
{%- endfor -%}
with
{%- for table_name, staging_model in staging_models.items() %}
    {{ table_name }} as (
        select count(*) as staged_rows from {{ ref(staging_model) }}
    ),
{%- endfor %}

final as (
    {%- for kpi_id, table_name in pairs %}
        select
            '{{ kpi_id }}' as kpi_id,
            '{{ table_name }}' as source_table,
            staged_rows
        from {{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if not pairs %}
        select
            cast(null as {{ dbt.type_string() }}) as kpi_id,
            cast(null as {{ dbt.type_string() }}) as source_table,
            cast(0 as {{ dbt.type_bigint() }}) as staged_rows
        where 1 = 0
    {%- endif %}
)

select * from final
