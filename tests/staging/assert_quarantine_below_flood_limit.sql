-- A flood of bad rows is a broken feed, not bad luck: a raw table whose quarantined share is
-- above var output_kpis_max_quarantine_share (with at least output_kpis_quarantine_flood_min_rows
-- rows quarantined) fails the build, so it is not published. Returns each such table.
select
    source_table,
    raw_rows,
    quarantined_rows,
    quarantined_share,
    max_quarantined_share
from {{ ref('stg_quarantine__tables') }}
where is_flood
