with source as (
    select * from {{ clean_source('mes', 'mes_work_orders') }}
),

lines as (
    select * from {{ ref('stg_mes__lines') }}
),

sites as (
    select * from {{ ref('stg_mes__sites') }}
),

final as (
    select
        cast(source.work_order_id as {{ output_kpis.type_text() }}) as work_order_id,
        cast(source.line_id as {{ output_kpis.type_text() }}) as line_id,
        lines.site_id,
        cast(source.product_code as {{ output_kpis.type_text() }}) as product_code,
        cast(source.planned_quantity as integer) as planned_quantity,
        {{ output_kpis.site_local_to_utc('source.released_local', 'sites.site_time_zone') }}
            as released_at
    from source
    left join lines on cast(source.line_id as {{ output_kpis.type_text() }}) = lines.line_id
    left join sites on lines.site_id = sites.site_id
)

select * from final
