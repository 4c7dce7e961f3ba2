-- The posts of read_month_posts.sql (before $2) whose latest snapshot tags or mentions one of
-- the brand handles ($1, lowercase, no '@'), with those tags: what agg_brand_mentions reads.
-- Only these posts can name a brand, so the others are neither joined to staging nor carried
-- out (most posts name none). transforms.campaigns.brand_mentions matches the handles on them
-- exactly.
select p.platform, p.account_id, p.published_date, p.is_sponsored, p.is_d7_pending,
       p.er_followers_lc_d7, s.hashtags, s.mentions
from marts.fct_post_metrics as p
join wanted as w on p.platform = w.platform and p.account_id = w.account_id
join staging.post_snapshots as s
    on s.platform = p.platform and s.post_id = p.post_id and s.snapshot_date = p.latest_snapshot_date
    -- A post's latest snapshot is no older than its publication: bounds the staging scan.
    and s.snapshot_date >= (select min(from_date) from wanted)
where p.published_date >= w.from_date
  and p.published_date >= (select min(from_date) from wanted)
  and p.published_date < $2
  and (list_has_any(s.hashtags, $1::varchar[]) or list_has_any(s.mentions, $1::varchar[]))
