with source as (
    select * from {{ clean_source('mes', 'mes_defects') }}
),

deduplicated as (
    select * from {{ deduplicate('source', 'defect_id', 'event_id') }} as ranked
    where dedupe_rank = 1
),

final as (
    select
        cast(defect_id as {{ output_kpis.type_text() }}) as defect_id,
        cast(event_id as {{ output_kpis.type_text() }}) as event_id,
        upper(cast(defect_code as {{ output_kpis.type_text() }})) as defect_code
    from deduplicated
)

select * from final
