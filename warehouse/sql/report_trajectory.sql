-- Followers and median ER by month (fct_creator_monthly) of the top $2 creators of the
-- report's shortlist per platform (tier $1; the same ranking as report_shortlist.sql).
with top as (
    select platform, account_id, handle
    from marts.agg_creator_scorecard
    where tier = $1 and er_percentile_tier is not null
    qualify row_number() over (
        partition by platform order by er_percentile_tier desc, er_median desc, account_id
    ) <= $2
)
select t.platform, coalesce(t.handle, t.account_id) as creator, m.month, m.followers, m.er_median
from marts.fct_creator_monthly as m
join top as t using (platform, account_id)
order by t.platform, creator, m.month
