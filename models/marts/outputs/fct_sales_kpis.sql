{#- Readable wide view of the sales KPIs; values come from fct_kpi_values. -#}
{{ pivot_kpi_values(['qualified_opportunities', 'win_rate']) }}
