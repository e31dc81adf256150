{#- Configuration of the package by vars: where the raw tables live, which domains are built,
    and the definitional calendar parameters. dbt_project.yml and the sources ymls cannot call
    macros, so they read the vars inline; validate_package_vars (called while every project
    that installs this package parses int_calendar__days) fails the parse naming any bad var. -#}

{% macro raw_tables() -%}
    {#- Every raw table by source, in the order of quarantine_tables() (declared in
        kpi_tooling/core/raw_tables.yml, macros/raw_tables.sql). -#}
    {%- set by_source = {} -%}
    {%- for name, table in output_kpis.raw_table_declarations().items() -%}
        {%- if table.source not in by_source -%}
            {%- do by_source.update({table.source: []}) -%}
        {%- endif -%}
        {%- do by_source[table.source].append(name) -%}
    {%- endfor -%}
    {{ return(by_source) }}
{%- endmacro %}


{% macro identifier_var(name, default) -%}
    {#- A database, schema or table name from a var: a plain SQL identifier or nothing reaches
        SQL (no quoting games, no injection). -#}
    {%- set value = var(name, default) -%}
    {%- if value is not string
        or not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]{0,62}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a plain identifier (letters, digits, _; not starting "
            ~ "with a digit; at most 63 characters); got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{% macro bool_var(name, default) -%}
    {%- set value = var(name, default) -%}
    {%- if not (value is sameas true or value is sameas false) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be true or false; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{% macro output_domains() -%}
    {#- The output domains, each with its own enable var and *_kpi_components model. -#}
    {{ return(['manufacturing', 'fulfilment', 'service', 'sales']) }}
{%- endmacro %}


{% macro domain_component_models() -%}
    {#- The hand-written *_kpi_components models of the enabled output domains, which the
        unioning marts read beside int_units__kpi_components (the declared KPIs). Sales has
        none: its KPIs are declared (var output_kpis_builtin_units). -#}
    {%- set by_domain = {
        'manufacturing': ['int_manufacturing__kpi_components'],
        'fulfilment': ['int_fulfilment__kpi_components'],
        'service': ['int_service__kpi_components'],
        'sales': [],
    } -%}
    {%- set models = [] -%}
    {%- for domain in output_kpis.enabled_domains() -%}
        {%- for model in by_domain[domain] -%}{%- do models.append(model) -%}{%- endfor -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}


{% macro domain_enabled(domain) -%}
    {#- var output_kpis_enable_<domain> (manufacturing, fulfilment, service, sales, outcomes). -#}
    {%- if domain not in output_kpis.output_domains() + ['outcomes'] -%}
        {{ exceptions.raise_compiler_error("unknown domain '" ~ domain ~ "'") }}
    {%- endif -%}
    {{ return(output_kpis.bool_var('output_kpis_enable_' ~ domain, true)) }}
{%- endmacro %}


{% macro enabled_domains() -%}
    {#- The enabled output domains, in catalogue order: the *_kpi_components models the
        unioning marts read. At least one must be enabled. -#}
    {%- set enabled = [] -%}
    {%- for domain in output_kpis.output_domains() -%}
        {%- if output_kpis.domain_enabled(domain) -%}{%- do enabled.append(domain) -%}{%- endif -%}
    {%- endfor -%}
    {%- if enabled | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "vars output_kpis_enable_manufacturing, output_kpis_enable_fulfilment, "
            ~ "output_kpis_enable_service, output_kpis_enable_sales: at least one must be true") }}
    {%- endif -%}
    {{ return(enabled) }}
{%- endmacro %}


{% macro raw_table_enabled(table_name) -%}
    {#- Whether a raw table is read. Must agree with the +enabled configs in dbt_project.yml:
        the customer master serves every domain but manufacturing; return claims need the
        manufacturing good units they are rated against. -#}
    {%- set on = output_kpis.domain_enabled -%}
    {%- if table_name == 'oms_customers' -%}
        {{ return(on('fulfilment') or on('service') or on('sales') or on('outcomes')) }}
    {%- elif table_name == 'qa_return_claims' -%}
        {{ return(on('outcomes') and on('manufacturing')) }}
    {%- endif -%}
    {%- set domain_of = {'mes': 'manufacturing', 'oms': 'fulfilment', 'sd': 'service',
                         'crm': 'sales', 'outcomes': 'outcomes'} -%}
    {%- for source_name, tables in output_kpis.raw_tables().items() -%}
        {%- if table_name in tables -%}{{ return(on(domain_of[source_name])) }}{%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("unknown raw table '" ~ table_name ~ "'") }}
{%- endmacro %}


{% macro kpi_enabled_condition(domain_column='domain', layer_column='layer') -%}
    {#- SQL predicate on kpi_registry rows: the KPI belongs to an enabled domain (outcome KPIs
        also need var output_kpis_enable_outcomes). Registry domains other than the four output
        domains (finance, customer_success) follow the outcomes switch alone. -#}
    {%- set disabled = [] -%}
    {%- for domain in output_kpis.output_domains() -%}
        {%- if not output_kpis.domain_enabled(domain) -%}{%- do disabled.append(domain) -%}{%- endif -%}
    {%- endfor -%}
    {%- set conditions = [] -%}
    {%- if disabled -%}
        {%- do conditions.append(domain_column ~ " not in ('" ~ disabled | join("', '") ~ "')") -%}
    {%- endif -%}
    {%- if not output_kpis.domain_enabled('outcomes') -%}
        {%- do conditions.append(layer_column ~ " <> 'outcome'") -%}
    {%- endif -%}
    {{ return('(' ~ (conditions | join(' and ') if conditions else '1 = 1') ~ ')') }}
{%- endmacro %}


{% macro week_start_offset_days() -%}
    {#- Days from Monday to the first day of the reporting week (var kpi_week_start). -#}
    {%- set days = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday',
                    'sunday'] -%}
    {{ return(days.index(output_kpis.choice_var('kpi_week_start', days, 'monday'))) }}
{%- endmacro %}


{% macro fiscal_year_offset_months() -%}
    {#- Months from January to the first month of the fiscal year
        (var kpi_fiscal_year_start_month, 1..12). -#}
    {%- set month = var('kpi_fiscal_year_start_month', 1) -%}
    {%- if month is not number or month is sameas true or month is sameas false
        or month != month | int or month < 1 or month > 12 -%}
        {{ exceptions.raise_compiler_error(
            "var 'kpi_fiscal_year_start_month' must be a whole month number 1..12; got '"
            ~ month ~ "'") }}
    {%- endif -%}
    {{ return(month | int - 1) }}
{%- endmacro %}


{% macro fiscal_quarter_offset_months() -%}
    {#- Months from a calendar quarter start to the fiscal quarter start. -#}
    {{ return(output_kpis.fiscal_year_offset_months() % 3) }}
{%- endmacro %}


{% macro calendar_start_date() -%}
    {#- var kpi_calendar_start_date ('YYYY-MM-DD' or null, the default): a day the calendar
        must reach back to even when no data is that old. The calendar always covers the data
        (int_calendar__days); the var only widens it. -#}
    {%- if var('kpi_calendar_start_date', none) is none -%}{{ return(none) }}{%- endif -%}
    {%- set value = output_kpis.date_var('kpi_calendar_start_date', none) -%}
    {%- if value < output_kpis.min_plausible_date() -%}
        {{ exceptions.raise_compiler_error(
            "var 'kpi_calendar_start_date' (" ~ value ~ ") is before var "
            ~ "'output_kpis_min_plausible_date' (" ~ output_kpis.min_plausible_date()
            ~ "): no data that old is read") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{% macro min_plausible_date() -%}
    {#- var output_kpis_min_plausible_date ('YYYY-MM-DD'): a raw date or timestamp before it is
        quarantined as implausible_date, and the calendar never starts before it. -#}
    {{ return(output_kpis.date_var('output_kpis_min_plausible_date', '1970-01-01')) }}
{%- endmacro %}


{% macro site_time_zone_overrides() -%}
    {#- var output_kpis_site_time_zones: {site_id: IANA zone} replacing mes_sites.time_zone. -#}
    {%- set value = var('output_kpis_site_time_zones', {}) -%}
    {%- if value is none -%}{{ return({}) }}{%- endif -%}
    {%- if value is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_site_time_zones' must be a mapping of site_id to an IANA time zone"
            ~ " (e.g. {S1: Europe/Berlin}); got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- for site_id, zone in value.items() -%}
        {%- if not modules.re.fullmatch('[A-Za-z0-9_.:-]+', site_id | string) -%}
            {{ exceptions.raise_compiler_error(
                "var 'output_kpis_site_time_zones' keys must be site ids (letters, digits, "
                ~ "_ . : -); got '" ~ site_id ~ "'") }}
        {%- endif -%}
        {%- if not output_kpis.is_time_zone_name(zone) -%}
            {{ exceptions.raise_compiler_error(
                "var 'output_kpis_site_time_zones' values must be IANA time zone names such as "
                ~ "Europe/Berlin or UTC; got '" ~ zone ~ "' for site " ~ site_id) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(value) }}
{%- endmacro %}


{% macro is_time_zone_name(zone) -%}
    {#- Whether a value has the shape of an IANA time zone name (Europe/Berlin, UTC). Whether
        the engine knows it is asked of the engine (check_time_zone_vars). -#}
    {{ return(zone is string
        and modules.re.fullmatch('[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}', zone) is not none) }}
{%- endmacro %}


{% macro default_time_zone() -%}
    {#- var output_kpis_default_time_zone: the zone of a customer with none (or of every
        customer when the project has no customer table). -#}
    {%- set zone = var('output_kpis_default_time_zone', 'UTC') -%}
    {%- if not output_kpis.is_time_zone_name(zone) -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_default_time_zone' must be an IANA time zone name such as UTC or "
            ~ "Europe/Berlin; got '" ~ zone ~ "'") }}
    {%- endif -%}
    {{ return(zone) }}
{%- endmacro %}


{% macro optional_raw_tables() -%}
    {#- The raw tables a project may not have (var output_kpis_absent_tables), each with what
        the package assumes instead. -#}
    {{ return({
        'oms_orders': 'order lines have no customer and no site (a line with no order_id is'
                      ~ ' its own order)',
        'oms_customers': 'customers have no segment and are all in var'
                         ~ ' output_kpis_default_time_zone',
    }) }}
{%- endmacro %}


{% macro absent_raw_tables() -%}
    {#- var output_kpis_absent_tables: optional raw tables this project does not have. -#}
    {%- set value = var('output_kpis_absent_tables', []) -%}
    {%- set optional = output_kpis.optional_raw_tables() -%}
    {%- if value is none -%}{{ return([]) }}{%- endif -%}
    {%- if value is string or value is mapping or value is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_absent_tables' must be a list of raw table names; got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- for table_name in value if table_name not in optional -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_absent_tables': '" ~ table_name ~ "' cannot be absent; the tables "
            ~ "that may be left out are " ~ optional.keys() | join(', ')) }}
    {%- endfor -%}
    {%- if 'oms_customers' in value and output_kpis.domain_enabled('outcomes') -%}
        {{ exceptions.raise_compiler_error(
            "var 'output_kpis_absent_tables': oms_customers is needed by customer_churn_rate "
            ~ "(customers active per period) while output_kpis_enable_outcomes is true") }}
    {%- endif -%}
    {{ return(value | list) }}
{%- endmacro %}


{% macro raw_table_present(table_name) -%}
    {#- Whether a raw table is read: its domain is enabled and the project has it. -#}
    {{ return(output_kpis.raw_table_enabled(table_name)
        and table_name not in output_kpis.absent_raw_tables()) }}
{%- endmacro %}


{% macro absent_table_hint(table_name) -%}
    {#- For the error on a missing raw table: how to declare it absent, when it may be. -#}
    {%- set optional = output_kpis.optional_raw_tables() -%}
    {%- if table_name in optional -%}
        {{ return("; if the project has no such table, list it in var output_kpis_absent_tables ("
            ~ optional[table_name] ~ ")") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{% macro site_time_zone(site_id_column, time_zone_column) -%}
    {#- The site's time zone: the var override when it names the site, else the column. -#}
    {%- set overrides = output_kpis.site_time_zone_overrides() -%}
    {%- if overrides -%}
        case {{ site_id_column }}
            {%- for site_id, zone in overrides.items() %}
            when '{{ site_id }}' then '{{ zone }}'
            {%- endfor %}
            else {{ time_zone_column }}
        end
    {%- else -%}
        {{ time_zone_column }}
    {%- endif -%}
{%- endmacro %}


{% macro validate_package_vars() -%}
    {#- Checks every package var that is not validated where it is used: source locations,
        domain switches, calendar parameters, coded-column values. Returns an empty string. -#}
    {%- do output_kpis.identifier_var('output_kpis_raw_schema', 'raw') -%}
    {%- for source_name, tables in output_kpis.raw_tables().items() -%}
        {%- if var(source_name ~ '_database', none) is not none -%}
            {%- do output_kpis.identifier_var(source_name ~ '_database', none) -%}
        {%- endif -%}
        {%- do output_kpis.identifier_var(source_name ~ '_schema',
            var('output_kpis_raw_schema', 'raw')) -%}
        {%- for table_name in tables -%}
            {%- do output_kpis.identifier_var(table_name ~ '_identifier', table_name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do output_kpis.enabled_domains() -%}
    {%- do output_kpis.domain_enabled('outcomes') -%}
    {%- do output_kpis.week_start_offset_days() -%}
    {%- do output_kpis.fiscal_year_offset_months() -%}
    {%- do output_kpis.reporting_grains() -%}
    {%- do output_kpis.calendar_start_date() -%}
    {%- do output_kpis.min_plausible_date() -%}
    {%- do output_kpis.site_time_zone_overrides() -%}
    {%- do output_kpis.default_time_zone() -%}
    {%- do output_kpis.check_time_zone_vars() -%}
    {%- do output_kpis.absent_raw_tables() -%}
    {%- do output_kpis.validate_code_vars() -%}
{%- endmacro %}


{% macro enabled_raw_tables() -%}
    {#- Names of the raw tables the enabled domains read (less those declared absent). -#}
    {%- set tables = [] -%}
    {%- for source_name, names in output_kpis.raw_tables().items() -%}
        {%- for table_name in names if output_kpis.raw_table_present(table_name) -%}
            {%- do tables.append(table_name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}


{% macro domain_ref(model_name) -%}
    {#- ref() of a domain model read by a cross-domain mart; when the domain is disabled, an
        empty relation with the columns the mart reads, so the mart needs no branches. -#}
    {%- set string, number = dbt.type_string(), output_kpis.type_double() -%}
    {%- set specs = {
        'fct_outcome_values': ('outcomes', {
            'kpi_id': string, 'kpi_name': string, 'domain': string, 'grain': string,
            'period_start': 'date',
            'dimension_name': string, 'dimension_value': string, 'numerator': number,
            'denominator': number, 'value': number, 'as_of_at': dbt.type_timestamp()}),
        'fct_kpi_anomalies': ('outcomes', {
            'kpi_id': string, 'grain': string, 'period_start': 'date',
            'dimension_name': string, 'dimension_value': string, 'is_anomaly': 'boolean',
            'anomaly_direction': string, 'is_adverse': 'boolean'}),
    } -%}
    {%- set domain, columns = specs[model_name] -%}
    {%- if output_kpis.domain_enabled(domain) -%}
        {{ return(ref(model_name)) }}
    {%- endif -%}
    {{ return(output_kpis.empty_relation(columns)) }}
{%- endmacro %}


{% macro empty_relation(columns) -%}
    {#- `(select cast(null as <type>) as <column>, ... where 1 = 0)`: no rows, the given
        columns (column -> SQL type), for a reader whose input is switched off or absent. -#}
    {%- set casts = [] -%}
    {%- for column, type in columns.items() -%}
        {%- do casts.append('cast(null as ' ~ type ~ ') as ' ~ column) -%}
    {%- endfor -%}
    {{ return('(select ' ~ casts | join(', ') ~ ' where 1 = 0)') }}
{%- endmacro %}
