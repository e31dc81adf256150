{#- Spark (dbt-spark) overrides of dbt's own macros, used when this package is the root
    project (a project installing it adds output_kpis to its dispatch search order for the
    dbt namespace). The yml files spell column types as DuckDB and Postgres do (varchar,
    double precision); these map them to Spark's before dbt casts to them. -#}

{% macro spark__get_empty_schema_sql(columns) -%}
    {#- Contract check: the yml side is `select cast(null as <data_type>) ...`. -#}
    {%- set mapped = {} -%}
    {%- for name in columns -%}
        {%- set column = columns[name].copy() if columns[name] is mapping else columns[name] -%}
        {%- if column.get('data_type') is not none -%}
            {%- do column.update({'data_type': output_kpis.engine_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do mapped.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(mapped)) }}
{%- endmacro %}

{% macro spark__safe_cast(field, type) -%}
    {#- Unit-test fixtures cast each value to the input's yml data_type: map it first (else
        as dbt-spark's own safe_cast). -#}
    {%- set type = output_kpis.engine_type(type) -%}
    {%- set lowered = type | lower | trim -%}
    {%- set nested = lowered.startswith('struct') or lowered.startswith('array')
        or lowered.startswith('map') -%}
    {%- set field_clean = field.strip('"').strip("'") if (nested and field is string) else field -%}
    cast({{ field_clean }} as {{ type }})
{%- endmacro %}

{% macro spark_seed_column_types(model, agate_table) -%}
    {#- Spark type of each seed column: column_types (mapped by engine_type) or inferred. -#}
    {%- set overrides = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for name in agate_table.column_names -%}
        {%- set inferred = adapter.convert_type(agate_table, loop.index0) -%}
        {%- do types.append(output_kpis.engine_type(overrides.get(name, inferred))) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) -%}
    {%- set types = output_kpis.spark_seed_column_types(model, agate_table) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- set sql -%}
        create table {{ this.render() }} (
            {%- for name in agate_table.column_names %}
            {{ adapter.quote_seed_column(name | string, quote_seed_column) }} {{ types[loop.index0] }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        )
        {{ file_format_clause() }}
        {{ location_clause() }}
    {%- endset -%}
    {%- call statement('_') -%}
        {{ sql }}
    {%- endcall -%}
    {{ return(sql) }}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {#- dbt-spark's loader binds values in session mode as '<value>' with no escaping: a null
        becomes the text 'None' and a quote breaks the statement. Render SQL literals instead
        (null, or a backslash-escaped string) and cast once per column in a select. -#}
    {%- set types = output_kpis.spark_seed_column_types(model, agate_table) -%}
    {%- set names = [] -%}
    {%- set casts = [] -%}
    {%- for name in agate_table.column_names -%}
        {%- do names.append('c' ~ loop.index0) -%}
        {%- do casts.append('cast(c' ~ loop.index0 ~ ' as ' ~ types[loop.index0] ~ ')') -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set tuples = [] -%}
        {%- for row in chunk -%}
            {%- set cells = [] -%}
            {%- for value in row -%}
                {%- if value is none -%}
                    {%- do cells.append('null') -%}
                {%- else -%}
                    {%- do cells.append("'" ~ (value | string | replace('\\', '\\\\')
                        | replace("'", "\\'")) ~ "'") -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do tuples.append('(' ~ cells | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' select ' ~ casts | join(', ')
            ~ ' from values ' ~ tuples | join(', ') ~ ' as seed_rows (' ~ names | join(', ')
            ~ ')' -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
