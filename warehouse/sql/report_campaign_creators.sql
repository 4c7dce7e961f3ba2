-- Each campaign's creators, cheapest engagement first (no cost per engagement last); $1: one
-- campaign id, or null for every campaign.
select c.campaign_id, c.platform, coalesce(a.handle, c.handle) as handle, c.posts, c.mentions,
       c.reach, c.views, c.interactions, round(c.er_median_d7, 4) as er_median_d7, c.currency,
       round(c.fee, 2) as fee, c.fee_basis, round(c.cost_per_post, 2) as cost_per_post,
       round(c.cpe, 4) as cpe, round(c.cpm, 2) as cpm, round(c.emv, 2) as emv
from marts.agg_campaign_creators as c
left join marts.dim_account as a on a.platform = c.platform and a.account_id = c.account_id
where $1::varchar is null or c.campaign_id = $1
order by c.campaign_id, c.cpe asc nulls last, c.posts desc
