{#- Incremental unit models (delete+insert on the unit's key). The raw tables carry no loaded_at,
    so "new" is detected from the data itself; a unit is rebuilt when any of these holds:
      1. it was unsettled at the previous run (its flags still move with as_of: open ticket,
         open or not-yet-due order line);
      2. one of its source rows carries a timestamp after the watermark (previous as_of minus
         var incremental_lookback_days): new activity, and rows the previous as_of hid;
      3. its source fingerprint (a hash over all of its source rows) differs from the stored
         one: late rows older than the watermark and rows changed in place.
    Changes to reference tables (routes, SLA policies, business hours...), to definitional vars,
    or hard deletes of units need --full-refresh. -#}

{% macro incremental_watermark() -%}
    {#- On an incremental run, a SQL timestamp: the previous run's as_of (max(as_of_at) of the
        existing table) minus var incremental_lookback_days. none on a full build. Fails when
        as_of moves backwards: rows known then but not now would linger. -#}
    {%- set lookback_days = output_kpis.number_var('incremental_lookback_days', 7) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- if 'source_fingerprint' not in built_columns -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built before it became incremental (no source_fingerprint column);"
            ~ " rebuild it once with --full-refresh") }}
    {%- endif -%}
    {%- set result = run_query(
        'select cast(max(as_of_at) as ' ~ dbt.type_string() ~ ') as previous_as_of, '
        ~ 'max(case when as_of_at > ' ~ output_kpis.as_of_timestamp()
        ~ ' then 1 else 0 end) as is_backwards from ' ~ this) -%}
    {%- set previous_as_of = result.columns[0].values()[0] -%}
    {%- if previous_as_of is none -%}
        {{ return("cast('1900-01-01 00:00:00' as timestamp)") }}
    {%- endif -%}
    {%- if result.columns[1].values()[0] == 1 -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built as of " ~ previous_as_of ~ ", later than var 'as_of' now;"
            ~ " rebuild it with --full-refresh") }}
    {%- endif -%}
    {{ return(output_kpis.add_minutes(
        "cast('" ~ previous_as_of ~ "' as timestamp)", -1 * lookback_days * 1440)) }}
{%- endmacro %}

{% macro source_fingerprint(columns, order_by) -%}
    {#- Aggregate: a hash over every listed column of every row in the group, in a fixed order,
        so a late, changed or deleted source row changes it. -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append(
            "coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.listagg(parts | join(" || '|' || "), "';'", "order by " ~ order_by)) }}
{%- endmacro %}

{% macro restamp_as_of(relation) -%}
    {#- Post-hook of the incremental unit models: rows not rebuilt were settled, so their values
        hold at the new as_of too; stamp them with it, as a full build would. -#}
    update {{ relation }}
    set as_of_at = {{ output_kpis.as_of_timestamp() }}
    where as_of_at <> {{ output_kpis.as_of_timestamp() }}
{%- endmacro %}


{% macro units_to_build(key, built, recent_units, still_open=none) -%}
    {#- The units an incremental run rebuilds (all units on a full build): new units, units
        whose source_fingerprint changed, units still open at the last run (still_open: a
        condition on `built`), and units with source rows after the watermark (recent_units:
        a query returning keys). Reads the CTE unit_fingerprints (key, source_fingerprint). -#}
    select unit_fingerprints.{{ key }}
    from unit_fingerprints
    {%- if is_incremental() %}
    left join {{ built }} as built
        on unit_fingerprints.{{ key }} = built.{{ key }}
    where
        built.source_fingerprint is null
        or built.source_fingerprint <> unit_fingerprints.source_fingerprint
        {%- if still_open %}
        or {{ still_open }}
        {%- endif %}
        or unit_fingerprints.{{ key }} in ({{ recent_units }})
    {%- endif %}
{%- endmacro %}
