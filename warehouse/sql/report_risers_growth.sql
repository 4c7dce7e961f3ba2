-- The fastest-growing accounts of a tier ($1) over 30 days, top 5 per platform, on their latest
-- day, with the follower count growth is measured from (the base snapshot's). Accounts with a
-- growth anomaly in those 30 days are left out: a bought or purged audience is not growth
-- (fct_account_daily.anomaly_rule says which rule fired). The demo's headline is the top 5 of
-- these across platforms (warehouse/status.py), so both always agree.
with latest as (
    select d.platform, d.account_id, a.handle, d.followers, d.growth_rate_30d, d.date,
           d.growth_base_date_30d
    from marts.fct_account_daily as d
    join marts.dim_account as a using (platform, account_id)
    where d.date = a.last_seen and d.tier = $1 and d.growth_rate_30d is not null
),
clean as (
    select l.platform, l.handle, b.followers as followers_base, l.followers, l.growth_rate_30d
    from latest as l
    join marts.fct_account_daily as b
      on b.platform = l.platform and b.account_id = l.account_id
     and b.date = l.growth_base_date_30d
    where not exists (
        select 1 from marts.fct_account_daily as x
        where x.platform = l.platform and x.account_id = l.account_id
          and x.date > l.date - 30 and x.date <= l.date and x.is_growth_anomaly
    )
)
select * from clean
qualify row_number() over (partition by platform order by growth_rate_30d desc, handle) <= 5
order by platform, growth_rate_30d desc, handle
