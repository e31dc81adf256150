{#- The unit of on-time delivery: an order line and its promise. A promised instant (a slot, a
    scheduled arrival) is met by a delivery at or before it plus the tolerance; a promised date
    by a delivery on that date in the customer's time zone, i.e. strictly before the next local
    midnight plus the tolerance (00:00:00 of the next day is late). The line is reported on its
    promised date (or the local date of its promised instant). Definitional choices are vars
    (docs/DEFINITIONS.md): on_time_promise_basis (first | revised), on_time_event (delivered |
    shipped), on_time_tolerance_minutes, on_time_early_window_days (null = early is fine).
    A line is on time when the delivery that brought it in full (or, if it never became full,
    its latest delivery) met the deadline; it is due once its deadline has passed. Open lines past their deadline
    count as late; cancelled lines are excluded and reported separately. Incremental per order
    line (strategy replace_units): a run computes the lines int_fulfilment__order_lines_to_build
    lists (all of them on a full build). -#}
{{ config(
    materialized=output_kpis.incremental_materialization(),
    incremental_strategy=output_kpis.incremental_strategy('replace_units'),
    partition_by=output_kpis.overwrite_partition_by('as_of_at'),
    units_to_build='int_fulfilment__order_lines_to_build',
    unique_key='order_line_id',
    on_schema_change='fail',
    post_hook=["{{ output_kpis.restamp_as_of(this) }}"],
) }}
{#- an earlier as_of than the table's fails the run (rows known then would linger) #}
{%- do output_kpis.previous_as_of() %}
{%- do output_kpis.check_units_selected_in_full('stg_oms__order_lines') %}
{%- set promise_basis = choice_var('on_time_promise_basis', ['first', 'revised'], 'first') -%}
{%- set delivery_event = choice_var('on_time_event', ['delivered', 'shipped'], 'delivered') -%}
{%- set tolerance_minutes = number_var('on_time_tolerance_minutes', 0) -%}
{%- set early_window_days = number_var('on_time_early_window_days', none, allow_null=true) -%}
{%- set default_time_zone = output_kpis.default_time_zone() -%}

with lines_to_build as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('int_fulfilment__order_lines_to_build') }}
),

orders as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__orders') }}
),

