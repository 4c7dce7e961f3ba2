-- inflow shortlist: a platform's creators of one tier (and category), ranked by ER percentile
-- among their peers (of the category when one is given, else of the tier), growth and flags
-- beside. $1 platform, $2 tier, $3 category or null, $4 minimum ER percentile or null,
-- $5 most flags or null, $6 rows.
with ranked as (
    select
        *,
        case when $3::varchar is null then er_percentile_tier else er_percentile_category end
            as er_percentile
    from marts.agg_creator_scorecard
    where platform = $1 and tier = $2 and ($3::varchar is null or category = $3)
)
select
    row_number() over (order by er_percentile desc nulls last, er_median desc nulls last, account_id)
        as rank,
    handle,
    account_id,
    category,
    followers,
    round(er_median * 100, 2) as er_median_pct,
    round(er_percentile, 1) as er_percentile,
    round(growth_rate_30d * 100, 2) as growth_30d_pct,
    round(growth_percentile_tier, 1) as growth_percentile_tier,
    round(growth_rate_90d * 100, 2) as growth_90d_pct,
    round(posts_per_week, 2) as posts_per_week,
    round(consistency, 2) as consistency,
    round(sponsored_share, 2) as sponsored_share,
    round(sponsored_to_organic_er, 2) as sponsored_to_organic_er,
    round(coverage, 2) as coverage,
    flags,
    concat_ws(
        ', ',
        case when flag_inactive_audience then 'inactive_audience' end,
        case when flag_following_spike then 'following_spike' end,
        case when flag_low_er then 'low_er' end,
        case when flag_likes_comments then 'likes_comments' end,
        case when flag_gain_then_loss then 'gain_then_loss' end
    ) as flagged,
    flag_reasons,
    as_of_date
from ranked
where ($4::double is null or er_percentile >= $4) and ($5::integer is null or flags <= $5)
order by rank
limit $6
