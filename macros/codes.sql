{#- Coded columns: raw columns whose values a KPI rule depends on (a won stage, a solved status,
    an inspection event). Each is read through one var mapping the package's roles to the
    source's own values, e.g. crm_stage_values: {open: [...], won: [Closed Won], lost: [...]}.
    The quarantine's unknown_value enum for the column is every value of the var, and every
    model tests the column with code_in / code_role, so the two cannot disagree. Values are
    compared lower-cased and trimmed (normalized_code). Dimension columns (segment, region,
    priority, channel, team, site, shift code, sales team) are not coded: any value is data. -#}

{% macro code_vars() -%}
    {#- var -> (raw table, column, required roles, optional roles). A required role needs at
        least one value; an optional role may be left out or empty. The defaults are in
        dbt_project.yml. -#}
    {{ return({
        'crm_stage_values': ('crm_opportunities', 'stage', ['open', 'won', 'lost'], []),
        'sd_status_values': ('sd_ticket_status_changes', 'status', ['open', 'solved'], []),
        'sd_sla_metric_values': ('sd_sla_policies', 'metric', ['first_reply', 'resolution'],
                                 []),
        'sd_sla_clock_values': ('sd_sla_policies', 'clock', ['calendar'], ['business']),
        'mes_event_type_values': ('mes_unit_events', 'event_type', ['inspection'],
                                  ['retest', 'rework', 'scrap']),
        'mes_result_values': ('mes_unit_events', 'result', ['pass', 'fail'], []),
        'cx_survey_type_values': ('cx_survey_responses', 'survey_type', ['csat', 'nps'], []),
    }) }}
{%- endmacro %}


{% macro normalized_code(expression) -%}
    {#- How a coded value is compared: as text, lower-cased and trimmed. The quarantine checks
        and the staging models both use it, so a value that passes is the value models see. -#}
    lower(trim(cast({{ expression }} as {{ output_kpis.type_text() }})))
{%- endmacro %}


{% macro dimension_text(expression) -%}
    {#- How a dimension value (segment, priority, sales team, region, channel) is staged: as
        text, trimmed, its case kept. A trailing blank is invisible in a report but would split
        a slice in two ('smb' and 'smb ') or miss the SLA policy of a priority. -#}
    trim(cast({{ expression }} as {{ output_kpis.type_text() }}))
{%- endmacro %}


{% macro code_map(var_name) -%}
    {#- The validated var: role -> list of lower-cased, trimmed source values (every role
        present, optional ones possibly empty). Fails naming the var when it is not a mapping
        of the known roles to lists of values, a required role is empty, a value is not plain
        text, or a value sits under two roles. -#}
    {%- set table_name, column, required, optional = output_kpis.code_vars()[var_name] -%}
    {%- set roles = required + optional -%}
    {%- set value = var(var_name) -%}
    {%- set where = "var '" ~ var_name ~ "' (" ~ table_name ~ "." ~ column ~ ")" -%}
    {%- if value is not mapping -%}
        {{ exceptions.raise_compiler_error(
            where ~ " must be a mapping of role to a list of values, roles "
            ~ roles | join(', ') ~ "; got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- set unknown = value.keys() | reject('in', roles) | list -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(
            where ~ " has unknown role(s) " ~ unknown | join(', ') ~ "; roles are "
            ~ roles | join(', ')) }}
    {%- endif -%}
    {%- set result = {} -%}
    {%- set seen = {} -%}
    {%- for role in roles -%}
        {%- set values = value.get(role, []) -%}
        {%- if values is none -%}{%- set values = [] -%}{%- endif -%}
        {%- if values is string or values is mapping or values is not iterable -%}
            {{ exceptions.raise_compiler_error(
                where ~ " role '" ~ role ~ "' must be a list of values; got '" ~ values ~ "'") }}
        {%- endif -%}
        {%- if role in required and values | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                where ~ " role '" ~ role ~ "' needs at least one value") }}
        {%- endif -%}
        {%- set normalized = [] -%}
        {%- for item in values -%}
            {%- if item is not string or item | trim == '' or "'" in item or '"' in item
                or '\\' in item or '\n' in item -%}
                {{ exceptions.raise_compiler_error(
                    where ~ " role '" ~ role ~ "': values must be non-empty text without quotes,"
                    ~ " backslashes or line breaks; got '" ~ item ~ "'") }}
            {%- endif -%}
            {%- set code = item | trim | lower -%}
            {%- if code in seen and seen[code] != role -%}
                {{ exceptions.raise_compiler_error(
                    where ~ ": value '" ~ code ~ "' is listed under both " ~ seen[code]
                    ~ " and " ~ role) }}
            {%- endif -%}
            {%- do seen.update({code: role}) -%}
            {%- do normalized.append(code) -%}
        {%- endfor -%}
        {%- do result.update({role: normalized}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{% macro code_values(var_name, roles=none) -%}
    {#- The source values of the given roles (a role or a list; none = every role). -#}
    {%- set mapping = output_kpis.code_map(var_name) -%}
    {%- set wanted = mapping.keys() | list if roles is none
        else ([roles] if roles is string else roles) -%}
    {%- set values = [] -%}
    {%- for role in wanted -%}
        {%- if role not in mapping -%}
            {{ exceptions.raise_compiler_error(
                "var '" ~ var_name ~ "' has no role '" ~ role ~ "'") }}
        {%- endif -%}
        {%- do values.extend(mapping[role]) -%}
    {%- endfor -%}
    {{ return(values) }}
{%- endmacro %}


{% macro code_in(column, var_name, roles) -%}
    {#- SQL predicate: the (already normalized) column holds a value of the roles. -#}
    {%- set values = output_kpis.code_values(var_name, roles) -%}
    {%- if values -%}
        {{ column }} in ('{{ values | join("', '") }}')
    {%- else -%}
        (1 = 0)
    {%- endif -%}
{%- endmacro %}


{% macro code_role(column, var_name) -%}
    {#- SQL: the role of the (already normalized) column's value; null for any other value. -#}
    {%- set mapping = output_kpis.code_map(var_name) -%}
    case
        {%- for role, values in mapping.items() if values %}
        when {{ output_kpis.code_in(column, var_name, role) }} then '{{ role }}'
        {%- endfor %}
    end
{%- endmacro %}


{% macro code_subset_var(name, var_name, role, default) -%}
    {#- A non-empty list var whose items (compared lower-cased and trimmed) must be values of
        `role` in coded-column var `var_name`, e.g. the pause statuses among the open ones.
        Returns the items normalized. -#}
    {%- set allowed = output_kpis.code_values(var_name, role) -%}
    {%- set value = var(name, default) -%}
    {%- set message = "var '" ~ name ~ "' must be a non-empty list of the " ~ role
        ~ " values of var '" ~ var_name ~ "' (" ~ allowed | join(', ') ~ "); got '" -%}
    {%- if value is string or value is mapping or value is not iterable or value | length == 0 -%}
        {{ exceptions.raise_compiler_error(message ~ value ~ "'") }}
    {%- endif -%}
    {%- set items = [] -%}
    {%- for item in value -%}
        {%- if item is not string or (item | trim | lower) not in allowed -%}
            {{ exceptions.raise_compiler_error(message ~ item ~ "'") }}
        {%- endif -%}
        {%- do items.append(item | trim | lower) -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}


{% macro validate_code_vars() -%}
    {#- Checks every coded-column var (called from validate_package_vars). -#}
    {%- for var_name in output_kpis.code_vars() -%}
        {%- do output_kpis.code_map(var_name) -%}
    {%- endfor -%}
{%- endmacro %}
