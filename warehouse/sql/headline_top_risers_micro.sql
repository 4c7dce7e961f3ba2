-- Micro accounts growing fastest over the last 30 days (latest snapshot day per account).
with latest as (
    select d.platform, a.handle, d.followers, d.growth_rate_30d
    from marts.fct_account_daily as d
    join marts.dim_account as a using (platform, account_id)
    where d.date = a.last_seen and d.tier = 'micro' and d.growth_rate_30d is not null
)
select * from latest order by growth_rate_30d desc limit 5
