{#- Where every raw row went: for each raw table feeding a unit of output, the rows counted in
    a KPI denominator, the rows excluded with a definitional reason and the rows quarantined
    with their reason code (int_governance__unit_dispositions). The test
    assert_raw_rows_accounted_for checks that the buckets add up to the raw row count. Only the
    enabled domains (vars output_kpis_enable_*) are accounted for. -#}
with dispositions as (
    select * from {{ ref('int_governance__unit_dispositions') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

final as (
    select
        source_table,
        disposition,
        reason,
        count(*) as row_count
    from dispositions
    group by source_table, disposition, reason
)

select
    final.*,
    as_of.as_of_at
from final
cross join as_of
