-- Micro accounts growing fastest over the last 30 days (latest snapshot day per account),
-- without a growth anomaly in those 30 days.
with latest as (
    select d.platform, d.account_id, a.handle, d.followers, d.growth_rate_30d, d.date
    from marts.fct_account_daily as d
    join marts.dim_account as a using (platform, account_id)
    where d.date = a.last_seen and d.tier = 'micro' and d.growth_rate_30d is not null
),
clean as (
    select l.platform, l.handle, l.followers, l.growth_rate_30d
    from latest as l
    where not exists (
        select 1 from marts.fct_account_daily as x
        where x.platform = l.platform and x.account_id = l.account_id
          and x.date > l.date - 30 and x.date <= l.date and x.is_growth_anomaly
    )
)
select * from clean order by growth_rate_30d desc limit 5
