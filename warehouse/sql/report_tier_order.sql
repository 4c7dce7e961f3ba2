-- Tiers from smallest to largest in the scheme the marts were built with.
select tier from marts.dim_tier order by tier_rank
