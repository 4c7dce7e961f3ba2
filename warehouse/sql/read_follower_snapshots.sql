-- Follower snapshots of the scope's accounts from emit_from on. The days before, which the
-- anomaly rule's window and the growth windows read, are the marts' (read_earlier_daily.sql):
-- every staged day before emit_from is already built, as staged.
with bounds as (
    select min(emit_from) as first_day from scope
),
source as (
    select f.platform, f.account_id, f.snapshot_date, f.followers, f.following, f.is_followers_rounded
    from staging.follower_snapshots as f
    join scope as s on f.platform = s.platform and f.account_id = s.account_id
    where f.snapshot_date >= (select first_day from bounds)   -- prunes by date before the join
      and f.snapshot_date >= s.emit_from
)
select * from source
