with counts as (
    select 'staging.follower_snapshots' as "table", count(*) as "rows" from staging.follower_snapshots
    union all select 'staging.post_snapshots', count(*) from staging.post_snapshots
    union all select 'staging.accounts', count(*) from staging.accounts
    union all select 'quarantine.rejected_rows', count(*) from quarantine.rejected_rows
    union all select 'meta.ingested_files', count(*) from meta.ingested_files
)
select * from counts
