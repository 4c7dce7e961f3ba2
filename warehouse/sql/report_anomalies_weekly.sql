-- Growth anomalies per week and rule over the whole history.
select date_trunc('week', date)::date as week_start, anomaly_rule, count(*) as anomalies
from marts.fct_account_daily
where is_growth_anomaly
group by all
order by all
