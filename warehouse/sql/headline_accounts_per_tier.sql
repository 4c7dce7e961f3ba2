-- Accounts per latest confirmed tier, tiers in the scheme's order (smallest first); accounts
-- without a tier are counted under the reason they have none, never as a blank tier.
with latest as (
    select a.platform, coalesce(a.tier_latest, 'unknown: ' || a.tier_unknown_reason) as tier,
           count(*) as accounts, any_value(t.tier_rank) as tier_rank
    from marts.dim_account as a
    left join marts.dim_tier as t on t.tier = a.tier_latest
    group by all
)
select platform, tier, accounts from latest order by platform, tier_rank nulls last, tier