customers as (
    select * from {{ ref('stg_oms__customers') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

classified as (
    select max(classified_through) as sources_classified_at
    from lines_to_build
),

-- A full build takes every line (the list holds them all): no join.
order_lines as (
    select all_order_lines.*
    from {{ ref('stg_oms__order_lines') }} as all_order_lines
    {%- if is_incremental() %}
    inner join lines_to_build
        on all_order_lines.order_line_id = lines_to_build.order_line_id
    {%- endif %}
    where all_order_lines.order_line_id is not null
),

-- On a full build, shipments of unknown lines drop out at the inner join in line_deliveries.
shipments as (
    select all_shipments.*
    from {{ ref('stg_oms__shipments') }} as all_shipments
    {%- if is_incremental() %}
    inner join lines_to_build
        on all_shipments.order_line_id = lines_to_build.order_line_id
    {%- endif %}
),

-- Every staged shipment of the line, whenever delivered: stored, so that an incremental run
-- notices a shipment deleted or moved to another line.
shipment_counts as (
    {{ output_kpis.child_row_counts('shipments', 'order_line_id', 'shipment_count') }}
),

deliveries as (
    select
        shipments.order_line_id,
        shipments.shipment_id,
        shipments.shipped_quantity,
        shipments.{{ delivery_event }}_at as delivery_event_at
    from shipments
    cross join as_of
    where shipments.{{ delivery_event }}_at <= as_of.as_of_at
),

cumulative_deliveries as (
    select
        *,
        sum(shipped_quantity) over (
            partition by order_line_id
            order by delivery_event_at, shipment_id
            rows between unbounded preceding and current row
        ) as cumulative_quantity
    from deliveries
),

line_deliveries as (
    select
        cumulative_deliveries.order_line_id,
        sum(cumulative_deliveries.shipped_quantity) as delivered_quantity,
        max(cumulative_deliveries.delivery_event_at) as last_delivered_at,
        min(
            case
                when cumulative_deliveries.cumulative_quantity >= order_lines.ordered_quantity
                    then cumulative_deliveries.delivery_event_at
            end
        ) as completed_at
    from cumulative_deliveries
    inner join order_lines on cumulative_deliveries.order_line_id = order_lines.order_line_id
    group by cumulative_deliveries.order_line_id
),

-- The promise the KPI judges: the first one, or (basis revised) the latest re-promise when the
-- line has one; a promise is a date, an instant, or both (the instant then sets the deadline
-- and the date the reporting day).
promised as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_id,
        customers.customer_segment,
        coalesce(customers.customer_time_zone, '{{ default_time_zone }}') as customer_time_zone,
        orders.site_id,
        order_lines.ordered_quantity,
        order_lines.first_promised_date,
        order_lines.first_promised_at,
        order_lines.revised_promised_date,
        order_lines.revised_promised_at,
        {%- if promise_basis == 'revised' %}
        case
            when
                order_lines.revised_promised_date is not null
                or order_lines.revised_promised_at is not null
                then order_lines.revised_promised_date
            else order_lines.first_promised_date
        end as promise_date,
        case
            when
                order_lines.revised_promised_date is not null
                or order_lines.revised_promised_at is not null
                then order_lines.revised_promised_at
            else order_lines.first_promised_at
        end as promised_at,
        {%- else %}
            order_lines.first_promised_date as promise_date,
            order_lines.first_promised_at as promised_at,
        {%- endif %}
        order_lines.cancelled_at,
        coalesce(shipment_counts.shipment_count, 0) as shipment_count
    from order_lines
    left join shipment_counts on order_lines.order_line_id = shipment_counts.order_line_id
    left join orders on order_lines.order_id = orders.order_id
    left join customers on orders.customer_id = customers.customer_id
),

customer_zones as (
    select customer_time_zone from customers
    union
    select '{{ default_time_zone }}' as customer_time_zone
),

customer_offsets as (
    {{ output_kpis.time_zone_offsets('customer_zones', 'customer_time_zone', 'local') }}
),

instant_offsets as (
    {{ output_kpis.time_zone_offsets('customer_zones', 'customer_time_zone', 'utc') }}
),

promise_days as (
    select
        promised.*,
        coalesce(
            promised.promise_date,
            cast({{ output_kpis.utc_to_local_via(
                'instant_offsets', 'promised.promised_at', 'promised.customer_time_zone'
            ) }} as date)
        ) as promised_date
    from promised
    {{ output_kpis.time_zone_offset_join(
        'instant_offsets', 'promised.customer_time_zone', 'promised.promised_at',
    ) }}
),

deadlines as (
    select
        promise_days.*,
        case when promise_days.promised_at is not null then 'instant' else 'date' end
            as promise_precision,
        coalesce(
            promise_days.promised_at,
            {{ output_kpis.local_to_utc_via(
                'due_offsets',
                'cast(' ~ dbt.dateadd('day', 1, 'promise_days.promised_date') ~ ' as timestamp)',
                'promise_days.customer_time_zone',
            ) }}
        ) as due_at,
        {%- if early_window_days is none %}
            cast(null as timestamp) as early_limit_at
        {%- else %}
        coalesce(
            {{ add_minutes('promise_days.promised_at', -1440 * early_window_days) }},
            {{ output_kpis.local_to_utc_via(
                'early_offsets',
                'cast(' ~ dbt.dateadd('day', -1 * early_window_days, 'promise_days.promised_date')
                ~ ' as timestamp)',
                'promise_days.customer_time_zone',
            ) }}
        ) as early_limit_at
        {%- endif %}
    from promise_days
    {{ output_kpis.time_zone_offset_join(
        'customer_offsets', 'promise_days.customer_time_zone',
        dbt.dateadd('day', 1, 'promise_days.promised_date'), alias='due_offsets',
    ) }}
    {%- if early_window_days is not none %}
    {{ output_kpis.time_zone_offset_join(
        'customer_offsets', 'promise_days.customer_time_zone',
        dbt.dateadd('day', -1 * early_window_days, 'promise_days.promised_date'),
        alias='early_offsets',
    ) }}
    {%- endif %}
),

flagged as (
    select
        deadlines.*,
        {{ add_minutes('deadlines.due_at', tolerance_minutes) }} as on_time_deadline_at,
        coalesce(line_deliveries.delivered_quantity, 0) as delivered_quantity,
        line_deliveries.completed_at,
        coalesce(line_deliveries.completed_at, line_deliveries.last_delivered_at)
            as reference_delivered_at,
        coalesce(deadlines.cancelled_at <= as_of.as_of_at, false) as is_cancelled,
        classified.sources_classified_at,
        as_of.as_of_at
    from deadlines
    cross join as_of
    cross join classified
    left join line_deliveries on deadlines.order_line_id = line_deliveries.order_line_id
),

-- A line is due once its on-time deadline has passed (for an instant: at the deadline).
judged as (
    select
        *,
        not is_cancelled and on_time_deadline_at <= as_of_at as is_past_deadline,
        -- an instant is met at the deadline; a date only strictly before the next midnight
        coalesce(
            reference_delivered_at < on_time_deadline_at
            or (promise_precision = 'instant' and reference_delivered_at = on_time_deadline_at),
            false
        ) as is_by_deadline
    from flagged
),

final as (
    select
        order_line_id,
        order_id,
        customer_id,
        customer_segment,
        site_id,
        ordered_quantity,
        first_promised_date,
        first_promised_at,
        revised_promised_date,
        revised_promised_at,
        promise_precision,
        promised_date,
        due_at,
        on_time_deadline_at,
        early_limit_at,
        cast(delivered_quantity as integer) as delivered_quantity,
        completed_at,
        reference_delivered_at,
        is_cancelled,
        is_past_deadline as is_due,
        (
            is_past_deadline
            and is_by_deadline
            and (early_limit_at is null or reference_delivered_at >= early_limit_at)
        ) as is_on_time,
        is_past_deadline and delivered_quantity >= ordered_quantity as is_in_full,
        case
            when is_cancelled then 'cancelled'
            when is_past_deadline then 'due'
            else 'not_yet_due'
        end as line_status,
        cast(shipment_count as integer) as shipment_count,
        sources_classified_at,
        as_of_at
    from judged
),

lines as (
    select
        *,
        is_on_time and is_in_full as is_otif
    from final
)

{{ output_kpis.overwrite_units('lines') }}
