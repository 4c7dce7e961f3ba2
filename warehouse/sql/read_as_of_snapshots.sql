-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- Snapshots around t-N that the growth windows look up, older than the recent window.
with bounds as (
    select min(chain_from) - {furthest} as first_day from scope
),
source as (
    select {numbers} f.platform, f.account_id, f.snapshot_date, f.followers, f.following, f.is_followers_rounded
    from staging.follower_snapshots as f
    join scope as s on f.platform = s.platform and f.account_id = s.account_id
    where f.snapshot_date >= (select first_day from bounds)
      and f.snapshot_date < s.recent_from
      and ({windows})
)
select * from source
