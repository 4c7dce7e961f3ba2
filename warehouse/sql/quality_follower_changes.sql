-- Staged exact daily follower gains of ingest runs not validated yet (only the new data).
with pending as (
    select distinct run_id from meta.touched_accounts
    where run_id not in (select run_id from meta.validated_runs)
),
batch as (
    select c.platform, c.account_id, c.snapshot_date, c.followers_gained, c.followers_lost
    from staging.follower_changes as c
    semi join pending as p on c.ingest_run_id = p.run_id
)
select * from batch
