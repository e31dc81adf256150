{#- Readable wide view of the manufacturing KPIs; values come from fct_kpi_values. The SQL is
    pivot_kpi_values (macros/kpi.sql), the same for the four domain marts: only the KPI list is
    the domain's, so each mart pivots exactly as the others and the engine-specific SQL stays
    in one macro. -#}
{{ pivot_kpi_values([
    'throughput_rate',
    'units_per_shift',
    'good_units',
    'units_started',
    'first_pass_yield',
    'rolled_throughput_yield',
    'defect_rate_per_1000',
]) }}
