with source as (
    select * from {{ clean_source('mes', 'mes_defects') }}
),

final as (
    select
        cast(defect_id as {{ output_kpis.type_text() }}) as defect_id,
        cast(event_id as {{ output_kpis.type_text() }}) as event_id,
        upper(cast(defect_code as {{ output_kpis.type_text() }})) as defect_code,
        classified_at
    from source
)

select * from final
