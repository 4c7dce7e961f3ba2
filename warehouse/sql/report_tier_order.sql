-- Tiers from smallest to largest, whatever the scheme: ordered by their smallest follower count.
select tier, min(followers_first) as smallest from marts.fct_tier_history group by tier order by smallest
