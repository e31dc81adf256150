{#- Readable wide view of the service KPIs; values come from fct_kpi_values. The SQL is
    pivot_kpi_values (macros/kpi.sql), the same for the four domain marts: only the KPI list is
    the domain's, so each mart pivots exactly as the others and the engine-specific SQL stays
    in one macro. -#}
{{ pivot_kpi_values([
    'sla_first_reply_compliance',
    'sla_resolution_compliance',
    'sla_compliance',
    'tickets_resolved_per_agent_day',
]) }}
