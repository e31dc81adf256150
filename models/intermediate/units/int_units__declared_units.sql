{#- One row per raw row of every declared unit of output (docs/adding_a_kpi.md), with where it
    went (disposition counted, excluded or quarantined, and the reason) and the flags its KPIs
    read. Driven by the declarations alone (macros/units.sql): a declaration added to var
    output_kpis_units adds its rows here, with no SQL of its own. Quarantine first (null key,
    duplicate key, a completion or deadline that is no date or timestamp, an implausible date),
    then the declared exclusions in order, then not_completed, after_as_of, not_counted. -#}
{%- set units = output_kpis.unit_declarations() %}
{#- The normalised declarations ride in the manifest (meta), where the GE tooling reads them to
    generate each unit's suite. #}
{{ config(meta={'output_kpis_units': units}) }}
{%- set dimension_names = output_kpis.declared_dimension_names() %}
{%- set text = output_kpis.type_text() %}
{%- set columns = [
    ('unit_id', text), ('unit_key', text), ('disposition', text), ('reason', text),
    ('completed_at', 'timestamp'), ('completed_date', 'date'), ('deadline_at', 'timestamp'),
    ('deadline_date', 'date'), ('is_counted', 'boolean'), ('meets_quality', 'boolean'),
    ('is_due', 'boolean'), ('is_on_time', 'boolean'), ('actor_id', text)] %}
{%- for name in dimension_names %}{% do columns.append(('dim_' ~ name, text)) %}{% endfor %}
with as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

known_time_zones as (
    {{ output_kpis.known_time_zones_sql() }}
),
{%- for unit in units %}
{%- set relation = output_kpis.unit_relation(unit.relation) %}
{%- set zone = output_kpis.zone_placeholder() %}
{%- set time_zone_text = (
    'coalesce(' ~ output_kpis.timestamp_text(unit.time_zone_column) ~ ", '" ~ unit.time_zone ~ "')"
) if unit.time_zone_column else "'" ~ unit.time_zone ~ "'" %}
{#- every conversion is written once per zone the unit's rows name (in_each_zone) #}
{%- set zones = output_kpis.zones_in(relation, time_zone_text) %}
{#- checked against the warehouse when it runs (a compile or a linter may see no tables) #}
{%- if execute and flags.WHICH in ('run', 'build') %}
    {%- do output_kpis.check_unit_declaration(unit, relation) %}
{%- endif %}
{%- set row_columns = (adapter.get_columns_in_relation(relation) | map(attribute='name') | list)
    if execute else [] %}

{{ unit.unit_id }}__read as {{ output_kpis.not_materialized() }} (
    select
        {{ output_kpis.timestamp_text(unit.key) }} as unit_key,
        cast({{ time_zone_text }} as {{ text }}) as time_zone_text,
        {{ output_kpis.timestamp_text(unit.completed_at) }} as completed_text,
        {%- if unit.deadline %}
        {{ output_kpis.timestamp_text(unit.deadline.column) }} as deadline_text,
        {%- else %}
        cast(null as {{ text }}) as deadline_text,
        {%- endif %}
        {%- if unit.actor %}
        {{ output_kpis.dimension_text(unit.actor) }} as actor_id,
        {%- else %}
        cast(null as {{ text }}) as actor_id,
        {%- endif %}
        {%- for dimension in unit.dimensions %}
        {{ output_kpis.dimension_text(dimension.column) }} as dim_{{ dimension.name }},
        {%- endfor %}
        {%- for exclusion in unit.excluded %}
        coalesce(({{ exclusion.when }}), false) as is_excluded_{{ loop.index }},
        {%- endfor %}
        coalesce(({{ unit.counts_when or 'true' }}), false) as passes_count_rule,
        coalesce(({{ unit.quality.when if unit.quality else 'false' }}), false)
            as meets_quality_rule,
        {{ output_kpis.row_text(row_columns) }} as row_text
    from {{ relation }}
),

{{ unit.unit_id }}__zoned as {{ output_kpis.not_materialized() }} (
    select
        *,
        -- a zone the engine does not know is quarantined, never converted with
        case
            when time_zone_text in (select zones.time_zone_name from known_time_zones as zones)
                then time_zone_text
            else 'UTC'
        end as unit_time_zone,
        time_zone_text not in (select zones.time_zone_name from known_time_zones as zones)
            as has_unknown_time_zone
    from {{ unit.unit_id }}__read
),

{#- Keys more than one row holds: only their rows can conflict or be copies. #}
{{ unit.unit_id }}__repeated_keys as (
    select unit_key as repeated_key
    from {{ unit.unit_id }}__zoned
    where unit_key is not null
    group by unit_key
    having count(*) > 1
),

{#- Key conflicts (same key, different rows) and exact copies, by a window over the rows whose
    key repeats only: a window over every row holds the whole relation in memory (at 100M raw
    rows it outgrew a 6GB memory_limit). -#}
{{ unit.unit_id }}__repeats as (
    select
        zoned.*,
        false as has_key_conflict,
        cast(1 as {{ dbt.type_bigint() }}) as copy_number
    from {{ unit.unit_id }}__zoned as zoned
    left join {{ unit.unit_id }}__repeated_keys as repeated_keys
        on zoned.unit_key = repeated_keys.repeated_key
    where repeated_keys.repeated_key is null
    union all
    select
        zoned.*,
        min(zoned.row_text) over (partition by zoned.unit_key)
        <> max(zoned.row_text) over (partition by zoned.unit_key) as has_key_conflict,
        row_number() over (
            partition by zoned.unit_key, zoned.row_text order by zoned.unit_key
        ) as copy_number
    from {{ unit.unit_id }}__zoned as zoned
    inner join {{ unit.unit_id }}__repeated_keys as repeated_keys
        on zoned.unit_key = repeated_keys.repeated_key
),

{{ unit.unit_id }}__parsed as (
    select
        *,
        {{ output_kpis.cast_or_null('completed_text', 'date') }} as completed_day,
        {{ output_kpis.in_each_zone(output_kpis.declared_instant(
            'completed_text', zone, unit.naive_timestamps), 'unit_time_zone', zones) }}
            as completed_instant,
        {{ output_kpis.iso_wall_time('completed_text') }} as completed_wall_time,
        {{ output_kpis.cast_or_null('deadline_text', 'date') }} as deadline_day,
        {{ output_kpis.in_each_zone(output_kpis.declared_instant(
            'deadline_text', zone, unit.naive_timestamps), 'unit_time_zone', zones) }}
            as deadline_instant,
        {{ output_kpis.iso_wall_time('deadline_text') }} as deadline_wall_time
    from {{ unit.unit_id }}__repeats
    {{ output_kpis.evaluated_once() }}
),

{{ unit.unit_id }}__dated as (
    select
        *,
        coalesce(completed_day, cast({{ output_kpis.in_each_zone(
            output_kpis.utc_to_local('completed_instant', zone), 'unit_time_zone', zones) }}
            as date)) as completed_date,
        coalesce(deadline_day, cast({{ output_kpis.in_each_zone(
            output_kpis.utc_to_local('deadline_instant', zone), 'unit_time_zone', zones) }}
            as date)) as deadline_date,
        {#- a date deadline closes at the next local midnight, an instant at itself; then the
            tolerance #}
        {{ output_kpis.add_minutes(
            'case when deadline_day is not null then ' ~ output_kpis.in_each_zone(
                output_kpis.local_to_utc(
                    dbt.dateadd('day', 1, 'cast(deadline_day as timestamp)'), zone),
                'unit_time_zone', zones)
            ~ ' else deadline_instant end',
            (unit.deadline.tolerance_minutes if unit.deadline else 0) | string) }} as deadline_at,
        deadline_day is not null as deadline_is_date
    from {{ unit.unit_id }}__parsed
    {{ output_kpis.evaluated_once() }}
),

{{ unit.unit_id }}__classified as (
    select
        dated.*,
        case
            when dated.unit_key is null then 'null_key'
            when dated.has_key_conflict then 'conflicting_duplicate_key'
            when dated.copy_number > 1 then 'duplicate_row'
            when dated.has_unknown_time_zone then 'unknown_time_zone'
            {%- for stamp in ['completed', 'deadline'] %}
            when dated.{{ stamp }}_text is not null and dated.{{ stamp }}_instant is null then
                case
                    when dated.{{ stamp }}_wall_time is not null
                        {%- if unit.naive_timestamps == 'quarantine' %}
                        then 'timestamp_without_time_zone'
                        {%- else %}
                        then 'uncastable_value'
                        {%- endif %}
                    else 'uncastable_value'
                end
            {%- endfor %}
            when
                dated.completed_date < cast('{{ output_kpis.min_plausible_date() }}' as date)
                or dated.deadline_date < cast('{{ output_kpis.min_plausible_date() }}' as date)
                then 'implausible_date'
        end as quarantine_reason,
        case
            {%- for exclusion in unit.excluded %}
            when dated.is_excluded_{{ loop.index }} then '{{ exclusion.reason }}'
            {%- endfor %}
            when dated.completed_instant is null then 'not_completed'
            when
                (dated.completed_day is not null and dated.completed_day > cast(
                    {{ output_kpis.in_each_zone(output_kpis.utc_to_local('as_of.as_of_at', zone),
                        'dated.unit_time_zone', zones) }} as date))
                or (dated.completed_day is null and dated.completed_instant > as_of.as_of_at)
                then 'after_as_of'
            when not dated.passes_count_rule then 'not_counted'
        end as exclusion_reason,
        {%- for exclusion in unit.excluded %}
        {% if loop.first %}({% else %}or {% endif %}dated.is_excluded_{{ loop.index }}
        {%- if loop.last %}) as is_declared_exclusion,{% endif %}
        {%- else %}
        false as is_declared_exclusion,
        {%- endfor %}
        as_of.as_of_at
    from {{ unit.unit_id }}__dated as dated
    cross join as_of
    {{ output_kpis.evaluated_once() }}
),

{{ unit.unit_id }}__units as (
    select
        '{{ unit.unit_id }}' as unit_id,
        unit_key,
        case
            when quarantine_reason is not null then 'quarantined'
            when exclusion_reason is not null then 'excluded'
            else 'counted'
        end as disposition,
        coalesce(quarantine_reason, exclusion_reason) as reason,
        completed_instant as completed_at,
        completed_date,
        deadline_at,
        deadline_date,
        quarantine_reason is null and exclusion_reason is null as is_counted,
        case
            when quarantine_reason is null and exclusion_reason is null then meets_quality_rule
        end as meets_quality,
        coalesce(
            quarantine_reason is null and not is_declared_exclusion and deadline_at <= as_of_at,
            false
        ) as is_due,
        case
            when quarantine_reason is null and not is_declared_exclusion and deadline_at <= as_of_at
                then coalesce(
                    completed_instant <= as_of_at
                    and (
                        completed_instant < deadline_at
                        or (not deadline_is_date and completed_instant = deadline_at)
                    ),
                    false
                )
        end as is_on_time,
        actor_id
        {%- for name in dimension_names %},
        {%- if name in unit.dimensions | map(attribute='name') | list %}
        dim_{{ name }}
        {%- else %}
        cast(null as {{ text }}) as dim_{{ name }}
        {%- endif %}
        {%- endfor %}
    from {{ unit.unit_id }}__classified
),
{%- endfor %}

declared_units as (
    {%- for unit in units %}
    select * from {{ unit.unit_id }}__units
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    {{ output_kpis.rows_as_select([], columns) }}
    {%- endfor %}
),

final as (
    select
        declared_units.*,
        as_of.as_of_at
    from declared_units
    cross join as_of
)

select * from final
