with latest as (
    select platform, tier_latest as tier, count(*) as accounts
    from marts.dim_account
    group by all
)
select * from latest order by platform, accounts desc
