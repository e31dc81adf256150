with source as (
    select * from {{ clean_source('mes', 'mes_sites') }}
),

final as (
    select
        cast(site_id as {{ output_kpis.type_text() }}) as site_id,
        cast(site_name as {{ output_kpis.type_text() }}) as site_name,
        -- var output_kpis_site_time_zones overrides the MES zone of the sites it names
        cast(
            {{ output_kpis.site_time_zone('site_id', 'time_zone') }}
            as {{ output_kpis.type_text() }}
        ) as site_time_zone,
        cast(country as {{ output_kpis.type_text() }}) as country_code,
        classified_at
    from source
)

select * from final
