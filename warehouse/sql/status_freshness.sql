with follower_days as (
    select platform, max(snapshot_date) as latest_follower_snapshot, count(distinct account_id) as accounts
    from staging.follower_snapshots group by platform
),
post_days as (
    select platform, max(snapshot_date) as latest_post_snapshot, count(distinct post_id) as posts
    from staging.post_snapshots group by platform
),
freshness as (
    select coalesce(f.platform, p.platform) as platform, f.latest_follower_snapshot, p.latest_post_snapshot,
           f.accounts, p.posts
    from follower_days as f full outer join post_days as p on f.platform = p.platform
)
select * from freshness order by platform
