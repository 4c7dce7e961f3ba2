-- The fastest-growing accounts of a tier ($1) over 30 days, top 5 per platform, on their latest day.
with latest as (
    select d.platform, a.handle, d.followers, d.growth_rate_30d
    from marts.fct_account_daily as d
    join marts.dim_account as a using (platform, account_id)
    where d.date = a.last_seen and d.tier = $1 and d.growth_rate_30d is not null
)
select * from latest
qualify row_number() over (partition by platform order by growth_rate_30d desc, handle) <= 5
order by platform, growth_rate_30d desc
