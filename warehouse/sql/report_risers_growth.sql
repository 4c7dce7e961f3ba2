-- The fastest-growing accounts of a tier ($1) over 30 days, top 5 per platform, on their latest
-- day. Accounts with a growth anomaly in those 30 days are left out: a bought or purged audience
-- is not growth (fct_account_daily.anomaly_rule says which rule fired).
with latest as (
    select d.platform, d.account_id, a.handle, d.followers, d.growth_rate_30d, d.date
    from marts.fct_account_daily as d
    join marts.dim_account as a using (platform, account_id)
    where d.date = a.last_seen and d.tier = $1 and d.growth_rate_30d is not null
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
select * from clean
qualify row_number() over (partition by platform order by growth_rate_30d desc, handle) <= 5
order by platform, growth_rate_30d desc
