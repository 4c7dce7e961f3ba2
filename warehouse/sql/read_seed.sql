-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- Each account's last mart row before chain_from: its previous snapshot and tier state.
-- Usually within the recent window; only accounts silent longer are looked up further back.
-- The last day is found on the key alone, then its row read: ranking whole rows
-- (`row_number()` over every column of the window's rows) cost several times more.
with bounds as (
    select min(recent_from) as first_day from scope
),
recent as (
    select {numbers} m.platform, m.account_id, max(m.date) as date
    from marts.fct_account_daily as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date >= (select first_day from bounds)
      and m.date >= s.recent_from and m.date < s.chain_from
    group by all
),
silent as (
    select s.* from scope as s
    anti join recent as r on s.platform = r.platform and s.account_id = r.account_id
),
older as (
    select {numbers} m.platform, m.account_id, max(m.date) as date
    from marts.fct_account_daily as m
    join silent as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date < s.recent_from
    group by all
),
latest as (
    select * from recent
    union all
    select * from older
)
select {latest_numbers} m.platform, m.account_id, m.date, m.followers, m.following, m.is_followers_rounded,
       m.raw_tier, m.tier, m.entered_tier_on, m.raw_tier_snapshots, m.followers_before_tier
from marts.fct_account_daily as m
join latest as l on m.platform = l.platform and m.account_id = l.account_id and m.date = l.date
-- One bound for every account, so that DuckDB skips the older row groups (zonemaps).
where m.date >= (select min(date) from latest)
