-- Follower snapshots of the scope's accounts in the recent window (the anomaly rule's).
with bounds as (
    select min(recent_from) as first_day from scope
),
source as (
    select f.platform, f.account_id, f.snapshot_date, f.followers, f.following, f.is_followers_rounded
    from staging.follower_snapshots as f
    join scope as s on f.platform = s.platform and f.account_id = s.account_id
    where f.snapshot_date >= (select first_day from bounds)   -- prunes by date before the join
      and f.snapshot_date >= s.recent_from
)
select * from source
