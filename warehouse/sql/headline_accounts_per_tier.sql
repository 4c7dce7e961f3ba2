-- Accounts per latest confirmed tier, tiers in the scheme's order (smallest first).
with latest as (
    select a.platform, a.tier_latest as tier, count(*) as accounts, any_value(t.tier_rank) as tier_rank
    from marts.dim_account as a
    left join marts.dim_tier as t on t.tier = a.tier_latest
    group by a.platform, a.tier_latest
)
select platform, tier, accounts from latest order by platform, tier_rank nulls last
