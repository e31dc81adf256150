{% macro deduplicate(relation, partition_by, order_by) -%}
    {#- Keeps one row per key: the first by order_by. Portable (no QUALIFY) so Postgres and
        Spark run it too; callers select their columns explicitly, dropping dedupe_rank. -#}
    (
        select
            *,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as dedupe_rank
        from {{ relation }}
    )
{%- endmacro %}
