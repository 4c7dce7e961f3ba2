-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- Exact daily follower gains of the scope's accounts in the recent window: a snapshot's gains
-- are summed over its gap only when that gap fits the window (transforms/growth.py).
with bounds as (
    select min(recent_from) as first_day from scope
),
source as (
    select {numbers} c.platform, c.account_id, c.snapshot_date, c.followers_gained, c.followers_lost
    from staging.follower_changes as c
    join scope as s on c.platform = s.platform and c.account_id = s.account_id
    where c.snapshot_date >= (select first_day from bounds)
      and c.snapshot_date >= s.recent_from
)
select * from source
