{#- Readable wide view of the service KPIs; values come from fct_kpi_values. -#}
{{ pivot_kpi_values([
    'sla_first_reply_compliance',
    'sla_resolution_compliance',
    'sla_compliance',
    'tickets_resolved_per_agent_day',
]) }}
