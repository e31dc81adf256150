{#- Readable wide view of the manufacturing KPIs; values come from fct_kpi_values. -#}
{{ pivot_kpi_values([
    'throughput_rate',
    'units_per_shift',
    'good_units',
    'units_started',
    'first_pass_yield',
    'rolled_throughput_yield',
    'defect_rate_per_1000',
]) }}
