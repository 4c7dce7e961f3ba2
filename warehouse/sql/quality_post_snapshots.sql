with pending as (
    select distinct run_id from meta.touched_accounts
    where run_id not in (select run_id from meta.validated_runs)
),
batch as (
    select p.platform, p.post_id, p.account_id, p.snapshot_date, p.captured_at, p.published_at,
           p.likes, p.comments, p.shares, p.saves, p.views, p.reach
    from staging.post_snapshots as p
    semi join pending as r on p.ingest_run_id = r.run_id
)
select * from batch
