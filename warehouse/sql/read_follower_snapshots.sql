-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- Follower snapshots of the scope's accounts from chain_from on (the first day of their
-- follower-day chain rebuilt: pending_scope.sql). The days before, which the anomaly rule's
-- window and the growth windows read, are the marts' (read_earlier_daily.sql): every staged
-- day before chain_from is already built, as staged.
with bounds as (
    select min(chain_from) as first_day from scope
),
source as (
    select {numbers} f.platform, f.account_id, f.snapshot_date, f.followers, f.following, f.is_followers_rounded
    from staging.follower_snapshots as f
    join scope as s on f.platform = s.platform and f.account_id = s.account_id
    where f.snapshot_date >= (select first_day from bounds)   -- prunes by date before the join
      and f.snapshot_date >= s.chain_from
)
select * from source
