-- Engagement rate by tier in the latest complete month (the latest month when none is complete):
-- percentiles across creators of each creator's median likes + comments at 7 days / followers,
-- over every category: the same basis as the published reference figures the report draws.
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
where month = (select month from chosen) and category = '(all)' and accounts_with_posts > 0
order by all
