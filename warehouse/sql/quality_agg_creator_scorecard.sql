-- Every scorecard (one row per account), with whether its flag count and its reasons agree:
-- one reason per fired flag, ' | '-separated (transforms.scorecard.REASON_SEPARATOR).
select
    platform, account_id, er_percentile_category, er_percentile_tier,
    growth_percentile_category, growth_percentile_tier, coverage, consistency,
    coalesce(len(string_split(flag_reasons, ' | ')), 0) = flags as flags_explained
from marts.agg_creator_scorecard
