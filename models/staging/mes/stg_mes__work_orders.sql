with source as (
    select * from {{ clean_source('mes', 'mes_work_orders') }}
),

lines as (
    select * from {{ ref('stg_mes__lines') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'work_order_id', 'released_local desc') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(deduplicated.work_order_id as {{ output_kpis.type_text() }}) as work_order_id,
        cast(deduplicated.line_id as {{ output_kpis.type_text() }}) as line_id,
        lines.site_id,
        cast(deduplicated.product_code as {{ output_kpis.type_text() }}) as product_code,
        cast(deduplicated.planned_quantity as integer) as planned_quantity,
        {{ local_to_utc('deduplicated.released_local', 'sites.site_time_zone') }} as released_at
    from deduplicated
    left join lines on cast(deduplicated.line_id as {{ output_kpis.type_text() }}) = lines.line_id
    left join sites on lines.site_id = sites.site_id
)

select * from final
