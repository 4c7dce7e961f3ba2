-- The most engaging accounts of a tier ($1): median ER per post over the last 4 weeks, top 5 per
-- platform (ER levels differ by platform, so ranks are within one). ER is each post's
-- er_followers_lc_d7 (likes + comments at a fixed age of 7 days): posts still too young for it
-- are left out, and an account needs 3 such posts.
with recent as (
    select platform, account_id, median(er_followers_lc_d7) as er_median, count(*) as posts
    from marts.fct_post_metrics
    where published_date >= (select max(published_date) from marts.fct_post_metrics) - 28
      and er_followers_lc_d7 is not null
    group by all
    having count(*) >= 3
)
select r.platform, a.handle, a.followers_latest, r.posts, r.er_median
from recent as r
join marts.dim_account as a using (platform, account_id)
where a.tier_latest = $1
qualify row_number() over (partition by r.platform order by r.er_median desc, a.handle) <= 5
order by r.platform, r.er_median desc
