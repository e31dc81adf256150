{#- Incremental models on Spark. Spark's parquet tables (no Delta, no Iceberg) cannot DELETE or
    UPDATE, which the strategies replace_key_groups and replace_units do, but they can overwrite
    partitions: on Spark the base models and the unit models are dbt-spark's insert_overwrite on
    a partition column (dynamic partition overwrite), and their final select (overwrite_rows)
    returns, on an incremental run, every row of each partition the run rewrites. Two layouts,
    set by the partition column:
      - a run stamp (classified_at of the base models, sources_classified_at of
        int_manufacturing__event_scans): the rows a run rebuilds carry its stamp, so they land
        in a partition of their own; a partition of an earlier run is rewritten only when it
        held a replaced row (keeping its other rows), and dropped when none is left (a marker
        row names it, drop_emptied_partitions drops it after the write). A daily run rewrites
        what changed, not the table. The base models' replaced key groups are a table written
        before the run (keep_rebuilt_key_groups): this select reads them in three places, and
        Spark computes a CTE again at each reference.
      - as_of_at (the unit models whose rows hold at the new as_of too, restamp_as_of
        elsewhere): every row carries the build's as_of, which a Spark table cannot UPDATE, so a
        run writes the whole table into the partition of its as_of (the units its list names
        recomputed, every other row copied with the new as_of) and restamp_as_of drops the
        previous as_of's partition. The computation is what changed; the write is the table.
    A full build (first run, --full-refresh) creates the partitioned table as dbt-spark does.
    The KPI period models are tables on Spark (incremental_materialization(on_spark=false)). -#}

{% macro incremental_strategy(strategy) -%}
    {#- The model's incremental_strategy: `strategy` (replace_key_groups, replace_units,
        replace_periods: this package's custom strategies), insert_overwrite on Spark. -#}
    {{ return(adapter.dispatch('incremental_strategy', 'output_kpis')(strategy)) }}
{%- endmacro %}

{% macro default__incremental_strategy(strategy) -%}
    {{ return(strategy) }}
{%- endmacro %}

{% macro spark__incremental_strategy(strategy) -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro overwrite_partition_by(column) -%}
    {#- The model's partition_by: [column] on Spark (what insert_overwrite rewrites), none
        elsewhere (the other engines delete rows instead). -#}
    {{ return(adapter.dispatch('overwrite_partition_by', 'output_kpis')(column)) }}
{%- endmacro %}

{% macro default__overwrite_partition_by(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__overwrite_partition_by(column) -%}
    {{ return([column]) }}
{%- endmacro %}

{% macro emptied_partition_marker() -%}
    __emptied_partition__
{%- endmacro %}

{% macro overwrite_rows(rows, replaced, new_rows='true') -%}
    {#- The final select of an incremental model, from the CTE `rows`: what the strategy
        writes (the rebuilt rows and, on an incremental run elsewhere, the strategy's marker
        rows). On an incremental Spark run, every row of each partition the run rewrites
        (see the top of this file): the rows of `rows` where `new_rows`, the rows of the table
        (alias built) in a rewritten partition that `replaced` (a condition on built's columns,
        never null: write it as an exists) does not name, and a marker row per rewritten
        partition left empty. -#}
    {{ return(adapter.dispatch('overwrite_rows', 'output_kpis')(rows, replaced, new_rows)) }}
{%- endmacro %}

{% macro default__overwrite_rows(rows, replaced, new_rows) -%}
    select * from {{ rows }}
{%- endmacro %}

{% macro spark__overwrite_rows(rows, replaced, new_rows) -%}
    {%- if not is_incremental() -%}
        select * from {{ rows }}
    {%- else -%}
    {%- set partition = config.get('partition_by')[0] -%}
    {%- set columns = adapter.get_columns_in_relation(this) -%}
    {%- set names = columns | map(attribute='name') | list -%}
    {%- set is_replaced = '(' ~ replaced ~ ')' %}
    select {{ names | join(', ') }}
    from {{ rows }}
    where {{ new_rows }}
    {%- if partition == 'as_of_at' %}
    union all
    select
        {%- for name in names %}
        {% if name == 'as_of_at' %}{{ output_kpis.as_of_timestamp() }} as as_of_at{% else %}built.{{ name }}{% endif %}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ this }} as built
    where not {{ is_replaced }}
    {%- else %}
    {%- set marker_column = config.get('overwrite_marker_column') -%}
    {%- if marker_column not in names -%}
        {{ exceptions.raise_compiler_error(
            this ~ " is overwritten by partition (" ~ partition ~ ") and needs config"
            ~ " overwrite_marker_column: a string column of it that no row leaves null") }}
    {%- endif %}
    union all
    select {% for name in names %}built.{{ name }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ this }} as built
    where
        built.{{ partition }} in (
            select built.{{ partition }} from {{ this }} as built where {{ is_replaced }}
        )
        and not {{ is_replaced }}
    union all
    select
        {%- for column in columns %}
        {% if column.name == partition -%}
        touched.{{ partition }}
        {%- elif column.name == marker_column -%}
        '{{ output_kpis.emptied_partition_marker() }}'
        {%- else -%}
        cast(null as {{ column.data_type }})
        {%- endif %} as {{ column.name }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from (
        select distinct built.{{ partition }} from {{ this }} as built where {{ is_replaced }}
    ) as touched
    where not exists (
        select 1
        from {{ this }} as built
        where built.{{ partition }} = touched.{{ partition }} and not {{ is_replaced }}
    )
    {%- endif %}
    {%- endif -%}
{%- endmacro %}

{% macro drop_emptied_partitions() -%}
    {#- Post-hook of the models overwritten by a stamp partition: on Spark, drops each
        partition holding a marker row (overwrite_rows: a rewritten partition left with no
        row). Nothing elsewhere. -#}
    {{ return(adapter.dispatch('drop_emptied_partitions', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__drop_emptied_partitions() -%}
{%- endmacro %}

{% macro spark__drop_emptied_partitions() -%}
    {%- if execute -%}
        {%- set partition = config.get('partition_by')[0] -%}
        {%- set marker_column = config.get('overwrite_marker_column') -%}
        {%- set is_marker = marker_column ~ " = '" ~ output_kpis.emptied_partition_marker() ~ "'" -%}
        {#- a marked partition may hold rows too: the run's new rows, when they carry the stamp
            of the partition they emptied (a rerun within the same second, an event_scans run
            whose sources were classified by an earlier run) -#}
        {%- set found = run_query(
            'select cast(' ~ partition ~ ' as string) as value,'
            ~ ' count_if(not (' ~ is_marker ~ ')) as kept_rows from ' ~ this
            ~ ' where ' ~ partition ~ ' in (select ' ~ partition ~ ' from ' ~ this
            ~ ' where ' ~ is_marker ~ ') group by ' ~ partition) -%}
        {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- for value, kept_rows in found.rows -%}
            {%- if kept_rows == 0 -%}
                {%- call statement('drop_emptied_partition') -%}
                    alter table {{ this }} drop if exists partition ({{ partition }} = '{{ value }}')
                {%- endcall -%}
            {%- else -%}
                {#- dynamic overwrite of that one partition without its marker row (the
                    partition column last, where the table holds it) -#}
                {%- call statement('drop_emptied_partition') -%}
                    set spark.sql.sources.partitionOverwriteMode = DYNAMIC
                {%- endcall -%}
                {%- call statement('drop_emptied_partition') -%}
                    insert overwrite table {{ this }} partition ({{ partition }})
                    select {{ names | reject('equalto', partition) | join(', ') }}, {{ partition }}
                    from {{ this }}
                    where cast({{ partition }} as string) = '{{ value }}' and not ({{ is_marker }})
                {%- endcall -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro drop_partitions_where(condition, relation=none) -%}
    {#- Spark: drops every partition of `relation` (default: this model's table; partitioned by
        config partition_by) holding a row that meets `condition`; renders nothing (each drop
        runs here). -#}
    {%- set relation = relation or this -%}
    {%- set partition = config.get('partition_by')[0] -%}
    {%- set found = run_query(
        'select distinct cast(' ~ partition ~ ' as string) as value from ' ~ relation
        ~ ' where ' ~ condition) -%}
    {%- for value in found.columns[0].values() -%}
        {%- call statement('drop_partition') -%}
            alter table {{ relation }} drop if exists partition ({{ partition }} = '{{ value }}')
        {%- endcall -%}
    {%- endfor -%}
{%- endmacro %}

{% macro overwrite_units(rows) -%}
    {#- overwrite_rows for a unit model (strategy replace_units): a built row is replaced when
        its unit (config unique_key) is in the list model (config units_to_build). -#}
    {#- (the condition is read on an incremental run only: a unit test has no model config) -#}
    {%- if not execute or not is_incremental() -%}
        {{ return('select * from ' ~ rows) }}
    {%- endif -%}
    {%- set key = config.get('unique_key') -%}
    {{ return(output_kpis.overwrite_rows(rows,
        'exists (select 1 from ' ~ ref(config.get('units_to_build')) ~ ' as listed'
        ~ ' where listed.' ~ key ~ ' = built.' ~ key ~ ')')) }}
{%- endmacro %}
