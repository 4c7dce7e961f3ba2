-- Micro accounts with the highest median engagement rate per post (last 4 weeks, 3+ posts).
with recent as (
    select p.platform, p.account_id, median(p.er_followers) as er_median, count(*) as posts
    from marts.fct_post_metrics as p
    where p.published_date >= (select max(published_date) from marts.fct_post_metrics) - 28
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
