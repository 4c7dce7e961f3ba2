-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- Snapshots of the scope's posts published from each account's emit_from on.
with bounds as (
    select min(emit_from) as first_day from scope
),
source as (
    select {numbers} p.platform, p.post_id, p.account_id, p.snapshot_date, p.captured_at, p.published_at,
           p.media_type, p.likes, p.comments, p.shares, p.saves, p.views, p.reach, p.is_sponsored
    from staging.post_snapshots as p
    join scope as s on p.platform = s.platform and p.account_id = s.account_id
    where p.snapshot_date >= (select first_day from bounds)   -- snapshots follow publication
      and cast(p.published_at as date) >= s.emit_from
)
select * from source
