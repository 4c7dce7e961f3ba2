-- Engagement rate per post by tier in the latest complete month (the latest month when none is complete).
with last_day as (select max(date) as day from marts.fct_account_daily),
chosen as (
    select coalesce(
        max(month) filter (where month + interval 1 month <= (select day from last_day) + 1),
        max(month)
    ) as month
    from marts.agg_tier_benchmarks
)
select platform, tier, month, accounts, posts, er_p25, er_median, er_p75
from marts.agg_tier_benchmarks
where month = (select month from chosen) and posts > 0
order by all
