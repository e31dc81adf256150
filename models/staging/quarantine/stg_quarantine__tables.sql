{#- Per raw table: its raw rows, the rows quarantined and their share, against the flood limit
    (vars output_kpis_max_quarantine_share, output_kpis_quarantine_flood_min_rows). A table
    over the limit fails the test assert_quarantine_below_flood_limit, so the build is not
    published; below it, quarantined rows never block publishing (the publish step reports
    them from this table). -#}
{%- set max_share = output_kpis.number_var('output_kpis_max_quarantine_share', 0.05) -%}
{%- set min_rows = output_kpis.number_var('output_kpis_quarantine_flood_min_rows', 10) -%}
with quarantined_rows as (
    select * from {{ ref('stg_quarantine__rows') }}
),

quarantined_counts as (
    select
        source_table,
        count(*) as quarantined_rows
    from quarantined_rows
    group by source_table
),

raw_counts as (
    {%- for source_name, table_name, staging_model in quarantine_tables() %}
        select
            '{{ source_name }}.{{ table_name }}' as source_table,
            count(*) as raw_rows
        from {{ source(source_name, table_name) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

shares as (
    select
        raw_counts.source_table,
        cast(raw_counts.raw_rows as {{ dbt.type_bigint() }}) as raw_rows,
        cast(coalesce(quarantined_counts.quarantined_rows, 0) as {{ dbt.type_bigint() }})
            as quarantined_rows,
        case
            when raw_counts.raw_rows > 0
                then
                    cast(
                        coalesce(quarantined_counts.quarantined_rows, 0)
                        as {{ output_kpis.type_double() }}
                    )
                    / raw_counts.raw_rows
            else 0
        end as quarantined_share
    from raw_counts
    left join quarantined_counts on raw_counts.source_table = quarantined_counts.source_table
),

final as (
    select
        source_table,
        raw_rows,
        quarantined_rows,
        quarantined_share,
        cast({{ max_share }} as {{ output_kpis.type_double() }}) as max_quarantined_share,
        quarantined_share > {{ max_share }} and quarantined_rows >= {{ min_rows }}
            as is_flood
    from shares
)

select * from final
