{#- Exact re-deliveries of an event_id are quarantined by the base model (the first copy is
    kept, conflicting copies all go), so event_id is unique here without a dedupe window (tested:
    unique). The event's site-local wall clock stays as written: its UTC instant needs the
    site's time zone, from other tables, so int_manufacturing__event_scans converts it
    (staging reads one source). -#}
with source as (
    select * from {{ clean_source('mes', 'mes_unit_events') }}
),

final as (
    select
        cast(event_id as {{ output_kpis.type_text() }}) as event_id,
        cast(serial_number as {{ output_kpis.type_text() }}) as serial_number,
        cast(work_order_id as {{ output_kpis.type_text() }}) as work_order_id,
        cast(step_code as {{ output_kpis.type_text() }}) as step_code,
        {{ output_kpis.normalized_code('event_type') }} as event_type,
        nullif({{ output_kpis.normalized_code('result') }}, '') as event_result,
        cast(event_local as {{ output_kpis.type_text() }}) as event_local,
        cast(station_id as {{ output_kpis.type_text() }}) as station_id,
        classified_at
    from source
)

select * from final
