{#- Readable wide view of the fulfilment KPIs; values come from fct_kpi_values. -#}
{{ pivot_kpi_values(['on_time_rate', 'in_full_rate', 'otif_rate', 'cancelled_order_lines']) }}
