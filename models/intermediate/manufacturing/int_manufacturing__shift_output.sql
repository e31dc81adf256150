{#- One row per scheduled shift: good units completed in it and its operating time.
    Operating time = shift length - planned downtime (unplanned downtime stays in: it is the loss
    throughput should reveal). A unit counts in the shift in which it completed. -#}
with shifts as (
    select * from {{ ref('int_manufacturing__shifts') }}
),

completed_units as (
    select * from {{ ref('int_manufacturing__completed_units') }}
),

good_units_per_shift as (
    select
        completed_shift_id as shift_id,
        count(*) as good_unit_count
    from completed_units
    where is_good_unit
    group by completed_shift_id
),

final as (
    select
        shifts.shift_id,
        shifts.line_id,
        shifts.site_id,
        shifts.shift_date,
        shifts.shift_code,
        shifts.shift_start_at,
        shifts.shift_end_at,
        shifts.planned_downtime_minutes,
        shifts.unplanned_downtime_minutes,
        greatest(
            {{ minutes_between('shifts.shift_start_at', 'shifts.shift_end_at') }}
            - shifts.planned_downtime_minutes,
            0
        ) as operating_minutes,
        coalesce(good_units_per_shift.good_unit_count, 0) as good_unit_count
    from shifts
    left join good_units_per_shift on shifts.shift_id = good_units_per_shift.shift_id
)

select
    *,
    operating_minutes > 0 as is_producing_shift,
    {{ safe_divide('good_unit_count * 60.0', 'operating_minutes') }} as throughput_rate
from final
