{#- The order lines int_fulfilment__order_lines (incremental, strategy replace_units) computes in
    this run, and classified_through: the newest classified_at among the staged rows it reads
    (order lines, orders, customers, shipments), which it stores (sources_classified_at) as what
    it has seen. Every staged line when that model is built in full. On an incremental run only
    the lines that what changed since touches, found from the changed rows (seen = the table's
    sources_classified_at; rows classified after it are new or changed):
      1. a staged line classified after seen (new, late, changed or reclassified);
      2. a line the table holds that left staging (deleted or quarantined; the anti-join runs
         only when the counts show a line left);
      3. the lines of an order or a customer classified after seen;
      4. the line of a shipment classified after seen, and a line whose number of staged
         shipments is not the one the table stored (a shipment deleted, quarantined or moved
         to another line);
      5. a line not yet due at the previous run (its flags move with as_of: a line past its
         deadline, or cancelled, changes only by a row classified since or by activity
         after the previous as_of, which the other rules find), and a line with a shipment, delivery or cancellation after
         the previous as_of and at or before this one;
      6. every line of the previous run's list when the table has not stored its
         classified_through (the previous run failed or skipped it).
    Changes of definitional vars need --full-refresh. -#}
{%- set built = output_kpis.incremental_unit_relation('int_fulfilment__order_lines') -%}
{%- set incremental = execute and built is not none -%}
{{ config(
    materialized='table',
    pre_hook=["{{ output_kpis.keep_previous_list() }}"],
) }}
{%- if incremental -%}
    {%- set seen = output_kpis.seen_classified_at([built]) -%}
    {%- set previous = output_kpis.previous_as_of(built) -%}
    {%- set left_staging = output_kpis.rows_left_staging(
        built, ref('stg_oms__order_lines'), 'order_line_id', seen) -%}
{%- endif %}

with order_lines as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__order_lines') }}
),

orders as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__orders') }}
),

customers as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__customers') }}
),

shipments as {{ output_kpis.not_materialized() }} (
    select * from {{ ref('stg_oms__shipments') }}
),

classified as (
    {{ output_kpis.classified_through(['order_lines', 'orders', 'customers', 'shipments']) }}
),
{%- if incremental %}

shipment_counts as (
    {{ output_kpis.child_row_counts('shipments', 'order_line_id', 'shipment_count') }}
),

touched as (
    -- 1. new, late, changed or reclassified lines
    select order_line_id
    from order_lines
    where classified_at > {{ seen }}
    {%- if left_staging != 0 %}
    union all
    -- 2. lines that left staging ({{ left_staging }} by the counts)
    select built.order_line_id
    from {{ built }} as built
    where not exists (
        select 1
        from order_lines
        where order_lines.order_line_id = built.order_line_id
    )
    {%- endif %}
    union all
    -- 3. the lines of a changed order or customer
    select order_line_id
    from order_lines
    where order_id in (select order_id from orders where classified_at > {{ seen }})
    union all
    select order_line_id
    from {{ built }}
    where customer_id in (select customer_id from customers where classified_at > {{ seen }})
    union all
    -- 4. the line of a changed shipment; lines whose number of shipments changed
    select order_line_id
    from shipments
    where classified_at > {{ seen }}
    union all
    select coalesce(shipment_counts.order_line_id, built.order_line_id) as order_line_id
    from shipment_counts
    full outer join (
        select
            order_line_id,
            shipment_count
        from {{ built }}
        where shipment_count > 0
    ) as built
        on shipment_counts.order_line_id = built.order_line_id
    where coalesce(shipment_counts.shipment_count, 0) <> coalesce(built.shipment_count, 0)
    union all
    -- 5. lines not yet due at the previous run; activity the previous as_of hid
    select order_line_id
    from {{ built }}
    where line_status = 'not_yet_due'
    union all
    select order_line_id
    from shipments
    where
        {{ output_kpis.hidden_by_previous_as_of('shipped_at', previous) }}
        or {{ output_kpis.hidden_by_previous_as_of('delivered_at', previous) }}
    union all
    select order_line_id
    from order_lines
    where {{ output_kpis.hidden_by_previous_as_of('cancelled_at', previous) }}
    -- 6. the previous list, while the table has not taken it in
    {{- output_kpis.previous_list_not_taken_in('order_line_id', seen) }}
),
{%- endif %}

listed as (
    select order_line_id
    from {{ 'touched' if incremental else 'order_lines' }}
),

final as (
    select distinct
        listed.order_line_id,
        classified.classified_through,
        '{{ "changed" if incremental else "all" }}' as build_scope
    from listed
    cross join classified
    where listed.order_line_id is not null
)

select * from final
