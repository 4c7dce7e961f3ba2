with latest as (
    select platform, max(snapshot_date) as latest_snapshot, $1::date - max(snapshot_date) as age_days
    from staging.follower_snapshots
    where snapshot_date >= $1::date - 400
    group by platform
)
select * from latest
