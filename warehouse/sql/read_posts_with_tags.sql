-- fct_post_metrics rows of the registered accounts (`wanted`: platform, account_id, from_date),
-- published on or after from_date, with their latest snapshot's hashtags, mentions and
-- impressions (what attribution and brand mentions read).
select p.platform, p.post_id, p.account_id, p.published_date, p.is_sponsored, p.likes,
       p.comments, p.shares, p.saves, p.views, p.reach, s.impressions, p.interactions,
       p.likes_d7, p.comments_d7, p.views_d7, p.interactions_d7, p.er_followers, p.er_followers_lc_d7, p.is_d7_pending,
       coalesce(s.hashtags, []::varchar[]) as hashtags,
       coalesce(s.mentions, []::varchar[]) as mentions
from marts.fct_post_metrics as p
join wanted as w on p.platform = w.platform and p.account_id = w.account_id
left join staging.post_snapshots as s
    on s.platform = p.platform and s.post_id = p.post_id and s.snapshot_date = p.latest_snapshot_date
    -- A post's latest snapshot is no older than its publication: bounds the staging scan.
    and s.snapshot_date >= (select min(from_date) from wanted)
where p.published_date >= w.from_date
  -- One bound for every account, so that DuckDB skips the older row groups (zonemaps).
  and p.published_date >= (select min(from_date) from wanted)
