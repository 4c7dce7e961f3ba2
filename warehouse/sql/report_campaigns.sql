-- Each campaign's KPIs, latest campaigns first.
select campaign_id, brand, start_date, end_date, creators, creators_posting, posts, mentions,
       reach, views, interactions, round(er_mean_d7, 4) as er_mean_d7,
       round(er_median_d7, 4) as er_median_d7, currency, round(fee_total, 2) as fee_total,
       round(cost_per_post, 2) as cost_per_post, round(cpe, 4) as cpe, round(cpm, 2) as cpm,
       cpm_basis, round(emv, 2) as emv
from marts.agg_campaign
order by end_date desc, campaign_id
