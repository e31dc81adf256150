{#- Targets as stated in the seeds (outcome_targets, output_targets), one row per period they
    apply to: a row covers every period of its grain whose start lies in valid_from..valid_to
    (open-ended when valid_to is empty), up to the period holding as_of. -#}
with outcome_targets as (
    select * from {{ ref('outcome_targets') }}
),

output_targets as (
    select * from {{ ref('output_targets') }}
),

periods as (
    select * from {{ ref('int_calendar__periods') }}
),

stated as (
    select
        *,
        'outcome_target' as target_source
    from outcome_targets
    union all
    select
        *,
        'explicit' as target_source
    from output_targets
),

final as (
    select
        stated.kpi_id,
        stated.grain,
        periods.period_start,
        stated.dimension_name,
        stated.dimension_value,
        cast(stated.target_value as {{ output_kpis.type_double() }}) as target_value,
        stated.target_source,
        stated.note
    from stated
    inner join periods
        on
            stated.grain = periods.grain
            and stated.valid_from <= periods.period_start
            and (stated.valid_to is null or stated.valid_to >= periods.period_start)
)

select * from final
