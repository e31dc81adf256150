-- The consumer's mapping (what a user writes once, in their EL tool or warehouse): the raw
-- nycflights13 tables as the two raw tables output_kpis reads, with the package's column names.
-- Column contract: docs/YOUR_DATA.md. Timestamps are ISO-8601 UTC text ending in Z.
create schema if not exists flight_ops;

-- Four destinations (Puerto Rico, US Virgin Islands) are missing from nycflights13.airports.
create or replace view flight_ops.destination_zones as
select faa, tzone as time_zone from nycflights13.airports where tzone is not null
union all
select * from (values
    ('BQN', 'America/Puerto_Rico'), ('SJU', 'America/Puerto_Rico'),
    ('PSE', 'America/Puerto_Rico'), ('STT', 'America/St_Thomas')
) as missing (faa, time_zone);

-- Every scheduled flight: its key, flight date and scheduled arrival instant. Times in the
-- dataset are local HHMM (departure at the New York origin, arrival at the destination); the
-- arrival is on the departure date or, when that would be before the departure, the next day.
create or replace view flight_ops.flight_schedule as
with flights as (
    select
        f.*,
        make_date(f.year, f.month, f.day) as flight_date,
        z.time_zone as destination_zone
    from nycflights13.flights as f
    left join flight_ops.destination_zones as z on f.dest = z.faa
),

instants as (
    select
        *,
        timezone('UTC', timezone('America/New_York', flight_date + make_time(
            sched_dep_time // 100, sched_dep_time % 100, 0
        ))) as scheduled_departure_utc,
        timezone('UTC', timezone(destination_zone, flight_date + make_time(
            sched_arr_time // 100, sched_arr_time % 100, 0
        ))) as same_day_arrival_utc
    from flights
)

select
    strftime(flight_date, '%Y-%m-%d') || ':' || carrier || flight || ':' || origin as flight_id,
    flight_date,
    case
        when same_day_arrival_utc >= scheduled_departure_utc then same_day_arrival_utc
        else timezone('UTC', timezone(destination_zone, (flight_date + 1) + make_time(
            sched_arr_time // 100, sched_arr_time % 100, 0
        )))
    end as scheduled_arrival_utc,
    arr_delay
from instants;

-- The unit: one order line per scheduled flight, promised for its scheduled arrival and
-- reported on its flight date (BTS reports by flight date). Cancelled flights stay in: BTS
-- counts them as not on time, so they are open lines, never delivered, not cancelled lines.
create or replace view flight_ops.scheduled_flights as
select
    flight_id as order_line_id,
    strftime(flight_date, '%Y-%m-%d') as first_promised_date,
    strftime(scheduled_arrival_utc, '%Y-%m-%dT%H:%M:%SZ') as first_promised_at
from flight_ops.flight_schedule;

-- The delivery: the gate arrival of every flight that arrived (arr_delay known: not
-- cancelled, not diverted), at the scheduled arrival plus the dataset's arrival delay.
create or replace view flight_ops.flight_arrivals as
select
    flight_id as shipment_id,
    flight_id as order_line_id,
    strftime(
        scheduled_arrival_utc + to_minutes(arr_delay), '%Y-%m-%dT%H:%M:%SZ'
    ) as delivered_at
from flight_ops.flight_schedule
where arr_delay is not null;
