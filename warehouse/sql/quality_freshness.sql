-- Each platform's latest snapshot and its age on $1 (today), however old. The recent rows are
-- read first (the common case touches the last row groups only); a platform with nothing in
-- the last 400 days is looked up in the whole history, so stale data warns however stale.
with recent as (
    select platform, max(snapshot_date) as latest_snapshot
    from staging.follower_snapshots
    where snapshot_date >= $1::date - 400
    group by platform
),
older as (
    select platform, max(snapshot_date) as latest_snapshot
    from staging.follower_snapshots
    where platform not in (select platform from recent)
    group by platform
),
latest as (
    select platform, latest_snapshot, $1::date - latest_snapshot as age_days
    from (select * from recent union all select * from older)
)
select * from latest
