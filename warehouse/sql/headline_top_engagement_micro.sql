-- Micro accounts with the highest median engagement rate per post: likes + comments at a fixed
-- age of 7 days over followers, last 4 weeks, 3+ posts with that value.
with recent as (
    select p.platform, p.account_id, median(p.er_followers_lc_d7) as er_median, count(*) as posts
    from marts.fct_post_metrics as p
    where p.published_date >= (select max(published_date) from marts.fct_post_metrics) - 28
      and p.er_followers_lc_d7 is not null
    group by all
    having count(*) >= 3
),
ranked as (
    select r.platform, a.handle, a.followers_latest, r.posts, r.er_median
    from recent as r
    join marts.dim_account as a using (platform, account_id)
    where a.tier_latest = 'micro'
)
select * from ranked order by er_median desc limit 5
