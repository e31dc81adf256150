{#- Every raw row that breaks a quarantine rule (macros/quarantine_rules.sql), from every raw
    table, with the rule it broke and its raw payload. Staging reads only the other rows, so
    raw rows = staged rows + quarantined rows per table (tests/staging). -#}
with
{%- for source_name, table_name, staging_model in quarantine_tables() %}
    {{ table_name }} as (
        select * from {{ quarantined_source(source_name, table_name) }}
    ),
{%- endfor %}

final as (
    {%- for source_name, table_name, staging_model in quarantine_tables() %}
        select
            source_table,
            record_key,
            quarantine_reason,
            quarantine_detail,
            payload
        from {{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
