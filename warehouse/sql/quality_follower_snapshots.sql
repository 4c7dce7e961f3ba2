-- Staged follower snapshots of ingest runs not validated yet (only the new data).
with pending as (
    select distinct run_id from meta.touched_accounts
    where run_id not in (select run_id from meta.validated_runs)
),
batch as (
    select f.platform, f.account_id, f.snapshot_date, f.followers, f.following, f.captured_at
    from staging.follower_snapshots as f
    semi join pending as p on f.ingest_run_id = p.run_id
)
select * from batch
