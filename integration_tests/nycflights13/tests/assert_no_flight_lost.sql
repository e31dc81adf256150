-- Every scheduled flight is a unit: none quarantined, none cancelled (BTS keeps cancelled
-- flights in the denominator), every one due by as_of. Returns the accounting rows that differ.
with flights as (
    select count(*) as scheduled from {{ source('nycflights13', 'flights') }}
),

lines as (
    select
        count(*) as units,
        count(*) filter (where line_status = 'due') as due,
        count(*) filter (where promise_precision = 'instant') as instant_promises
    from {{ ref('int_fulfilment__order_lines') }}
),

quarantined as (
    select count(*) as quarantined from {{ ref('stg_quarantine__rows') }}
)

select *
from flights
cross join lines
cross join quarantined
where
    units <> scheduled
    or due <> scheduled
    or instant_promises <> scheduled
    or quarantined <> 0
