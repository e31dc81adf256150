-- Exact reconciliation: for every raw table, raw rows = rows staged + rows quarantined, and its
-- base model (where the quarantine classifies each raw row once) holds every raw row once.
-- A failing row names the table and the difference (raw - staged - quarantined).
{%- for source_name, table_name, staging_model in quarantine_tables() %}
    select
        '{{ source_name }}.{{ table_name }}' as source_table,
        raw_rows,
        staged_rows,
        quarantined_rows,
        base_rows,
        raw_rows - staged_rows - quarantined_rows as difference
    from (
        select
            (select count(*) from {{ source(source_name, table_name) }}) as raw_rows,
            (select count(*) from {{ ref(staging_model) }}) as staged_rows,
            (
                select count(*) from {{ ref(output_kpis.base_model_of(table_name)) }}
            ) as base_rows,
            (
                select count(*) from {{ ref('stg_quarantine__rows') }}
                where source_table = '{{ source_name }}.{{ table_name }}'
            ) as quarantined_rows
    ) as counts
    where raw_rows <> staged_rows + quarantined_rows or raw_rows <> base_rows
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
