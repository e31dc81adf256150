-- Every hand-computed KPI value (seeds/expected_kpi_values.csv) is in the marts with exactly
-- that numerator and denominator and a value within 1e-9; no KPI of a disabled domain
-- (manufacturing, sales) is published. Each returned row is a mismatch, with what was found.
with expected as (
    select * from {{ ref('expected_kpi_values') }}
),

built as (
    select kpi_id, grain, period_start, dimension_name, dimension_value, numerator, denominator,
        value
    from {{ ref('fct_kpi_values') }}
    union all
    select kpi_id, grain, period_start, dimension_name, dimension_value, numerator, denominator,
        value
    from {{ ref('fct_outcome_values') }}
),

compared as (
    select
        expected.kpi_id,
        expected.grain,
        expected.period_start,
        expected.dimension_name,
        expected.dimension_value,
        expected.numerator as expected_numerator,
        built.numerator as built_numerator,
        expected.denominator as expected_denominator,
        built.denominator as built_denominator,
        expected.expected_value,
        built.value as built_value,
        built.kpi_id is null as is_missing
    from expected
    left join built
        on
            expected.kpi_id = built.kpi_id
            and expected.grain = built.grain
            and cast(expected.period_start as date) = built.period_start
            and expected.dimension_name = built.dimension_name
            and expected.dimension_value = built.dimension_value
),

mismatches as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        expected_numerator,
        built_numerator,
        expected_denominator,
        built_denominator,
        expected_value,
        built_value,
        case
            when is_missing then 'missing'
            when built_numerator is distinct from expected_numerator then 'numerator'
            when built_denominator is distinct from expected_denominator then 'denominator'
            when built_value is null or abs(built_value - expected_value) > 1e-9 then 'value'
        end as problem
    from compared
),

disabled_domain_rows as (
    select
        kpi_id,
        grain,
        period_start,
        dimension_name,
        dimension_value,
        null as expected_numerator,
        numerator as built_numerator,
        null as expected_denominator,
        denominator as built_denominator,
        null as expected_value,
        value as built_value,
        'disabled domain ' || domain || ' published' as problem
    from {{ ref('fct_kpi_values') }}
    where domain in ('manufacturing', 'sales')
)

select * from mismatches
where problem is not null
union all
select * from disabled_domain_rows
