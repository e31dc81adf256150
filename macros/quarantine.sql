{% macro quarantine_base(source_name, table_name) -%}
    {#- The body of a base model (models/staging/<source>/base/, generated from
        kpi_tooling/core/raw_tables.yml): every raw row of the table, once, with one column per
        raw column holding the value the quarantine read (quarantine_clean_value: typed, blank
        text as null) and the first rule the row breaks (quarantine_reason, quarantine_detail:
        null when it breaks none; record_key and payload only then). The quarantine classifies
        each raw row here and nowhere else: staging reads the kept rows (clean_source), the
        quarantine the others (quarantined_source), reference checks the parent's kept rows
        (kept_rows). Incremental (strategy replace_key_groups): an incremental run reclassifies
        only the key groups rebuilt_key_groups finds, with the same SQL as a full build, and
        stamps their rows classified_at (the run's start): what downstream models read as the
        rows that changed. -#}
    {%- set spec = quarantine_spec(table_name) -%}
    {%- set verdict = output_kpis.base_verdict_columns() -%}
    {%- if not output_kpis.raw_table_present(table_name) -%}
        {#- A table the project declared absent (var output_kpis_absent_tables): no rows, the
            same columns, so the models reading it fall back to their stated defaults. (A
            disabled domain's base model is not built at all.) -#}
        {%- set columns = {} -%}
        {%- for column, type in spec.columns.items() -%}
            {%- do columns.update({column: output_kpis.quarantine_column_type(type)}) -%}
        {%- endfor -%}
        {%- for column in verdict -%}
            {%- do columns.update({column: output_kpis.hash_type()
                if column.endswith('_hash') else dbt.type_timestamp()
                if column == 'classified_at' else dbt.type_string()}) -%}
        {%- endfor -%}
        with base_rows as (
            select * from {{ output_kpis.empty_relation(columns) }} as no_rows
            {%- if output_kpis.base_is_incremental() %}
            {#- declared absent after a build: every built row goes #}
            union all
            {{ output_kpis.rebuild_group_markers(spec, verdict, 'true') }}
            {%- endif %}
        )

        {{ output_kpis.overwrite_rows('base_rows', 'true', output_kpis.not_group_marker()) }}
    {%- else -%}
    {%- set incremental = output_kpis.base_is_incremental() -%}
    {{ check_source_columns(source_name, table_name) }}
    {{ checked_source_sql(source_name, table_name, incremental) }},

    base_rows as (
    select
        {%- for column, type in spec.columns.items() %}
        {{ output_kpis.quarantine_clean_value(column, type) }} as {{ column }},
        {%- endfor %}
        {%- for column in verdict %}
        {%- if column == 'classified_at' %}
        {{ output_kpis.run_started_timestamp() }} as classified_at
        {%- else %}
        {{ column }}
        {%- endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from checked
    {%- if incremental %}
    {#- One marker row per built row of a rebuilt key group: replace_key_groups deletes the
        groups of every row here, then inserts the rows that are no marker. #}
    union all
    {{ output_kpis.rebuild_group_markers(spec, verdict,
        'key_hash in (select key_hash from rebuilt_key_groups)') }}
    {%- endif %}
    )

    {{ output_kpis.overwrite_rows('base_rows',
        'exists (select 1 from rebuilt_key_groups where rebuilt_key_groups.key_hash = built.key_hash)',
        output_kpis.not_group_marker()) }}
    {%- endif -%}
{%- endmacro %}


{% macro rebuild_group_markers(spec, verdict, condition) -%}
    {#- A select of one marker row (quarantine_reason rebuild_group_marker) per built row of
        the base model that meets `condition`: replace_key_groups deletes the key groups of
        these rows and inserts none of them. -#}
    select
        {%- for column in spec.columns %}
        {{ column }},
        {%- endfor %}
        {%- for column in verdict %}
        {%- if column == 'quarantine_reason' %}
        '{{ output_kpis.rebuild_group_marker() }}' as quarantine_reason
        {%- else %}
        {{ column }}
        {%- endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ this }}
    where {{ condition }}
{%- endmacro %}


{% macro quarantine_column_type(type) -%}
    {#- The SQL type of the column quarantine_clean_value gives a raw column of quarantine
        type `type`: a table declared absent builds the same column types as a present one. -#}
    {%- if type == 'utc' -%}
        {{ return('timestamp') }}
    {%- elif type in ('integer', 'date', 'boolean') -%}
        {{ return(type) }}
    {%- elif type == 'number' -%}
        {{ return('double precision') }}
    {%- else -%}
        {{ return(dbt.type_string()) }}
    {%- endif -%}
{%- endmacro %}


{% macro base_is_incremental() -%}
    {#- True on an incremental run of a base model. Fails when the table was built before the base layer became incremental. -#}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- if 'key_hash' not in built_columns -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built before it became incremental (no key_hash column);"
            ~ " rebuild it once with --full-refresh") }}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}


{% macro rebuild_group_marker() -%}
    __rebuild_key_group__
{%- endmacro %}

{% macro not_group_marker() -%}
    {#- A condition true for a base model row that is no rebuild_group_marker row. -#}
    (quarantine_reason is null or quarantine_reason <> '{{ output_kpis.rebuild_group_marker() }}')
{%- endmacro %}


{% macro get_incremental_replace_key_groups_sql(arg_dict) -%}
    {#- Strategy of the base models: delete every key group (key_hash) the new rows or the
        marker rows name, then insert the new rows. A key group that vanished from the raw
        table has only marker rows, so it is deleted. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }}
    where key_hash in (select key_hash from {{ source }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where {{ output_kpis.not_group_marker() }}
{%- endmacro %}


{% macro row_hash(columns) -%}
    {#- A 64-bit hash of the listed columns' values (null and '' differ). -#}
    {{ return(adapter.dispatch('row_hash', 'output_kpis')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    cast(hash({{ columns | join(', ') }}) as {{ output_kpis.hash_type() }})
{%- endmacro %}

{% macro postgres__row_hash(columns) -%}
    {#- A row's text form quotes each value as needed, so it is unambiguous. -#}
    hashtextextended(cast(row({{ columns | join(', ') }}) as text), 0)
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro hash_type() -%}
    {#- The type of row_hash, key_hash and lookup_hash: the same whatever a run hashes (a null
        lookup_hash too), so an incremental run never changes a base model's column types. -#}
    {{ return(adapter.dispatch('hash_type', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__hash_type() -%}
    {{ dbt.type_bigint() }}
{%- endmacro %}

{% macro duckdb__hash_type() -%}
    ubigint
{%- endmacro %}


{% macro time_relative_reasons(table_name) -%}
    {#- The reasons that compare a value with the run's start (future_timestamp, and the table
        checks marked relative_to_now): an incremental run reclassifies their rows every time,
        since a row in the future may have become valid. -#}
    {%- set reasons = ['future_timestamp'] -%}
    {%- for check in quarantine_spec(table_name).get('checks', [])
        if check.get('relative_to_now') -%}
        {%- do reasons.append(check.reason) -%}
    {%- endfor -%}
    {{ return(reasons) }}
{%- endmacro %}


{% macro rebuilt_key_groups_sql(table_name, hashed) -%}
    {#-
        The key groups (key_hash) an incremental run of a base model reclassifies; hashed: the
        raw rows with row_hash and key_hash. A group is reclassified when
          1. a row_hash occurs a different number of times in the raw table than in the built
             table: a new, changed, copied or deleted raw row (the groups of the old and of the
             new key);
          2. a row of it was quarantined for a reason relative to the run's start
             (time_relative_reasons), or as unknown_reference (its parent may have come);
          3. a kept row (or one quarantined only for a rule after unknown_reference) references
             a key that is no longer among the parent's kept rows (the parent was quarantined
             or vanished);
          4. the values its checks read from other tables (lookup_hash) changed, or the table
             has no lookups any more (the table they read was declared absent).
        Every other rule reads only the row and its key group, so the rows of the other groups
        would be classified as they are.
    -#}
    {%- set spec = quarantine_spec(table_name) -%}
    {%- set string = dbt.type_string() -%}
    {%- set lookups = spec.get('lookups', []) -%}
    raw_hash_counts as (
        select row_hash, key_hash, count(*) as row_count
        from {{ hashed }}
        group by row_hash, key_hash
    ),

    built_hash_counts as (
        select row_hash, key_hash, count(*) as row_count
        from {{ this }}
        group by row_hash, key_hash
    ),

    rebuilt_key_groups as (
        select coalesce(raw_hash_counts.key_hash, built_hash_counts.key_hash) as key_hash
        from raw_hash_counts
        full outer join built_hash_counts
            on
                raw_hash_counts.row_hash = built_hash_counts.row_hash
                and raw_hash_counts.key_hash = built_hash_counts.key_hash
        where raw_hash_counts.row_count is distinct from built_hash_counts.row_count
        union
        select key_hash
        from {{ this }}
        where quarantine_reason in ('unknown_reference', '{{ output_kpis.time_relative_reasons(table_name) | join("', '") }}')
        {%- for column, parent in spec.get('refs', {}).items()
            if output_kpis.raw_table_present(parent[1]) %}
        union
        select key_hash
        from {{ this }}
        where
            (quarantine_reason is null or quarantine_reason in ('future_timestamp', 'implausible_date'))
            and {{ column }} is not null
            and cast({{ column }} as {{ string }}) not in (
                select cast({{ parent[2] }} as {{ string }})
                from {{ output_kpis.kept_rows(parent[1]) }}
                where {{ parent[2] }} is not null
            )
        {%- endfor %}
        {%- if lookups %}
        union
        select built.key_hash
        from {{ this }} as built
        {{ output_kpis.lookup_joins(lookups, 'built') }}
        where built.lookup_hash is distinct from {{ output_kpis.lookup_hash(lookups) }}
        {%- else %}
        {#- the table's lookups are gone (their table was declared absent): every group that
            read one is reclassified without it #}
        union
        select key_hash
        from {{ this }}
        where lookup_hash is not null
        {%- endif %}
    ),
{%- endmacro %}


{% macro hashed_raw_rows_sql(source_name, table_name) -%}
    {#- A select of the raw table, with every optional column it lacks added as its stated
        default, and the hashes an incremental run compares: row_hash (every column) and
        key_hash, which groups the rows of a key (a row whose key is blank is null_key whatever
        the other rows hold: its own group, by its hash). -#}
    {%- set spec = quarantine_spec(table_name) -%}
    {%- set columns = spec.columns.keys() | list -%}
    {%- set key_present = [] -%}
    {%- for column in spec.key -%}
        {%- do key_present.append(output_kpis.timestamp_text(column) ~ ' is not null') -%}
    {%- endfor -%}
    select
        *,
        {{ output_kpis.row_hash(columns) }} as row_hash,
        case
            when {{ key_present | join(' and ') }} then {{ output_kpis.row_hash(spec.key) }}
            else {{ output_kpis.row_hash(columns) }}
        end as key_hash
    from (
        select
            *
            {%- for column in output_kpis.absent_source_columns(source_name, table_name) %},
            {{ spec.optional[column] or 'cast(null as ' ~ dbt.type_string() ~ ')' }} as {{ column }}
            {%- endfor %}
        from {{ source(source_name, table_name) }}
    ) as raw_table
{%- endmacro %}


{% macro rebuilt_key_groups(source_name, table_name, hashed) -%}
    {#- The CTE rebuilt_key_groups (with a trailing comma) of an incremental run of a base
        model: the CTEs of rebuilt_key_groups_sql. On Spark, a read of the table
        keep_rebuilt_key_groups wrote before the run: Spark inlines a CTE at each of its
        references, and a base model reads this one in four places (the raw rows to
        reclassify, the marker rows, the partitions overwrite_rows rewrites and the rows it
        keeps), each a join of the whole raw table to the whole built one. -#}
    {{ return(adapter.dispatch('rebuilt_key_groups', 'output_kpis')(source_name, table_name, hashed)) }}
{%- endmacro %}

{% macro default__rebuilt_key_groups(source_name, table_name, hashed) -%}
    {{ output_kpis.rebuilt_key_groups_sql(table_name, hashed) }}
{%- endmacro %}

{% macro spark__rebuilt_key_groups(source_name, table_name, hashed) -%}
    rebuilt_key_groups as (
        select key_hash from {{ output_kpis.kept_rebuilt_key_groups() }}
    ),
{%- endmacro %}


{% macro kept_rebuilt_key_groups() -%}
    {#- Spark: the table keep_rebuilt_key_groups writes for a base model
        (<identifier>__rebuilt_key_groups, beside it). -#}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__rebuilt_key_groups'})) }}
{%- endmacro %}


{% macro keep_rebuilt_key_groups(source_name, table_name) -%}
    {#- Pre-hook of the base models: on Spark, before an incremental run, writes the key
        groups it reclassifies (rebuilt_key_groups_sql) into kept_rebuilt_key_groups(), so
        the run computes them once; before a full build, drops that table. It holds the
        last incremental run's groups until the next run. Nothing elsewhere; renders
        nothing. -#}
    {{ return(adapter.dispatch('keep_rebuilt_key_groups', 'output_kpis')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__keep_rebuilt_key_groups(source_name, table_name) -%}
{%- endmacro %}

{% macro spark__keep_rebuilt_key_groups(source_name, table_name) -%}
    {%- if execute -%}
        {%- call statement('keep_rebuilt_key_groups') -%}
            drop table if exists {{ output_kpis.kept_rebuilt_key_groups() }}
        {%- endcall -%}
        {%- if output_kpis.raw_table_present(table_name) and output_kpis.base_is_incremental() -%}
            {%- call statement('keep_rebuilt_key_groups') -%}
                create table {{ output_kpis.kept_rebuilt_key_groups() }} as
                with hashed_raw_rows as (
                    {{ output_kpis.hashed_raw_rows_sql(source_name, table_name) }}
                ),

                {{ output_kpis.rebuilt_key_groups_sql(table_name, 'hashed_raw_rows') }}

                kept as (
                    select distinct key_hash from rebuilt_key_groups
                )

                select key_hash from kept
            {%- endcall -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro lookup_joins(lookups, rows) -%}
    {#- One left join per quarantine_spec lookup of the relation `rows` (its value is then
        <lookup name>.lookup_value). A correlated subquery in a check would be re-run for every
        raw row on engines that do not decorrelate it (Postgres). -#}
    {%- set string = dbt.type_string() -%}
    {%- for lookup in lookups %}
    left join ({{ lookup.sql }}) as {{ lookup.name }}
    {%- if lookup.on is string %}
        on cast({{ rows }}.{{ lookup.on }} as {{ string }}) = {{ lookup.name }}.lookup_key
    {%- else %}
        on
        {%- for column in lookup.on %}
            {% if not loop.first %}and {% endif %}cast({{ rows }}.{{ column }} as {{ string }}) = {{ lookup.name }}.lookup_key_{{ column }}
        {%- endfor %}
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{% macro lookup_hash(lookups, joined=true) -%}
    {#- lookup_hash: a hash of a row's lookup values (<lookup name>.lookup_value from
        lookup_joins, or the columns <lookup name> when not joined), null for a table without
        lookups. -#}
    {%- if lookups -%}
        {%- set values = [] -%}
        {%- for lookup in lookups -%}
            {%- do values.append(lookup.name ~ ('.lookup_value' if joined else '')) -%}
        {%- endfor -%}
        {{ output_kpis.row_hash(values) }}
    {%- else -%}
        cast(null as {{ output_kpis.hash_type() }})
    {%- endif -%}
{%- endmacro %}


{% macro clean_source(source_name, table_name) -%}
    {#- The rows of a raw table that pass every quarantine rule, one column per raw column
        holding the value the quarantine read, and when it classified the row (classified_at;
        from its base model, quarantine_base): what its staging model reads instead of source(), so staging never parses the raw text a second
        time, differently. (The declaration, not quarantine_spec: its lookups read other raw
        tables, and staging reads none.) -#}
    {%- set columns = output_kpis.raw_table_declarations()[table_name].columns -%}
    (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            classified_at
        from {{ output_kpis.kept_rows(table_name) }}
    ) as clean_rows
{%- endmacro %}


{% macro quarantined_source(source_name, table_name) -%}
    {#- The rows of a raw table that break a quarantine rule, from its base model: source, key,
        reason code, the column or rule behind it, and the raw payload as text. -#}
    (
        select
            '{{ source_name }}.{{ table_name }}' as source_table,
            record_key,
            quarantine_reason,
            quarantine_detail,
            payload
        from {{ ref(output_kpis.base_model_of(table_name)) }}
        where quarantine_reason is not null
    ) as quarantined_{{ table_name }}
{%- endmacro %}


{% macro base_model_of(table_name) -%}
    {#- The name of the base model of a raw table (kpi_tooling/core/raw_tables.yml). -#}
    {%- set table = output_kpis.raw_table_declarations().get(table_name) -%}
    {%- if table is none -%}
        {{ exceptions.raise_compiler_error("no base model for raw table '" ~ table_name ~ "'") }}
    {%- endif -%}
    {{ return(table.base_model) }}
{%- endmacro %}


{% macro kept_rows(table_name) -%}
    {#- `(select * from <base model> where quarantine_reason is null) as kept_<table>`: the rows
        of a raw table no quarantine rule took (what its staging model reads), typed; reference
        checks read it too, so a child row whose parent was quarantined is quarantined with
        it instead of failing a relationships test later. -#}
    (
        select * from {{ ref(output_kpis.base_model_of(table_name)) }}
        where quarantine_reason is null
    ) as kept_{{ table_name }}
{%- endmacro %}


{% macro checked_source_sql(source_name, table_name, incremental=false) -%}
    {#-
        `with ... checked as (...)`: every raw row with typed copies of its columns (t_<col>),
        the first quarantine rule it breaks (quarantine_rule: its position in the list below;
        quarantine_reason and quarantine_detail: null when clean), and its key and payload as
        text. Rules, in order: null_key, invalid_identifier, uncastable_value,
        timestamp_without_time_zone, unknown_value, conflicting_duplicate_key, duplicate_row
        (exact copies after the first), the table's own checks, unknown_reference,
        future_timestamp, implausible_date. The rules for each table are in quarantine_spec.
        Each row carries row_hash, key_hash and lookup_hash too. incremental: only the raw rows
        of the key groups rebuilt_key_groups names (on an incremental run of a base model;
        whole key groups, so the duplicate rules see every row they compare).
    -#}
    {%- set spec = quarantine_spec(table_name) -%}
    {%- set string = dbt.type_string() -%}
    {%- set columns = spec.columns.keys() | list -%}
    {%- set key = spec.key -%}
    {%- set future_limit = dbt.dateadd('day', 1, output_kpis.run_started_timestamp()) -%}
    {#- References into enabled tables; joined instead of `not in (select ...)` where
        references_by_join() says so. -#}
    {%- set refs = [] -%}
    {%- for column, parent in spec.get('refs', {}).items()
        if output_kpis.raw_table_present(parent[1]) -%}
        {%- do refs.append((column, parent)) -%}
    {%- endfor -%}
    {%- set refs_joined = refs if output_kpis.references_by_join() else [] -%}
    {#- The columns carried from `typed` to `checked`. -#}
    {%- set carried = ['row_hash', 'key_hash'] -%}
    {%- for column, type in spec.columns.items() -%}
        {%- do carried.extend([column, 't_' ~ column]) -%}
        {%- if type != 'string' -%}{%- do carried.append('x_' ~ column) -%}{%- endif -%}
        {%- if type == 'utc' -%}{%- do carried.append('w_' ~ column) -%}{%- endif -%}
    {%- endfor -%}
    {%- for lookup in spec.get('lookups', []) -%}
        {%- do carried.append(lookup.name) -%}
    {%- endfor -%}
    {%- for column, parent in refs_joined -%}
        {%- do carried.append('known_' ~ column) -%}
    {%- endfor -%}
    {%- set payload -%}
        {% for column in columns -%}
        '{{ column }}=' || {{ quarantine_payload_value(column, spec.columns[column]) }}{% if not loop.last %} || '; ' || {% endif %}
        {%- endfor %}
    {%- endset -%}
    with hashed_raw_rows as {{ output_kpis.not_materialized() }} (
        {{ output_kpis.hashed_raw_rows_sql(source_name, table_name) }}
    ),
    {%- if incremental %}

    {{ output_kpis.rebuilt_key_groups(source_name, table_name, 'hashed_raw_rows') }}
    {%- endif %}

    raw_rows as {{ output_kpis.not_materialized() }} (
        select *
        from hashed_raw_rows
        {%- if incremental %}
        where key_hash in (select key_hash from rebuilt_key_groups)
        {%- endif %}
    ),

    {#- Keys held by more than one raw row: only their rows can have a conflicting key. #}
    repeated_keys as (
        select
            {%- for column in key %}
            {{ column }} as repeated_{{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from raw_rows
        group by {{ key | join(', ') }}
        having count(*) > 1
    ),

    {#-
        may_repeat = 0: the row's key is held by no other row, so no other row has the same
        payload either (the payload escapes the separator in values, quarantine_payload_value,
        so equal payloads have equal values, hence the same key; a null or blank key is
        quarantined as null_key before the duplicate rules). Such a row has no key conflict
        and is the first copy of its payload, so the windows below run only on the others.
    #}
    flagged as (
        select
            raw_rows.*,
            {#- x_<col>: a typed column's raw value as trimmed text, null when blank #}
            {%- for column, type in spec.columns.items() if type != 'string' %}
            {{ output_kpis.timestamp_text(column) }} as x_{{ column }},
            {%- endfor %}
            {#- w_<col>: a utc column's wall time (zone dropped), parsed once: its instant and
                the uncastable_value rule both read it #}
            {%- for column, type in spec.columns.items() if type == 'utc' %}
            {{ output_kpis.iso_wall_time(output_kpis.timestamp_text(column)) }} as w_{{ column }},
            {%- endfor %}
            case
                when repeated_keys.repeated_{{ key[0] }} is not null then 1
                else 0
            end as may_repeat
        from raw_rows
        left join repeated_keys
            on
                {%- for column in key %}
                {% if not loop.first %}and {% endif %}raw_rows.{{ column }} = repeated_keys.repeated_{{ column }}
                {%- endfor %}
    ),

    {#- read by both branches of `windowed`: recomputed per branch rather than copied (each
        branch keeps only its own rows) #}
    typed as {{ output_kpis.not_materialized() }} (
        select
            row_hash,
            key_hash,
            {%- for column, type in spec.columns.items() %}
            {{ column }},
            {%- if type == 'utc' %}
            x_{{ column }},
            w_{{ column }},
            {{ quarantine_typed(column, type, 'x_' ~ column, 'w_' ~ column) }} as t_{{ column }},
            {%- elif type != 'string' %}
            x_{{ column }},
            {{ quarantine_typed(column, type, 'x_' ~ column) }} as t_{{ column }},
            {%- else %}
            {{ quarantine_typed(column, type) }} as t_{{ column }},
            {%- endif %}
            {%- endfor %}
            {%- for lookup in spec.get('lookups', []) %}
            {{ lookup.name }}.lookup_value as {{ lookup.name }},
            {%- endfor %}
            {%- for column, parent in refs_joined %}
            known_{{ column }}.ref_key as known_{{ column }},
            {%- endfor %}
            may_repeat
        from flagged as raw_rows
        {{- output_kpis.lookup_joins(spec.get('lookups', []), 'raw_rows') }}
        {%- for column, parent in refs_joined %}
        left join (
            select distinct cast({{ parent[2] }} as {{ string }}) as ref_key
            from {{ output_kpis.kept_rows(parent[1]) }}
            where {{ parent[2] }} is not null
        ) as known_{{ column }}
            on cast(raw_rows.{{ column }} as {{ string }}) = known_{{ column }}.ref_key
        {%- endfor %}
    ),

    {#- Key conflicts (same key, different payloads) and exact copies (same payload). #}
    windowed as (
        select
            {{ carried | join(', ') }},
            false as has_key_conflict,
            cast(1 as {{ dbt.type_bigint() }}) as copy_number
        from typed
        where may_repeat = 0
        union all
        select
            {{ carried | join(', ') }},
            min(payload) over (partition by {{ key | join(', ') }})
            <> max(payload) over (partition by {{ key | join(', ') }}) as has_key_conflict,
            row_number() over (partition by payload order by payload) as copy_number
        from (
            select
                *,
                {{ payload }} as payload
            from typed
            where may_repeat = 1
        ) as repeats
    ),

    {#- The rules in the order they are tried: (condition, reason code, detail). -#}
    {%- set rules = [] -%}
    {#- t_<col> of a string column and x_<col> of a typed one are null when blank. #}
    {%- for column in key -%}
        {%- do rules.append((('t_' if spec.columns[column] == 'string' else 'x_') ~ column
            ~ ' is null', 'null_key', column)) -%}
    {%- endfor -%}
    {#- An empty or blank value is a null (t_<col> is null): never an invalid identifier. #}
    {%- for column in spec.get('ids', key) -%}
        {%- set text = 't_' ~ column if spec.columns[column] == 'string'
            else 'x_' ~ column -%}
        {%- do rules.append(('not ' ~ regex_matches(text, '^[A-Za-z0-9_.:-]+$'),
            'invalid_identifier', column)) -%}
    {%- endfor -%}
    {#- A utc column's t_ is null both for text that is no ISO-8601 timestamp (uncastable) and
        for a wall time without a zone (timestamp_without_time_zone): the first reads the wall
        time alone. #}
    {%- for column, type in spec.columns.items() if type != 'string' -%}
        {%- if type == 'utc' -%}
            {%- set unreadable = 'w_' ~ column ~ ' is null' -%}
        {%- else -%}
            {%- set unreadable = 't_' ~ column ~ ' is null' -%}
        {%- endif -%}
        {%- do rules.append(('x_' ~ column ~ ' is not null and ' ~ unreadable,
            'uncastable_value', column ~ ': not a ' ~ type)) -%}
    {%- endfor -%}
    {%- for column, type in spec.columns.items() if type == 'utc' -%}
        {%- do rules.append(('x_' ~ column ~ ' is not null and t_' ~ column ~ ' is null',
            'timestamp_without_time_zone', column)) -%}
    {%- endfor -%}
    {%- for column, values in spec.get('enums', {}).items() -%}
        {#- a coded column a rule reads must hold a code: empty ('' is null) is missing -#}
        {%- if column not in spec.get('optional', {}) and column not in spec.get('nullable', []) -%}
            {%- do rules.append(('t_' ~ column ~ ' is null', 'missing_value', column ~ ' is empty')) -%}
        {%- endif -%}
        {%- do rules.append((output_kpis.normalized_code('t_' ~ column) ~ " not in ('"
            ~ values | join("', '") ~ "')", 'unknown_value', column)) -%}
    {%- endfor -%}
    {%- do rules.append(('has_key_conflict', 'conflicting_duplicate_key', key | join(', '))) -%}
    {%- do rules.append(('copy_number > 1', 'duplicate_row', 'exact copy of an earlier row')) -%}
    {%- for check in spec.get('checks', []) -%}
        {%- do rules.append((check.when, check.reason, check.detail | default(check.reason))) -%}
    {%- endfor -%}
    {#- A reference into a disabled domain's table is not checked (the table is not read). A
        reference is checked against the parent's staged rows, so the rows of a quarantined
        parent are quarantined with it instead of failing a relationships test later. -#}
    {%- for column, parent in refs -%}
        {%- if refs_joined -%}
            {%- set unknown = 'known_' ~ column ~ ' is null' -%}
        {%- else -%}
            {%- set unknown = 't_' ~ column ~ ' not in (select cast(' ~ parent[2] ~ ' as '
                ~ string ~ ') from ' ~ output_kpis.kept_rows(parent[1]) ~ ' where ' ~ parent[2]
                ~ ' is not null)' -%}
        {%- endif -%}
        {%- do rules.append(('t_' ~ column ~ ' is not null and ' ~ unknown, 'unknown_reference',
            column ~ ' -> ' ~ parent[1] ~ '.' ~ parent[2])) -%}
    {%- endfor -%}
    {%- for column, type in spec.columns.items()
        if type in ('utc', 'timestamp') and column not in spec.get('future_ok', []) -%}
        {%- do rules.append(('t_' ~ column ~ ' > ' ~ future_limit, 'future_timestamp', column)) -%}
    {%- endfor -%}
    {#- Dates before var output_kpis_min_plausible_date: placeholders for "no date" (1900-01-01,
        0001-01-01) and typos; the calendar spans the data, so one such row would stretch it. -#}
    {%- set min_date = output_kpis.min_plausible_date() -%}
    {%- for column, type in spec.columns.items() if type in ('utc', 'timestamp', 'date') -%}
        {%- do rules.append(('t_' ~ column ~ " < cast('" ~ min_date ~ "' as "
            ~ ('date' if type == 'date' else 'timestamp') ~ ')', 'implausible_date',
            column ~ ' before ' ~ min_date)) -%}
    {%- endfor %}

    {#- Each condition is evaluated once per row: the reason and detail read the rule number. #}
    ruled as (
        select
            *,
            case
                {%- for condition, reason, detail in rules %}
                when {{ condition }} then {{ loop.index }}
                {%- endfor %}
            end as quarantine_rule
        from windowed
    ),

    checked as (
        select
            *,
            case quarantine_rule
                {%- for condition, reason, detail in rules %}
                when {{ loop.index }} then '{{ reason }}'
                {%- endfor %}
            end as quarantine_reason,
            case quarantine_rule
                {%- for condition, reason, detail in rules %}
                when {{ loop.index }} then '{{ detail }}'
                {%- endfor %}
            end as quarantine_detail,
            {#- only a quarantined row carries its key and payload as text #}
            case when quarantine_rule is not null then
                {{ quarantine_text(key[0]) }}{% for column in key[1:] %} || '|' || {{ quarantine_text(column) }}{% endfor %}
            end as record_key,
            case when quarantine_rule is not null then {{ payload }} end as payload,
            {{ output_kpis.lookup_hash(spec.get('lookups', []), joined=false) }} as lookup_hash
        from ruled
    )
{%- endmacro %}


{% macro quarantine_text(column) -%}
    coalesce(cast({{ column }} as {{ dbt.type_string() }}), '')
{%- endmacro %}


{% macro quarantine_payload_value(column, type='string') -%}
    {#- A raw value as payload text, escaped so that the payload is unambiguous: '%' -> '%25'
        and ';' -> '%3B' (URL style), so '; ' occurs only between values and two rows have
        equal payloads only when every value is equal (null and empty both ''). A typed
        column's value holding '%' or ';' is uncastable_value, so only a string column's
        value can make two different rows look alike: only those are escaped (a smaller
        query). -#}
    {%- if type == 'string' -%}
        replace(replace({{ quarantine_text(column) }}, '%', '%25'), ';', '%3B')
    {%- else -%}
        {{ quarantine_text(column) }}
    {%- endif -%}
{%- endmacro %}


{% macro quarantine_typed(column, type, text=none, wall=none) -%}
    {#- The typed value of a raw column, or null when it is empty, blank or cannot be read as
        that type (cast_patterns: the same shapes on every engine). utc: ISO-8601 with Z or a
        UTC offset -> the UTC instant (a wall time without a zone is null unless var
        output_kpis_naive_timestamps_are_utc); timestamp (site-local): the wall time as
        written, an offset dropped (staging converts it, site_local_to_utc). text: the
        column as trimmed text (timestamp_text), when the caller has it already; wall: its
        wall time (iso_wall_time) likewise, for a utc column. -#}
    {%- set text = text or output_kpis.timestamp_text(column) -%}
    {%- if type == 'string' -%}
        {{ output_kpis.blank_as_null(column) }}
    {%- elif type == 'utc' -%}
        {{ output_kpis.utc_text_to_timestamp(text, wall) }}
    {%- elif type == 'timestamp' -%}
        {{ output_kpis.iso_wall_time(text) }}
    {%- elif type in ('integer', 'number', 'date', 'boolean') -%}
        {{ cast_or_null(text, output_kpis.quarantine_column_type(type)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("quarantine type must be string, integer, number, date, timestamp, utc or boolean; got '" ~ type ~ "' for " ~ column) }}
    {%- endif -%}
{%- endmacro %}


{% macro blank_as_null(column) -%}
    {#- A raw value as text, as written, or null when it is empty or blank. -#}
    case
        when trim(cast({{ column }} as {{ dbt.type_string() }})) <> ''
            then cast({{ column }} as {{ dbt.type_string() }})
    end
{%- endmacro %}


{% macro quarantine_clean_value(column, type) -%}
    {#- What clean_source hands to staging for a clean row: the typed value t_<col>, except a
        site-local timestamp, whose trimmed text x_<col> (blank as null) keeps an offset for
        staging to honour (site_local_to_utc needs the site's zone, which the quarantine does
        not know). -#}
    {%- if type == 'timestamp' -%}
        x_{{ column }}
    {%- else -%}
        t_{{ column }}
    {%- endif -%}
{%- endmacro %}


{% macro cast_patterns() -%}
    {#- The one list of shapes a text value must have to be cast, on every engine (DuckDB's
        try_cast alone rounds '3.5' to 4 and reads '0x10' as 16; Postgres' cast raises):
        integer = optional sign and 1 to 9 digits; double precision = decimal digits with an
        optional exponent of up to 3 digits (no hex, inf or nan); date = YYYY-MM-DD; timestamp
        = YYYY-MM-DD, T or a blank, HH:MM, optional :SS and fraction; boolean (read
        lower-cased) = true, false, t, f, 0 or 1; utc_offset = the zone suffix of an ISO-8601 timestamp (Z, +HH,
        +HHMM or +HH:MM, or -); iso_timestamp = a timestamp with an optional zone. -#}
    {#- A year other than 0000, a month 01-12, a day 01-31 (the calendar check of each engine
        rejects 02-30), an hour 00-23 (DuckDB would read 24:00 as the next midnight). -#}
    {%- set day = '([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' -%}
    {%- set clock = '([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?' -%}
    {{ return({
        'integer': '^[+-]?[0-9]{1,9}$',
        'double precision': '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$',
        'date': '^' ~ day ~ '$',
        'timestamp': '^' ~ day ~ '[ T]' ~ clock ~ '$',
        'boolean': '^(true|false|t|f|0|1)$',
        'utc_offset': '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$',
        'iso_timestamp': '^' ~ day ~ '[ T]' ~ clock ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$',
    }) }}
{%- endmacro %}


{% macro cast_or_null(expr, type) -%}
    {#- expr (text, trimmed) as type when it has the type's shape (cast_patterns), else null. -#}
    {%- set subject = 'lower(' ~ expr ~ ')' if type == 'boolean' else expr -%}
    case
        when {{ output_kpis.regex_matches(subject, output_kpis.cast_patterns()[type]) }}
            then {{ adapter.dispatch('cast_shaped', 'output_kpis')(subject, type) }}
    end
{%- endmacro %}

{% macro default__cast_shaped(expr, type) -%}
    {#- try_cast still: a well-shaped value out of range (2025-02-30) is null, not an error;
        a double beyond the largest one (1e999 reads as infinity) is null too. -#}
    {%- set cast = 'try_cast(' ~ expr ~ ' as ' ~ output_kpis.engine_type(type) ~ ')' -%}
    {%- if type == 'double precision' -%}
        case when abs({{ cast }}) <= 1.7976931348623157e308 then {{ cast }} end
    {%- else -%}
        {{ cast }}
    {%- endif -%}
{%- endmacro %}

{% macro postgres__cast_shaped(expr, type) -%}
    {#- Postgres has no try_cast: the shape check before it keeps the cast safe, and for a date
        or timestamp the calendar check below (a well-shaped 2025-02-30, 0000-01-01 or 24:00
        would raise). Each step is a nested case: Postgres evaluates an `and` in any order, a
        case in order. A double goes through numeric, which reads any exponent the shape allows,
        so 1e999 is null instead of an overflow. -#}
    {%- if type in ('date', 'timestamp') -%}
        {#- (replace, not format: expr may hold a regex with braces) -#}
        {%- set part = "cast(nullif(substr(" ~ expr ~ ", @, 2), '') as integer)" -%}
        case when cast(substr({{ expr }}, 1, 4) as integer) >= 1
            and {{ part | replace('@', '6') }} between 1 and 12 then
            case when {{ part | replace('@', '9') }} between 1 and extract(day from
                make_date(cast(substr({{ expr }}, 1, 4) as integer), {{ part | replace('@', '6') }}, 1)
                + interval '1 month - 1 day')
                and coalesce({{ part | replace('@', '12') }}, 0) < 24
                and coalesce({{ part | replace('@', '15') }}, 0) < 60
                and coalesce({{ part | replace('@', '18') }}, 0) < 60
                then cast({{ expr }} as {{ type }})
            end
        end
    {%- elif type == 'double precision' -%}
        case when abs(cast({{ expr }} as numeric)) <= 1e308
            then cast({{ expr }} as double precision) end
    {%- else -%}
        cast({{ expr }} as {{ type }})
    {%- endif -%}
{%- endmacro %}


{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'output_kpis')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expr, pattern) -%}
    coalesce(regexp_matches({{ expr }}, '{{ pattern }}'), true)
{%- endmacro %}

{% macro postgres__regex_matches(expr, pattern) -%}
    coalesce(({{ expr }}) ~ '{{ pattern }}', true)
{%- endmacro %}

{% macro spark__regex_matches(expr, pattern) -%}
    coalesce(({{ expr }}) rlike '{{ pattern }}', true)
{%- endmacro %}


{% macro source_column_names(source_name, table_name) -%}
    {#- The lower-cased column names of a raw table, or none where they cannot be known: while
        parsing, and in a dbt unit test (the source is a fixture CTE). -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and flags.WHICH in ['run', 'build', 'retry']
        and not (relation | string).startswith('__dbt__cte__') -%}
        {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name')
            | map('lower') | list) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{% macro absent_source_columns(source_name, table_name) -%}
    {#- The optional columns (quarantine_spec `optional`) the raw table does not have: the
        quarantine adds each as its stated default. -#}
    {%- set found = output_kpis.source_column_names(source_name, table_name) -%}
    {%- set absent = [] -%}
    {%- if found is not none and found | length > 0 -%}
        {%- for column in quarantine_spec(table_name).get('optional', {}) -%}
            {%- if column | lower not in found -%}{%- do absent.append(column) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(absent) }}
{%- endmacro %}


{% macro required_source_columns(table_name) -%}
    {#- The columns a raw table must have under the current vars: every column that is not
        optional, plus the optional ones a var makes necessary (`required_by_var`: column ->
        (var, default, value): required when the var has that value). -#}
    {%- set spec = quarantine_spec(table_name) -%}
    {%- set required = [] -%}
    {%- for column in spec.columns -%}
        {%- set condition = spec.get('required_by_var', {}).get(column) -%}
        {%- if column not in spec.get('optional', {})
            or (condition and var(condition[0], condition[1]) == condition[2]) -%}
            {%- do required.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(required) }}
{%- endmacro %}


{% macro input_contract() -%}
    {#- What each raw table read by the enabled domains must and may hold (from quarantine_spec,
        under the current vars): docs/YOUR_DATA.md is checked against it. -#}
    {%- set contract = {} -%}
    {%- for source_name, table_name, staging_model in quarantine_tables() -%}
        {%- set spec = quarantine_spec(table_name) -%}
        {%- do contract.update({table_name: {
            'required': output_kpis.required_source_columns(table_name),
            'optional': spec.get('optional', {}),
            'one_of': spec.get('one_of', []),
            'required_by_var': spec.get('required_by_var', {}),
        }}) -%}
    {%- endfor -%}
    {{ return(contract) }}
{%- endmacro %}


{% macro print_input_contract() -%}
    {%- do log(tojson(output_kpis.input_contract()), info=true) -%}
{%- endmacro %}


{% macro check_source_columns(source_name, table_name) -%}
    {#- A structural problem stops the build with a message naming the raw table and the
        column, instead of a binder error deep inside a staging model: a missing table, a
        missing required column, none of a group of which one is needed (`one_of`), or an
        optional column left out while a column it must agree with is present (`absent_with`:
        column -> (table, column); e.g. no shipped_quantity while order lines carry
        ordered_quantity would never fill a line). -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = output_kpis.source_column_names(source_name, table_name) -%}
    {%- if found is not none -%}
        {%- set spec = quarantine_spec(table_name) -%}
        {%- set where = "raw table " ~ relation ~ " (source " ~ source_name ~ "." ~ table_name ~ ")" -%}
        {%- if found | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ " does not exist or has no columns"
                ~ output_kpis.absent_table_hint(table_name)) }}
        {%- endif -%}
        {%- set missing = [] -%}
        {%- for column in output_kpis.required_source_columns(table_name) -%}
            {%- if column | lower not in found -%}{%- do missing.append(column) -%}{%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(where ~ " is missing required column(s): "
                ~ missing | join(', ') ~ " (docs/YOUR_DATA.md lists what each KPI needs)") }}
        {%- endif -%}
        {%- for group in spec.get('one_of', []) -%}
            {%- if group | select('in', found) | list | length == 0 -%}
                {{ exceptions.raise_compiler_error(where ~ " needs at least one of the columns "
                    ~ group | join(', ')) }}
            {%- endif -%}
        {%- endfor -%}
        {%- for column, other in spec.get('absent_with', {}).items() if column not in found -%}
            {%- if output_kpis.raw_table_present(other[1])
                and other[2] in (output_kpis.source_column_names(other[0], other[1]) or []) -%}
                {{ exceptions.raise_compiler_error(where ~ " has no column " ~ column ~ " but "
                    ~ other[1] ~ " has " ~ other[2] ~ ": give both or neither") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{% macro references_by_join() -%}
    {{ return(adapter.dispatch('references_by_join', 'output_kpis')()) }}
{%- endmacro %}

{% macro default__references_by_join() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__references_by_join() -%}
    {#- Spark runs `x not in (select ...)` inside a case expression as a null-aware nested loop
        over both tables (minutes on the demo); a left join on the distinct keys is a hash join. -#}
    {{ return(true) }}
{%- endmacro %}
