-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- The weeks before each account's first rebuilt week that the rebuilt weeks' rolling ER and
-- trend look back on ([posts_from, emit_week): 7 weeks), as the sums weekly_engagement rolls:
-- the week's er_followers_lc_d7 summed and counted (posts without one add nothing). Summed
-- here, a night reads about 7 rows per account where it read each of 7 weeks' posts (a
-- 200,000-creator night: 7.85M post rows, the largest of its inputs). Weeks with posts only,
-- as weekly_engagement has them; the sum of a week without a measured post is 0, as Polars'.
with bounds as (
    select min(posts_from) as first_day from scope
),
source as (
    select {numbers} m.platform, m.account_id,
           date_trunc('week', m.published_date)::date as week_start,
           coalesce(sum(m.er_followers_lc_d7), 0)::double as er_sum,
           count(m.er_followers_lc_d7) as er_count
    from marts.fct_post_metrics as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.published_date >= (select first_day from bounds)
      and m.published_date >= s.posts_from and m.published_date < s.emit_week
    group by all
)
select * from source
