{#- Time-zone names. The engine converts local times with the zone a raw row or a var names; a
    name it does not know stops the model converting with it ("Unknown TimeZone") and every
    model after it. So a raw row naming an unknown zone is quarantined (unknown_time_zone) and a
    var naming one fails the build at its start, both against the engine's own list. Names
    are compared exactly as the engine lists them (Europe/Berlin, not europe/berlin): DuckDB and
    Postgres would accept other spellings, Spark would not. -#}

{% macro known_time_zones_sql() -%}
    {#- A `select` of one column, time_zone_name: every zone name the engine converts with. -#}
    {{ return(adapter.dispatch('known_time_zones_sql', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__known_time_zones_sql() -%}
    select distinct cast(name as {{ output_kpis.type_text() }}) as time_zone_name
    from pg_catalog.pg_timezone_names
{%- endmacro %}

{% macro duckdb__known_time_zones_sql() -%}
    select distinct cast(name as {{ output_kpis.type_text() }}) as time_zone_name
    from pg_timezone_names()
{%- endmacro %}

{% macro spark__known_time_zones_sql() -%}
    {#- Spark has no table of zones. Its zone ids are the region ids of the IANA tz database its
        Java runtime carries; dbt ships the same database (pytz), so its names stand in for the
        list, inlined at compile time. -#}
    select explode(array(
        '{{ modules.pytz.all_timezones | join("', '") }}'
    )) as time_zone_name
{%- endmacro %}


{% macro time_zone_lookup(column) -%}
    {#- A quarantine_spec lookup: the raw column's value when the engine knows it as a zone
        name, else null (read in checks as listed_<column>). -#}
    {{ return({
        'name': 'listed_' ~ column, 'on': column,
        'sql': 'select time_zone_name as lookup_key, time_zone_name as lookup_value from ('
               ~ output_kpis.known_time_zones_sql() ~ ') as zones'}) }}
{%- endmacro %}


{% macro time_zone_checks(column, required=true, exempt_when=none) -%}
    {#- quarantine_spec checks on a zone column read through time_zone_lookup: an empty value
        is missing_value when the zone is required (optional: the stated default applies), a
        value the engine does not know is unknown_time_zone. exempt_when: SQL condition under
        which the column is not read (a site whose zone a var overrides). -#}
    {%- set blank = 'nullif(trim(t_' ~ column ~ "), '') is null" -%}
    {%- set exempt = ' and not (' ~ exempt_when ~ ')' if exempt_when else '' -%}
    {%- set checks = [] -%}
    {%- if required -%}
        {%- do checks.append({'reason': 'missing_value', 'when': blank ~ exempt,
                              'detail': column ~ ' is empty'}) -%}
    {%- endif -%}
    {%- do checks.append({'reason': 'unknown_time_zone',
                          'when': 'not (' ~ blank ~ ') and listed_' ~ column ~ ' is null' ~ exempt,
                          'detail': column ~ ': not a time zone name the engine knows'}) -%}
    {{ return(checks) }}
{%- endmacro %}


{% macro check_time_zone_vars() -%}
    {#- Every zone a var names (output_kpis_default_time_zone, the values of
        output_kpis_site_time_zones) must be on the engine's list, else the build stops naming
        the var: at the start of a run (an on-run-start hook of dbt_project.yml) and when
        int_calendar__days compiles (validate_package_vars). The vars' shape is checked while
        parsing (is_time_zone_name); the engine can only be asked once it is connected. -#}
    {%- if execute -%}
        {%- set named = [('output_kpis_default_time_zone', '',
                          output_kpis.default_time_zone())] -%}
        {%- for site_id, zone in output_kpis.site_time_zone_overrides().items() -%}
            {%- do named.append(('output_kpis_site_time_zones', ' for site ' ~ site_id, zone)) -%}
        {%- endfor -%}
        {%- set query -%}
            select time_zone_name from ({{ output_kpis.known_time_zones_sql() }}) as zones
            where time_zone_name in ('{{ named | map(attribute=2) | unique | join("', '") }}')
        {%- endset -%}
        {%- set known = run_query(query).columns[0].values() | list -%}
        {%- for var_name, where, zone in named if zone not in known -%}
            {{ exceptions.raise_compiler_error(
                "var '" ~ var_name ~ "' names the time zone '" ~ zone ~ "'" ~ where
                ~ ", which the " ~ target.type ~ " engine does not know (its list: "
                ~ "pg_timezone_names on DuckDB and PostgreSQL)") }}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{% macro zone_placeholder() -%}
    {#- Written where the zone goes in an expression handed to in_each_zone. -#}
    {{ return('__zone__') }}
{%- endmacro %}

{% macro in_each_zone(expression, time_zone, zones) -%}
    {#- `expression` (SQL holding zone_placeholder() where its zone goes) with the zone a
        literal for each of `zones`, by a CASE on the SQL expression time_zone, and time_zone
        itself for any other: DuckDB converts about six times faster with a literal zone than
        with a zone per row (1M rows: 0.54 s against 3.04 s of CPU), to the same value. With
        no zones, the expression with time_zone. -#}
    {%- set placeholder = output_kpis.zone_placeholder() -%}
    {%- if zones -%}
    case
        {%- for zone in zones %}
        when {{ time_zone }} = '{{ zone }}' then {{ expression | replace(placeholder, "'" ~ zone ~ "'") }}
        {%- endfor %}
        else {{ expression | replace(placeholder, time_zone) }}
    end
    {%- else -%}
    {{ expression | replace(placeholder, time_zone) }}
    {%- endif -%}
{%- endmacro %}

{% macro zones_in(relation, zone_expr, max_zones=20) -%}
    {#- The known zones (known_time_zones_sql) the SQL expression zone_expr takes in `relation`,
        for in_each_zone: [] when there are more than max_zones, when not executing or the
        relation is not built yet, and on engines other than DuckDB (whose per-row conversion
        is not the slow one). -#}
    {{ return(adapter.dispatch('zones_in', 'output_kpis')(relation, zone_expr, max_zones)) }}
{%- endmacro %}

{% macro default__zones_in(relation, zone_expr, max_zones) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro duckdb__zones_in(relation, zone_expr, max_zones) -%}
    {%- if not execute or load_relation(relation) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select distinct zone_name
        from (select {{ zone_expr }} as zone_name from {{ relation }}) as zones
        where zone_name in (select time_zone_name from ({{ output_kpis.known_time_zones_sql() }}) as known)
            and zone_name not like '%''%'
        order by zone_name
        limit {{ max_zones + 1 }}
    {%- endset -%}
    {%- set zones = run_query(query).columns[0].values() | list -%}
    {{ return(zones if zones | length <= max_zones else []) }}
{%- endmacro %}
