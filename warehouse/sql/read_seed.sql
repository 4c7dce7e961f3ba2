-- Each account's last mart row before emit_from: its previous snapshot and tier state.
-- Usually within the recent window; only accounts silent longer are looked up further back.
with bounds as (
    select min(recent_from) as first_day from scope
),
recent as (
    select m.*
    from marts.fct_account_daily as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date >= (select first_day from bounds)
      and m.date >= s.recent_from and m.date < s.emit_from
),
silent as (
    select s.* from scope as s
    anti join recent as r on s.platform = r.platform and s.account_id = r.account_id
),
older as (
    select m.*
    from marts.fct_account_daily as m
    join silent as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date < s.recent_from
),
candidates as (
    select * from recent
    union all
    select * from older
),
latest as (
    select platform, account_id, date, followers, following, is_followers_rounded, raw_tier, tier,
           entered_tier_on, raw_tier_snapshots, followers_before_tier
    from candidates
    qualify row_number() over (partition by platform, account_id order by date desc) = 1
)
select * from latest
