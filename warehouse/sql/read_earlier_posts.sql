-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- Posts already in the mart that the rebuilt rows read one by one: those of the first rebuilt
-- week before emit_from (its weekly row is rebuilt from all of its posts), and those the first
-- rebuilt day counts in posts_published (published after the account's last mart day before
-- emit_from, the seed's). The weeks before the first rebuilt week are read summed instead
-- (read_earlier_weeks.sql). An account with a mart day in [emit week - 1, emit_from) (nearly
-- every one: a daily series) needs no post before its emit week; one without (a gap in its
-- counts) reads every post from posts_from, as before the weeks were summed: the graph counts
-- those older than its seed on the seed's day, which is not rebuilt. Bounded by that week, not
-- by the seed's own day (a max over the anomaly window's 29 days per account), and the weeks
-- before scanned for the accounts with a gap alone (a 200,000-creator night: 0.12 s against
-- 0.48-0.57 s with one join of every account's 7 weeks of posts).
with bounds as (
    select min(posts_from) as first_day, min(emit_week) as first_week from scope
),
close_seed as (
    select distinct m.platform, m.account_id
    from marts.fct_account_daily as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date >= (select first_week - 1 from bounds)   -- prunes by date before the join
      and m.date >= s.emit_week - 1 and m.date < s.chain_from
),
gap as (
    select s.* from scope as s
    anti join close_seed as c on s.platform = c.platform and s.account_id = c.account_id
),
source as (
    select {numbers} {columns}
    from marts.fct_post_metrics as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.published_date >= (select first_week from bounds)
      and m.published_date >= s.emit_week and m.published_date < s.emit_from
    union all
    select {numbers} {columns}
    from marts.fct_post_metrics as m
    join gap as s on m.platform = s.platform and m.account_id = s.account_id
    where m.published_date >= (select first_day from bounds)
      and m.published_date >= s.posts_from and m.published_date < s.emit_week
)
select * from source
