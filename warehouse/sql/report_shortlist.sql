-- The report's shortlist: the top $2 creators of a tier ($1) on each platform by ER percentile
-- within the tier (inflow shortlist --platform P --tier T ranks the same way), with their
-- growth and flags. Creators without a percentile (too few peers) are not listed.
select
    platform,
    row_number() over (
        partition by platform order by er_percentile_tier desc, er_median desc, account_id
    ) as rank,
    handle,
    account_id,
    category,
    followers,
    round(er_median * 100, 2) as er_median_pct,
    round(er_percentile_tier, 1) as er_percentile,
    round(growth_rate_30d * 100, 2) as growth_30d_pct,
    round(consistency, 2) as consistency,
    flags,
    flag_reasons
from marts.agg_creator_scorecard
where tier = $1 and er_percentile_tier is not null
qualify rank <= $2
order by platform, rank
