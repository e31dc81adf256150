{#- Incremental unit models. The raw tables carry no loaded_at, but the base layer stamps each
    raw row with the run that classified it (classified_at). The manufacturing unit models, the
    order lines and the SLA measurements (strategy replace_units) rebuild the units
    int_manufacturing__serials_to_build, int_fulfilment__order_lines_to_build and
    int_service__sla_tickets_to_build find from the rows classified since they last read their
    sources, the rows that left staging (a stored count of a unit's child rows - defects,
    shipments, status changes - notices one deleted or moved), the activity the previous as_of
    hid, and the units still open: no fingerprint of every unit's rows, no lookback window.
    Hard deletes of reference rows (routes, SLA policies, business hours...) and changes to
    definitional vars need --full-refresh. -#}

{% macro previous_as_of(built=none) -%}
    {#- On an incremental run, a SQL timestamp: the as_of the existing table was built at
        (max(as_of_at); 1900-01-01 when it is empty). none on a full build. Fails when as_of
        moves backwards: rows known then but not now would linger. The table is this model's
        own, or `built` (incremental_unit_relation) for a model that selects the units an
        incremental model downstream rebuilds. -#}
    {%- if built is none and (not execute or not is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built = this if built is none else built -%}
    {%- set built_columns = adapter.get_columns_in_relation(built) | map(attribute='name')
        | map('lower') | list -%}
    {%- if 'sources_classified_at' not in built_columns -%}
        {{ exceptions.raise_compiler_error(
            built ~ " was built before it became incremental on changed rows (no"
            ~ " sources_classified_at column);"
            ~ " rebuild it once with --full-refresh") }}
    {%- endif -%}
    {%- set result = run_query(
        'select cast(max(as_of_at) as ' ~ dbt.type_string() ~ ') as previous_as_of, '
        ~ 'max(case when as_of_at > ' ~ output_kpis.as_of_timestamp()
        ~ ' then 1 else 0 end) as is_backwards from ' ~ built) -%}
    {%- set previous_as_of = result.columns[0].values()[0] -%}
    {%- if previous_as_of is none -%}
        {{ return("cast('1900-01-01 00:00:00' as timestamp)") }}
    {%- endif -%}
    {%- if result.columns[1].values()[0] == 1 -%}
        {{ exceptions.raise_compiler_error(
            built ~ " was built as of " ~ previous_as_of ~ ", later than var 'as_of' now;"
            ~ " rebuild it with --full-refresh") }}
    {%- endif -%}
    {{ return("cast('" ~ previous_as_of ~ "' as timestamp)") }}
{%- endmacro %}

{% macro incremental_unit_relation(model_name) -%}
    {#- The table of this package's incremental model `model_name` when this invocation builds
        it incrementally, as that model's is_incremental() will find it: materialized
        incremental, the table exists, no --full-refresh (nor config full_refresh). none
        otherwise, and at parse time. For a model upstream of it that selects the units it
        rebuilds, so that the models between compute those units only. -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.output_kpis.' ~ model_name) -%}
    {%- if node is none or node.config.materialized != 'incremental' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set full_refresh = node.config.full_refresh if node.config.full_refresh is not none
        else flags.FULL_REFRESH -%}
    {%- if full_refresh -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if relation is none or not relation.is_table -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{% macro check_units_selected_in_full(source_model) -%}
    {#- In a full build of an incremental unit model (strategy replace_units) whose parts read
        only the units its list model selected (config units_to_build, keyed by config
        unique_key): fails unless that model lists every unit of `source_model` with
        build_scope 'all'. It lists fewer when it was built for an incremental run (or before
        newer units arrived) and this full build did not rebuild it, e.g.
        `dbt run --full-refresh --select` of the unit model alone: the parts then hold those
        units only, and the full build would lose every other one. -#}
    {#- (a unit test reads fixtures, and carries no model config: nothing to check) #}
    {%- if execute and not is_incremental() and flags.WHICH in ['run', 'build']
        and model.resource_type != 'unit_test' -%}
        {%- set units_model = config.get('units_to_build') -%}
        {%- set key = config.get('unique_key') -%}
        {%- set units = ref(units_model) -%}
        {%- if load_relation(units) is not none -%}
            {%- set result = run_query(
                "select (select count(*) from " ~ units ~ " where build_scope <> 'all'),"
                ~ " (select count(*) from " ~ units ~ "),"
                ~ " (select count(distinct " ~ key ~ ") from " ~ ref(source_model) ~ ")") -%}
            {%- set row = result.rows[0] -%}
            {%- if row[0] > 0 or row[1] < row[2] -%}
                {{ exceptions.raise_compiler_error(
                    this.identifier ~ " is built in full, but " ~ units_model ~ " lists "
                    ~ row[1] ~ " of the " ~ row[2] ~ " units of " ~ source_model
                    ~ " (it was built for an incremental run, or before the latest rows):"
                    ~ " rebuild it and the models between them too, e.g. dbt run"
                    ~ " --full-refresh --select +" ~ this.identifier) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_materialization(on_spark=true) -%}
    {{ return(adapter.dispatch('incremental_materialization', 'output_kpis')(on_spark)) }}
{%- endmacro %}

{% macro default__incremental_materialization(on_spark) -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_materialization(on_spark) -%}
    {#- Incremental on Spark too, by partition overwrite (macros/partition_overwrite.sql), unless
        on_spark is false: the KPI period models, whose incremental run compares every day row
        with the table's. Spark inlines each CTE wherever it is read, so that comparison and the
        overwrite read the model's query three to four times over (int_manufacturing__kpi_components
        60.8 s against 11.7 s built in full on the demo; int_units__kpi_components, 96 unions,
        ran out of a 2g driver's heap in the analyser): on Spark they are tables, rebuilt each
        run from the unit models, which are incremental. -#}
    {{ return('incremental' if on_spark else 'table') }}
{%- endmacro %}

{% macro restamp_as_of(relation) -%}
    {{ return(adapter.dispatch('restamp_as_of', 'output_kpis')(relation)) }}
{%- endmacro %}

{% macro default__restamp_as_of(relation) -%}
    {#- Post-hook of the incremental unit models: rows not rebuilt were settled, so their values
        hold at the new as_of too; stamp them with it, as a full build would. -#}
    update {{ relation }}
    set as_of_at = {{ output_kpis.as_of_timestamp() }}
    where as_of_at <> {{ output_kpis.as_of_timestamp() }}
{%- endmacro %}

{% macro spark__restamp_as_of(relation) -%}
    {#- A Spark table cannot UPDATE: these models are partitioned by as_of_at and an incremental
        run writes every row into the partition of its as_of (overwrite_rows); drop the
        partition of the previous as_of. Renders nothing (the drops run here). -#}
    {%- if execute and config.get('partition_by') -%}
        {{ output_kpis.drop_partitions_where(
            'as_of_at <> ' ~ output_kpis.as_of_timestamp(), relation) }}
    {%- endif -%}
{%- endmacro %}


{% macro seen_classified_at(built) -%}
    {#- For a model listing the units of incremental unit models (int_*_to_build) on an
        incremental run: a SQL timestamp, the least over the relations `built` of their newest
        sources_classified_at (1900-01-01 for an empty one). Every staged row classified at or
        before it was read by all of them; a row classified later is new or changed. -#}
    {%- set stamps = [] -%}
    {%- for relation in built -%}
        {%- do stamps.append('coalesce((select max(sources_classified_at) from ' ~ relation
            ~ "), cast('1900-01-01 00:00:00' as timestamp))") -%}
    {%- endfor -%}
    {#- (Spark's least takes two arguments or more) -#}
    {%- set least = stamps[0] if stamps | length == 1 else 'least(' ~ stamps | join(', ') ~ ')' -%}
    {%- set seen = run_query(
        'select cast(' ~ least ~ ' as ' ~ dbt.type_string() ~ ')'
    ).columns[0].values()[0] -%}
    {{ return("cast('" ~ seen ~ "' as timestamp)") }}
{%- endmacro %}

{% macro rows_left_staging(built, staged, key, seen) -%}
    {#- How many rows of the table `built` (one row per staged row of `staged` when it was
        built, by the unique `key`) have left `staged` since (deleted from the raw table, or
        quarantined): built - staged + the staged rows classified after `seen` that `built`
        lacks. Zero spares the anti-join that would find them. -#}
    {%- set result = run_query(
        'select (select count(*) from ' ~ built ~ ') - (select count(*) from ' ~ staged
        ~ ') + (select count(*) from ' ~ staged ~ ' as staged where staged.classified_at > '
        ~ seen ~ ' and not exists (select 1 from ' ~ built ~ ' as built where built.' ~ key
        ~ ' = staged.' ~ key ~ '))'
    ) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}

{% macro hidden_by_previous_as_of(column, previous) -%}
    {#- For a list model (int_*_to_build): a condition true when the time in `column` lies after
        the previous run's as_of (`previous`, a SQL timestamp) and at or before this run's:
        activity the previous as_of hid, which this run must see. -#}
    ({{ column }} > {{ previous }} and {{ column }} <= {{ output_kpis.as_of_timestamp() }})
{%- endmacro %}

{% macro previous_list_not_taken_in(key, seen) -%}
    {#- For a list model (int_*_to_build), the last branch of its union of units: the units of
        its own previous list (`this`) classified through a stamp later than `seen`, i.e. a
        list one of its unit models has not stored (the previous run failed or skipped it), so
        they are not lost. Nothing while the list has no table yet. -#}
    {%- if load_relation(this) is not none %}
    union all
    select {{ key }}
    from {{ output_kpis.previous_list() }}
    where classified_through > {{ seen }}
    {%- endif %}
{%- endmacro %}

{% macro previous_list() -%}
    {#- The list model's previous table, as it was before this run: `this`, whose replacement
        the engine builds beside it; on Spark, which drops a table before it creates it anew,
        the copy keep_previous_list made. -#}
    {{ return(adapter.dispatch('previous_list', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__previous_list() -%}
    {{ return(this) }}
{%- endmacro %}

{% macro spark__previous_list() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__previous'})) }}
{%- endmacro %}

{% macro keep_previous_list() -%}
    {#- Pre-hook of the list models (int_*_to_build): on Spark, copies the table into
        previous_list() before dbt-spark drops it; nothing elsewhere. Renders nothing. -#}
    {{ return(adapter.dispatch('keep_previous_list', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__keep_previous_list() -%}
{%- endmacro %}

{% macro spark__keep_previous_list() -%}
    {%- if execute and load_relation(this) is not none -%}
        {%- call statement('keep_previous_list') -%}
            drop table if exists {{ output_kpis.previous_list() }}
        {%- endcall -%}
        {%- call statement('keep_previous_list') -%}
            create table {{ output_kpis.previous_list() }} as select * from {{ this }}
        {%- endcall -%}
    {%- endif -%}
{%- endmacro %}

{% macro child_row_counts(relation, parent_key, count_column) -%}
    {#- A select of the number of rows of `relation` (staged child rows: shipments, defects,
        status changes) per `parent_key`, whatever their timestamps. A unit model stores it
        (count_column) and its list model compares it with the staged rows on the next run:
        a child row deleted, quarantined or moved to another unit leaves no stamp, only a
        different count. Both sides count with this macro, so they cannot drift apart. -#}
    select
        {{ parent_key }},
        count(*) as {{ count_column }}
    from {{ relation }}
    group by {{ parent_key }}
{%- endmacro %}

{% macro classified_through(relations) -%}
    {#- A one-row select of classified_through: the newest classified_at of the staged
        relations a unit model reads (what it stores as sources_classified_at). -#}
    select max(classified_at) as classified_through
    from (
        {%- for relation in relations %}
        select max(classified_at) as classified_at from {{ relation }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as source_stamps
{%- endmacro %}


{% macro get_incremental_replace_units_sql(arg_dict) -%}
    {#- Strategy of the unit models whose units a model upstream selects (config
        units_to_build: that model's name, listing the keys in column unique_key): delete every
        listed unit, then insert the new rows. Unlike delete+insert, a listed unit that has no
        rows now (its source rows were deleted or quarantined) is deleted too. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set units_model = config.get('units_to_build') -%}
    {%- if not units_model or key is not string -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy 'replace_units' needs config units_to_build (a model) and one"
            ~ " unique_key column") }}
    {%- endif -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }}
    where {{ key }} in (select {{ key }} from {{ ref(units_model) }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{%- endmacro %}


{#- Incremental KPI component models and marts (strategy replace_periods). Rows are keyed by
    (kpi_id, grain, period_start, dimension...) and every coarser period is a sum of day rows,
    so an incremental run works out, per grain, the first period that may have changed and
    replaces that period and every later one: the temp table carries the recomputed rows plus
    one marker row per grain (kpi_id = rebuild_period_marker(), period_start = the first
    period replaced), and the strategy deletes the target rows of the marked periods before
    inserting the rest, in one transaction. The marker is what lets a period that lost all of
    its rows be emptied. -#}

{% macro rebuild_period_marker() -%}
    __rebuild_period__
{%- endmacro %}

{% macro get_incremental_replace_periods_sql(arg_dict) -%}
    {{ return(adapter.dispatch('replace_periods_sql', 'output_kpis')(arg_dict)) }}
{%- endmacro %}

{% macro default__replace_periods_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as target_rows
    where exists (
        select 1
        from {{ source }} as marker
        where
            marker.kpi_id = '{{ output_kpis.rebuild_period_marker() }}'
            and marker.grain = target_rows.grain
            and target_rows.period_start >= marker.period_start
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where kpi_id <> '{{ output_kpis.rebuild_period_marker() }}'
{%- endmacro %}

{% macro replace_periods_rows(relation, rebuild_from) -%}
    {#- The rows of `relation` in every period that contains or follows the date in column
        rebuild_from of the one-row relation `rebuild_from` (no rows when it is null), plus one
        marker row per grain. Columns follow the existing table (this), which `relation`
        matches. -#}
    {%- set grains = output_kpis.reporting_grains() -%}
    {%- set columns = adapter.get_columns_in_relation(this) -%}
    select {{ relation }}.*
    from {{ relation }}
    inner join {{ rebuild_from }}
        on {{ relation }}.period_start >= case {{ relation }}.grain
            {%- for grain in grains %}
            when '{{ grain }}'
                then {{ output_kpis.period_start(grain, rebuild_from ~ '.rebuild_from') }}
            {%- endfor %}
        end
    {%- for grain in grains %}
    union all
    select
        {%- for column in columns %}
        {%- if column.name | lower == 'kpi_id' %}
        '{{ output_kpis.rebuild_period_marker() }}' as kpi_id
        {%- elif column.name | lower == 'grain' %}
        '{{ grain }}' as grain
        {%- elif column.name | lower == 'period_start' %}
        {{ output_kpis.period_start(grain, rebuild_from ~ '.rebuild_from') }} as period_start
        {%- else %}
        cast(null as {{ column.data_type }}) as {{ column.name }}
        {%- endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ rebuild_from }}
    where {{ rebuild_from }}.rebuild_from is not null
    {%- endfor %}
{%- endmacro %}

{% macro incremental_kpi_periods(
    relation, partition_by=[], value_columns=['numerator', 'denominator'], float_columns=[]
) -%}
    {#- CTEs and final select of an incremental KPI component model (config
        incremental_strategy='replace_periods'): `relation` holds every component row; each
        row is stamped rebuilt_at (this run's start). A full build returns them all. An
        incremental run compares the day rows with the table's: the first day that differs
        (a changed numerator or denominator, a new or a vanished row) is the rebuild point,
        and every period of every grain that ends on or after it is replaced. value_columns are
        compared exactly; float_columns (a precomputed product of doubles, whose last bit
        depends on the order a parallel sum meets its terms) within a relative 1e-12. With no 'day'
        in var kpi_grains nothing can be compared and every period is replaced. -#}
    {%- set grains = output_kpis.reporting_grains() -%}
    {%- set keys = ['kpi_id', 'period_start', 'dimension_name', 'dimension_value'] + partition_by -%}
    kpi_periods__stamped as (
        select
            {{ relation }}.*,
            {{ output_kpis.run_started_timestamp() }} as rebuilt_at
        from {{ relation }}
    ),
    {%- if not is_incremental() %}

    kpi_periods__final as (
        select * from kpi_periods__stamped
    )
    {%- else %}

    kpi_periods__new_days as (
        select {{ (keys + value_columns + float_columns) | join(', ') }}
        from {{ relation }}
        where grain = 'day'
    ),

    kpi_periods__old_days as (
        select {{ (keys + value_columns + float_columns) | join(', ') }}
        from {{ this }}
        where grain = 'day'
    ),

    kpi_periods__changed_days as (
        select coalesce(new_days.period_start, old_days.period_start) as changed_day
        from kpi_periods__new_days as new_days
        full outer join kpi_periods__old_days as old_days
            on
            {%- for key in keys %}
                {% if not loop.first %}and {% endif %}new_days.{{ key }} = old_days.{{ key }}
            {%- endfor %}
        where
            new_days.kpi_id is null
            or old_days.kpi_id is null
            {%- for column in value_columns %}
            or new_days.{{ column }} is distinct from old_days.{{ column }}
            {%- endfor %}
            {%- for column in float_columns %}
            or (new_days.{{ column }} is null) <> (old_days.{{ column }} is null)
            or abs(new_days.{{ column }} - old_days.{{ column }})
            > 1e-12 * greatest(1.0, abs(old_days.{{ column }}))
            {%- endfor %}
    ),

    kpi_periods__rebuild_from as (
        {%- if 'day' in grains %}
        select min(changed_day) as rebuild_from
        from kpi_periods__changed_days
        {%- else %}
        select cast('1900-01-01' as date) as rebuild_from
        {%- endif %}
    ),

    kpi_periods__final as (
        {{ output_kpis.replace_periods_rows('kpi_periods__stamped', 'kpi_periods__rebuild_from') }}
    )
    {%- endif %}

    select * from kpi_periods__final
{%- endmacro %}
