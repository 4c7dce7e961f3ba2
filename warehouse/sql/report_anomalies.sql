-- Growth anomalies of the last 30 days, newest and largest first.
select d.date, d.platform, a.handle, d.tier, d.followers, d.followers_change, d.anomaly_rule
from marts.fct_account_daily as d
join marts.dim_account as a using (platform, account_id)
where d.is_growth_anomaly and d.date > (select max(date) from marts.fct_account_daily) - 30
order by d.date desc, abs(d.followers_change) desc, a.handle
limit $1
