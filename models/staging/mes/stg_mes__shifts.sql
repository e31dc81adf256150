{#- Site-local wall clock as written: the shift's UTC boundaries need its site's time zone, from
    another table, so int_manufacturing__shifts converts them (staging reads one source). -#}
with source as (
    select * from {{ clean_source('mes', 'mes_shifts') }}
),

final as (
    select
        cast(shift_id as {{ output_kpis.type_text() }}) as shift_id,
        cast(line_id as {{ output_kpis.type_text() }}) as line_id,
        cast(shift_date as date) as shift_date,
        cast(shift_code as {{ output_kpis.type_text() }}) as shift_code,
        cast(shift_start_local as {{ output_kpis.type_text() }}) as shift_start_local,
        cast(shift_end_local as {{ output_kpis.type_text() }}) as shift_end_local,
        cast(planned_downtime_minutes as integer) as planned_downtime_minutes,
        cast(unplanned_downtime_minutes as integer) as unplanned_downtime_minutes,
        classified_at
    from source
)

select * from final
