-- Confirmed tier on the period's first day ($1) versus its last day ($2), for accounts tracked on both.
with at_start as (
    select platform, account_id, tier from marts.fct_tier_history
    where valid_from <= $1 and (valid_to is null or valid_to > $1)
),
at_end as (
    select platform, account_id, tier from marts.fct_tier_history
    where valid_from <= $2 and (valid_to is null or valid_to > $2)
),
transitions as (
    select s.platform, s.tier as from_tier, e.tier as to_tier, count(*) as accounts
    from at_start as s join at_end as e using (platform, account_id)
    group by all
)
select *, accounts / sum(accounts) over (partition by platform, from_tier) as share_of_from_tier
from transitions
order by all
