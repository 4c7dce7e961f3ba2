-- fct_post_metrics rows of the registered accounts (`wanted`: platform, account_id, from_date)
-- published on or after from_date and before $1 (a month at a time), without their tags: what
-- agg_sponsored_monthly reads. The join to staging for the tags (read_posts_with_tags.sql) was
-- most of the cost of reading every post of the month (a night of 200,000 creators: 4.6M posts).
select p.platform, p.account_id, p.published_date, p.is_sponsored, p.is_d7_pending,
       p.er_followers_lc_d7
from marts.fct_post_metrics as p
join wanted as w on p.platform = w.platform and p.account_id = w.account_id
where p.published_date >= w.from_date
  -- One bound for every account, so that DuckDB skips the older row groups (zonemaps).
  and p.published_date >= (select min(from_date) from wanted)
  and p.published_date < $1
