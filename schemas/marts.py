"""The mart contracts: every BI table, its grain, and each column's type and meaning.

This is the one place mart columns are described: the warehouse DDL and its `COMMENT ON`
statements are generated from it, and `docs/marts.md` from those (`warehouse/catalog.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# The Polars type of each SQL type the marts use: what a transform's output column must be, and
# what DuckDB gives back through Arrow when a mart is read.
POLARS_TYPES: dict[str, pl.DataType] = {
    "varchar": pl.String(),
    "bigint": pl.Int64(),
    "integer": pl.Int32(),
    "double": pl.Float64(),
    "date": pl.Date(),
    "boolean": pl.Boolean(),
    "timestamptz": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str

    @property
    def dtype(self) -> pl.DataType:
        return POLARS_TYPES[self.sql_type]


@dataclass(frozen=True)
class Mart:
    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def schema(self, *, without: tuple[str, ...] = ()) -> pl.Schema:
        """The mart's columns and Polars types, in order (less the columns in `without`)."""
        return pl.Schema((c.name, c.dtype) for c in self.columns if c.name not in without)

    def conform(self, frame: pl.LazyFrame, *, without: tuple[str, ...] = ()) -> pl.LazyFrame:
        """`frame` as the mart's rows: exactly its columns, in order, with its types.

        `without`: columns a later step fills (e.g. er_vs_tier_median, which needs every account
        of the week). Every transform that produces a mart ends here, so the contract is the one
        list of the mart's columns.
        """
        return frame.select(
            pl.col(name).cast(dtype) for name, dtype in self.schema(without=without).items()
        )


def _c(name: str, sql_type: str, description: str) -> Column:
    return Column(name, sql_type, description)


PLATFORM = _c("platform", "varchar", "Platform: instagram, tiktok or youtube.")
ACCOUNT_ID = _c(
    "account_id",
    "varchar",
    "The platform's account id (IG user id, TikTok open_id, YouTube channel id).",
)
TIER_NOTE = "Tier names and bounds come from the scheme the marts are built with (marts.dim_tier; default: emerging <1K, nano 1K-10K, micro 10K-100K, macro 100K-1M, mega >=1M; lower bounds inclusive)."

FCT_ACCOUNT_DAILY = Mart(
    "fct_account_daily",
    "one row per account and follower-snapshot day",
    "Audience growth per account and day with a follower snapshot. Days without a snapshot have no row: gaps are explicit (days_since_previous_snapshot).",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("date", "date", "Snapshot day (UTC)."),
        _c(
            "followers",
            "bigint",
            "Followers on the snapshot (YouTube: rounded to 3 significant digits by the platform).",
        ),
        _c("following", "bigint", "Accounts followed, where the platform reports it."),
        _c(
            "followers_change",
            "bigint",
            "followers - followers on the previous snapshot day; null on the first. Where either count is rounded (YouTube) and followers_gained is known: followers_gained - followers_lost, the exact change the owner's analytics counted.",
        ),
        _c(
            "followers_gained",
            "bigint",
            "Followers gained on the days after the previous snapshot day up to this one, as the account owner's analytics count them (YouTube Reporting API channel_basic_a2, YouTube Studio: subscribersGained; exact, never rounded). Null unless every one of those days is reported and they are at most 29; null on the first row.",
        ),
        _c(
            "followers_lost",
            "bigint",
            "Followers lost over the same days (subscribersLost); null with followers_gained.",
        ),
        _c(
            "days_since_previous_snapshot",
            "integer",
            "Days since the previous snapshot (1 when daily); null on the first.",
        ),
        _c(
            "growth_rate_7d",
            "double",
            "followers_t / followers_base - 1, where the base is the account's latest snapshot on or before t-7 and at most 1 day older (t-8); null when there is none or the base count is 0. A fraction: 0.05 = +5%.",
        ),
        _c(
            "growth_rate_30d",
            "double",
            "As growth_rate_7d over 30 days; the base at most 3 days older than t-30.",
        ),
        _c(
            "growth_rate_90d",
            "double",
            "As growth_rate_7d over 90 days; the base at most 7 days older than t-90.",
        ),
        _c("growth_base_date_7d", "date", "Day of growth_rate_7d's base snapshot (null with it)."),
        _c("growth_base_date_30d", "date", "Day of growth_rate_30d's base snapshot."),
        _c("growth_base_date_90d", "date", "Day of growth_rate_90d's base snapshot."),
        _c(
            "posts_published",
            "bigint",
            "Posts published after the previous snapshot day and up to this day (on an account's first row: every post published up to that day).",
        ),
        _c(
            "raw_tier",
            "varchar",
            "Tier of this day's followers under the active scheme. " + TIER_NOTE,
        ),
        _c(
            "tier",
            "varchar",
            "Confirmed tier. An account's first tier needs no confirmation; a new raw tier becomes the confirmed tier on the first snapshot at least confirmation_days (default 7) calendar days after entered_tier_on (with daily snapshots, its 8th day in the tier) on which raw_tier_snapshots is at least 3 (or confirmation_days + 1 when smaller), so hovering at a bound or two snapshots days apart never flip it.",
        ),
        _c(
            "entered_tier_on",
            "date",
            "First day of the current run of raw_tier (the day the account crossed into it).",
        ),
        _c(
            "raw_tier_snapshots",
            "bigint",
            "Snapshots in the current run of raw_tier, this one included.",
        ),
        _c(
            "followers_before_tier",
            "bigint",
            "Followers on the last snapshot before entered_tier_on (however old); null in the account's first tier.",
        ),
        _c(
            "is_growth_anomaly",
            "boolean",
            "True when an anomaly rule fired for this row's change (anomaly_rule says which).",
        ),
        _c(
            "anomaly_rule",
            "varchar",
            "The first rule that fired, in this order. sudden_drop: followers_change <= -5% of the previous snapshot's followers, at least 50 followers, the snapshots at most 7 days apart. robust_z: rate = followers_change / days_since_previous_snapshot; median and quartiles (linear interpolation) of the rates of the account's changes dated in the 28 days before this one (this one excluded); scale = max((q75 - q25) / 1.349, unit / days_since_previous_snapshot), unit = 1 follower, or when either count is rounded 10^(floor(log10(max of the two counts)) - 2) (3 significant digits); fires when |rate - median| / scale > 6, |followers_change| >= 50 and > unit, and the window's changes span at least 14 days. round_number_jump: a gain of an exact multiple of 1,000 (at least 1,000) from the day before, both counts exact. Null when none fired.",
        ),
        _c(
            "is_followers_rounded",
            "boolean",
            "True when the follower count is rounded by its source (YouTube, abbreviated creator-tool numbers).",
        ),
    ),
)

# The fixed age at which posts are compared (transforms/engagement.py: FIXED_AGE_DAYS and its
# tolerance): a post keeps collecting engagement for days, so latest values are shown, never
# compared.
D7_NOTE = "taken from the snapshot captured nearest 7 days after publication, within 36 hours of it (null when there is none)"
COMPONENTS_NOTE = "the components the platform reports: likes, comments, shares and saves on Instagram and TikTok; likes and comments on YouTube"

FCT_POST_METRICS = Mart(
    "fct_post_metrics",
    "one row per post (its latest snapshot)",
    "Engagement per post: the latest snapshot, the values at a fixed age of 7 days, and engagement rates. Comparisons (weekly ER, benchmarks, rankings) use the fixed-age values; the latest ones are shown, not compared.",
    (
        PLATFORM,
        _c("post_id", "varchar", "The platform's post id."),
        ACCOUNT_ID,
        _c("published_at", "timestamptz", "Publication time (UTC)."),
        _c("published_date", "date", "Publication day (UTC)."),
        _c(
            "media_type",
            "varchar",
            "image, video, carousel, reel, story or short (as the platform reports).",
        ),
        _c(
            "is_sponsored",
            "boolean",
            "True when the platform's paid-partnership label says so or the caption or hashtags carry #ad, #sponsored, #paidpartnership, #partner or #werbung: either source is enough, an explicit 'not sponsored' label does not override a hashtag. Null when the export has neither.",
        ),
        _c("latest_snapshot_date", "date", "Day of the snapshot the metrics below come from."),
        _c(
            "likes",
            "bigint",
            "Likes on the latest snapshot; null if the export does not carry them (e.g. hidden by the creator).",
        ),
        _c("comments", "bigint", "Comments on the latest snapshot."),
        _c("shares", "bigint", "Shares on the latest snapshot (null on YouTube)."),
        _c("saves", "bigint", "Saves/collects on the latest snapshot (null on YouTube)."),
        _c("views", "bigint", "Views/plays on the latest snapshot."),
        _c("reach", "bigint", "Accounts reached (Instagram only)."),
        _c(
            "interactions",
            "bigint",
            f"Sum of {COMPONENTS_NOTE}; null when any of those is missing (er_null_reason says which): a partial sum would read as a poor creator.",
        ),
        _c(
            "followers_at_publish",
            "bigint",
            "Followers on the account's latest snapshot on or before the publication day, at most 7 days older; null when there is none.",
        ),
        _c(
            "er_followers",
            "double",
            "interactions / followers_at_publish (fraction: 0.04 = 4%); null when either is null or followers_at_publish is 0.",
        ),
        _c(
            "er_followers_lc",
            "double",
            "(likes + comments) / followers_at_publish: the basis of most published benchmarks, comparable across platforms; null when likes or comments is missing.",
        ),
        _c("er_reach", "double", "interactions / reach."),
        _c("er_views", "double", "interactions / views."),
        _c(
            "er_null_reason",
            "varchar",
            "Why er_followers is null: '<component> not reported' (a component the platform reports is missing), 'no follower snapshot in the 7 days before publication' or 'no followers at publication'; null when it is computed.",
        ),
        _c(
            "age_hours_d7",
            "bigint",
            f"Whole hours (rounded down) from published_at to the captured_at of the fixed-age snapshot, {D7_NOTE}.",
        ),
        _c("likes_d7", "bigint", f"Likes at the fixed age: {D7_NOTE}."),
        _c("comments_d7", "bigint", "Comments at the fixed age."),
        _c("views_d7", "bigint", "Views at the fixed age."),
        _c(
            "interactions_d7",
            "bigint",
            "interactions at the fixed age (same components and null rule as interactions).",
        ),
        _c("er_followers_d7", "double", "interactions_d7 / followers_at_publish."),
        _c(
            "er_followers_lc_d7",
            "double",
            "(likes_d7 + comments_d7) / followers_at_publish: what weekly ER, benchmarks and the engagement risers compare.",
        ),
        _c(
            "er_views_lc_d7",
            "double",
            "(likes_d7 + comments_d7) / views_d7: ER by views, the natural basis on TikTok and YouTube.",
        ),
        _c(
            "is_d7_pending",
            "boolean",
            "True while the post has no fixed-age value yet and its latest snapshot was captured less than 7 days + 36 hours after publication (a value may still come); such posts are left out of comparisons.",
        ),
    ),
)

FCT_ENGAGEMENT_WEEKLY = Mart(
    "fct_engagement_weekly",
    "one row per account and ISO week with at least one post",
    "Weekly engagement per account, by publication week (Monday start). ER is each post's er_followers_lc_d7 (likes + comments at a fixed age of 7 days over followers at publication); posts without it (too young, or no snapshot near day 7) count in posts but not in the rates.",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("week_start", "date", "Monday of the ISO week."),
        _c("posts", "bigint", "Posts published that week."),
        _c(
            "posts_pending",
            "bigint",
            "Of those, posts still waiting for their fixed-age value (is_d7_pending).",
        ),
        _c(
            "interactions",
            "bigint",
            "Sum of the posts' latest interactions (posts with unknown interactions add nothing).",
        ),
        _c("er_followers_mean", "double", "Mean of the posts' er_followers_lc_d7."),
        _c(
            "er_followers_median",
            "double",
            "Median of the posts' er_followers_lc_d7 (robust to one viral post; the mean of the two middle values for an even count).",
        ),
        _c(
            "er_rolling_4w",
            "double",
            "Mean er_followers_lc_d7 over the posts of this and the 3 previous calendar weeks.",
        ),
        _c(
            "er_trend",
            "double",
            "er_rolling_4w / (mean er_followers_lc_d7 over the posts of the 4 calendar weeks before those) - 1: positive when engagement rises. Null when either window has no measured post or the earlier ER is 0.",
        ),
        _c("tier", "varchar", "Confirmed tier on the account's last snapshot day of the week."),
        _c(
            "er_vs_tier_median",
            "double",
            "er_followers_median / the median of er_followers_median over the platform's accounts in the same tier that week - 1 (a ratio: 0.2 = 20% above the tier's median).",
        ),
    ),
)

FCT_TIER_HISTORY = Mart(
    "fct_tier_history",
    "one row per account and spell of an unchanged confirmed tier",
    "Tier spells (slowly changing dimension).",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("tier", "varchar", "Confirmed tier during the spell."),
        _c("valid_from", "date", "First day of the spell."),
        _c("valid_to", "date", "First day of the next spell (exclusive); null while current."),
        _c(
            "entered_tier_on",
            "date",
            "When the account first crossed into the tier (before confirmation).",
        ),
        _c("followers_first", "bigint", "Followers on the spell's first day."),
    ),
)

FCT_TIER_MIGRATIONS = Mart(
    "fct_tier_migrations",
    "one row per confirmed tier migration",
    "Tier changes confirmed after the confirmation period; hovering at a bound produces none.",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c(
            "migrated_on",
            "date",
            "Day the new tier was confirmed (start of the new spell; fct_account_daily.tier explains when).",
        ),
        _c("from_tier", "varchar", "Tier before."),
        _c("to_tier", "varchar", "Tier after."),
        _c("direction", "varchar", "up or down."),
        _c(
            "followers_before",
            "bigint",
            "Followers on the last snapshot before entered_tier_on, the day the account crossed into to_tier (however old that snapshot is).",
        ),
        _c("followers_after", "bigint", "Followers on migrated_on."),
        _c("entered_tier_on", "date", "When the account first crossed into to_tier."),
    ),
)

AGG_TIER_TRANSITIONS_MONTHLY = Mart(
    "agg_tier_transitions_monthly",
    "one row per platform, month, from-tier and to-tier",
    "Monthly tier transition matrix. Each confirmed migration (fct_tier_migrations) counts once, off the diagonal, in the month it is dated, including one confirmed on the month's first snapshot day; an account without a migration that month counts once on the diagonal, in its tier. An account that migrates twice in a month counts in both cells.",
    (
        PLATFORM,
        _c("month", "date", "First day of the month."),
        _c(
            "from_tier",
            "varchar",
            "Confirmed tier before the transition: for a migration, the tier it left; for an account staying, its tier.",
        ),
        _c(
            "to_tier",
            "varchar",
            "Confirmed tier after the transition (the same as from_tier for an account staying).",
        ),
        _c("accounts", "bigint", "Transitions from from_tier to to_tier in the month."),
        _c(
            "share_of_from_tier",
            "double",
            "accounts / all transitions from from_tier that month (shares add to 1 per from_tier).",
        ),
    ),
)

BENCHMARK_NOTE = "Percentile across creators (linear interpolation between them) of each creator's median, over its posts published in the month that have a fixed-age value"

AGG_TIER_BENCHMARKS = Mart(
    "agg_tier_benchmarks",
    "one row per platform, tier, category and month, plus one per platform, tier and month with category '(all)'",
    "Engagement and growth benchmarks per tier and content category: where a creator stands against its peers. Per creator first (its median ER over the month), then percentiles across creators, so that frequent posters do not dominate. A creator counts in the tier of its last snapshot day of the month and in its latest known category.",
    (
        PLATFORM,
        _c("tier", "varchar", "Confirmed tier on the creator's last snapshot day of the month."),
        _c(
            "category",
            "varchar",
            "The creators' latest known content category; '(unknown)' when none is known; '(all)' for the row over every category.",
        ),
        _c("month", "date", "First day of the month."),
        _c("accounts", "bigint", "Creators whose last snapshot of the month is in the tier."),
        _c(
            "accounts_with_posts",
            "bigint",
            "Of those, creators with at least one post with a fixed-age value in the month: the creators the ER percentiles are over.",
        ),
        _c(
            "posts", "bigint", "Posts with a fixed-age value those creators published in the month."
        ),
        _c(
            "er_p25",
            "double",
            f"{BENCHMARK_NOTE}, of er_followers_lc_d7 ((likes + comments) at 7 days / followers at publication): 25th percentile.",
        ),
        _c("er_median", "double", "As er_p25: the median (50th percentile)."),
        _c("er_p75", "double", "As er_p25: 75th percentile."),
        _c(
            "er_views_p25",
            "double",
            f"{BENCHMARK_NOTE}, of er_views_lc_d7 ((likes + comments) at 7 days / views at 7 days), the natural basis on TikTok and YouTube: 25th percentile. Null where views are not reported.",
        ),
        _c("er_views_median", "double", "As er_views_p25: the median."),
        _c("er_views_p75", "double", "As er_views_p25: 75th percentile."),
        _c(
            "growth_median",
            "double",
            "Median of the creators' growth_rate_30d on their last snapshot day of the month.",
        ),
    ),
)

DIM_ACCOUNT = Mart(
    "dim_account",
    "one row per account",
    "Creators: attributes, first and last snapshot, latest followers and tier. Includes accounts without a follower snapshot (a YouTube channel hiding its subscriber count, an account known from its posts only): their follower columns are null and tier_unknown_reason says why.",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("handle", "varchar", "Latest known handle (username)."),
        _c("display_name", "varchar", "Latest known display name."),
        _c("category", "varchar", "Latest known content category."),
        _c("first_seen", "date", "First follower-snapshot day (null without one)."),
        _c("last_seen", "date", "Latest follower-snapshot day (null without one)."),
        _c("followers_latest", "bigint", "Followers on last_seen."),
        _c("tier_latest", "varchar", "Confirmed tier on last_seen."),
        _c(
            "followers_hidden",
            "boolean",
            "True when the account's latest export says the platform hides its follower count (YouTube hiddenSubscriberCount); false when it shows it; null when not known (no follower export seen, or rows staged by an inflow before 0.2).",
        ),
        _c(
            "tier_unknown_reason",
            "varchar",
            "Why tier_latest is null: 'follower count hidden by the platform' or 'no follower snapshot: known from its posts only'; null when the tier is known.",
        ),
    ),
)

DIM_TIER = Mart(
    "dim_tier",
    "one row per tier of the scheme the marts are built with",
    "The tier scheme every tier column of the marts uses (marts never mix two): tier names, their order and follower bounds. Schemes are configured (tier_scheme and [tier_schemes.NAME] in inflow.toml); accounts below a scheme's smallest bound are in the tier below_<smallest tier>.",
    (
        _c("tier_scheme", "varchar", "Name of the scheme."),
        _c("tier", "varchar", "Tier name."),
        _c(
            "tier_rank", "integer", "0 for the smallest tier, increasing upwards: sort tiers by it."
        ),
        _c("lower_bound", "bigint", "Smallest follower count in the tier (inclusive)."),
        _c(
            "upper_bound",
            "bigint",
            "Smallest follower count of the next tier (exclusive); null for the top tier.",
        ),
    ),
)

# Campaigns (transforms/campaigns.py; the input: schemas/campaigns.py).
CAMPAIGN_ID = _c("campaign_id", "varchar", "The campaign's id, as its campaign file names it.")
ER_D7_MEAN = "Mean of the posts' er_followers_lc_d7 ((likes + comments) at 7 days / followers at publication), posts still pending left out; null when none has it."
ER_D7_MEDIAN = "Median of the same values."
CAMPAIGN_SUMS = (
    _c("posts", "bigint", "Attributed posts (each once, however many rules matched)."),
    _c(
        "mentions",
        "bigint",
        "Of those, posts that mention or tag (as a hashtag) one of the brand's handles.",
    ),
    _c(
        "reach",
        "bigint",
        "Sum of the posts' latest reach (Instagram reports it): accounts reached per post, added up, so an account reached by two posts counts twice, as campaign reports count it; null when no post has it.",
    ),
    _c("views", "bigint", "Sum of the posts' latest views; null when no post has them."),
    _c(
        "impressions",
        "bigint",
        "Sum of the posts' latest impressions (Instagram exports from before 2025 carry them); null when no post has them.",
    ),
    _c(
        "interactions",
        "bigint",
        "Sum of the posts' latest interactions (fct_post_metrics.interactions); posts whose interactions are unknown add nothing.",
    ),
    _c("er_mean_d7", "double", ER_D7_MEAN),
    _c("er_median_d7", "double", ER_D7_MEDIAN),
)
COSTS = (
    _c(
        "cost_per_post",
        "double",
        "fee / posts, in the campaign's currency; null without posts or fee.",
    ),
    _c(
        "cpe",
        "double",
        "Cost per engagement = fee / interactions (Influencer Marketing Hub's and the ad industry's CPE: cost over engagements); null when interactions are 0 or unknown.",
    ),
    _c(
        "cpm",
        "double",
        "Cost per thousand = fee / impressions x 1000 (IAB: per thousand impressions), with views in place of impressions when impressions are not known for every post (cpm_basis says which); null when neither is known for every post.",
    ),
    _c("cpm_basis", "varchar", "impressions or views: what cpm divides by."),
    _c(
        "emv",
        "double",
        "Earned media value, an estimate: the sum over posts of likes, comments, shares, saves and views times the per-action values set in inflow.toml (emv_values); actions a platform does not report add nothing; null when no value is set.",
    ),
)

FCT_CAMPAIGN_POSTS = Mart(
    "fct_campaign_posts",
    "one row per campaign and attributed post",
    "The posts each campaign delivered, why each is the campaign's, and what it did. A post is attributed when its id is listed for a creator of the campaign (any date), or when a creator of the campaign published it between start_date and end_date (UTC, both included) and it carries a campaign hashtag, mentions or tags a brand handle, or is labelled a paid partnership (each rule only if the campaign enables it). A creator outside the campaign is never attributed; a post can belong to two campaigns.",
    (
        CAMPAIGN_ID,
        PLATFORM,
        _c("post_id", "varchar", "The platform's post id."),
        ACCOUNT_ID,
        _c("published_date", "date", "Publication day (UTC)."),
        _c(
            "attributed_by",
            "varchar",
            "The first rule that matched, in this order: post_ids, hashtags, mentions, paid_partnership.",
        ),
        _c("matched_rules", "varchar", "Every rule that matched, comma-separated, in that order."),
        _c(
            "mentions_brand",
            "boolean",
            "True when the post mentions or tags (as a hashtag) one of the brand's handles.",
        ),
        _c("is_sponsored", "boolean", "fct_post_metrics.is_sponsored."),
        _c("likes", "bigint", "Latest likes (fct_post_metrics)."),
        _c("comments", "bigint", "Latest comments."),
        _c("shares", "bigint", "Latest shares."),
        _c("saves", "bigint", "Latest saves."),
        _c("views", "bigint", "Latest views."),
        _c("reach", "bigint", "Latest reach (Instagram)."),
        _c(
            "impressions",
            "bigint",
            "Latest impressions where the export carries them (Instagram before 2025); never views.",
        ),
        _c("interactions", "bigint", "Latest interactions (fct_post_metrics.interactions)."),
        _c("likes_d7", "bigint", f"Likes at the fixed age: {D7_NOTE}."),
        _c("comments_d7", "bigint", "Comments at the fixed age."),
        _c("views_d7", "bigint", "Views at the fixed age."),
        _c("interactions_d7", "bigint", "Interactions at the fixed age of 7 days."),
        _c("er_followers", "double", "Latest interactions / followers at publication."),
        _c(
            "er_followers_lc_d7",
            "double",
            "(likes + comments) at 7 days / followers at publication: what campaign ER compares.",
        ),
        _c("is_d7_pending", "boolean", "True while the 7-day value may still come."),
    ),
)

AGG_CAMPAIGN_CREATORS = Mart(
    "agg_campaign_creators",
    "one row per campaign and listed creator",
    "What each creator of a campaign delivered and cost, in the campaign's currency. Every listed creator has a row, with 0 posts when none was attributed (a per-creator fee is still paid).",
    (
        CAMPAIGN_ID,
        PLATFORM,
        _c(
            "account_id",
            "varchar",
            "The creator's account id, given or resolved from the handle through dim_account; null when the handle matches no known account.",
        ),
        _c("handle", "varchar", "The handle the campaign file gives (lowercase, no @), if any."),
        *CAMPAIGN_SUMS,
        _c("currency", "varchar", "The campaign's currency (ISO 4217)."),
        _c(
            "fee",
            "double",
            "What the creator is paid: the fee for a per_creator fee, fee x posts for a per_post fee; null when the file gives none.",
        ),
        _c("fee_basis", "varchar", "per_creator or per_post."),
        *COSTS,
    ),
)

AGG_CAMPAIGN = Mart(
    "agg_campaign",
    "one row per campaign",
    "A campaign's KPIs: its creators, posts, reach, interactions, ER and cost, in its currency.",
    (
        CAMPAIGN_ID,
        _c("brand", "varchar", "The brand."),
        _c("name", "varchar", "The campaign's name."),
        _c("start_date", "date", "First day (UTC) posts count from."),
        _c("end_date", "date", "Last day (UTC) posts count to."),
        _c("currency", "varchar", "The currency of every fee (one per campaign)."),
        _c("creators", "bigint", "Creators listed."),
        _c("creators_posting", "bigint", "Creators with at least one attributed post."),
        *CAMPAIGN_SUMS,
        _c(
            "fee_total",
            "double",
            "Sum of the creators' fees (agg_campaign_creators.fee); null when none is given.",
        ),
        *(Column(c.name, c.sql_type, c.description.replace("fee /", "fee_total /")) for c in COSTS),
    ),
)

SPONSORSHIP_SPLIT = (
    _c("posts", "bigint", "Posts published that month."),
    _c("sponsored_posts", "bigint", "Of those, posts labelled or tagged sponsored (is_sponsored)."),
    _c(
        "organic_posts",
        "bigint",
        "Of those, posts known not to be sponsored (is_sponsored false; unknown counts in neither).",
    ),
    _c("er_median_d7", "double", "Median er_followers_lc_d7 of the posts (pending left out)."),
    _c("er_median_sponsored_d7", "double", "The same over sponsored posts."),
    _c("er_median_organic_d7", "double", "The same over organic posts."),
)

AGG_BRAND_MENTIONS = Mart(
    "agg_brand_mentions",
    "one row per brand handle, account and month with a post naming the handle",
    "Who already talks about a brand (or its competitors): posts that mention or tag (as a hashtag) a brand handle, by publication month. The handles are every campaign's brand_handles and inflow.toml's brand_handles.",
    (
        _c("brand_handle", "varchar", "The brand's handle (lowercase, no @)."),
        PLATFORM,
        ACCOUNT_ID,
        _c("month", "date", "First day of the publication month."),
        *SPONSORSHIP_SPLIT,
    ),
)

AGG_SPONSORED_MONTHLY = Mart(
    "agg_sponsored_monthly",
    "one row per account and month with a post",
    "Sponsored against organic: whether a creator's audience follows paid content as it follows the rest (the ratio agencies read before booking).",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("month", "date", "First day of the publication month."),
        *SPONSORSHIP_SPLIT,
        _c(
            "sponsored_to_organic_er",
            "double",
            "er_median_sponsored_d7 / er_median_organic_d7 (1 = paid posts engage like the rest); null when either is null or the organic median is 0.",
        ),
    ),
)

# Creator scorecards (transforms/scorecard.py; thresholds: transforms.scorecard.ScorecardRules,
# set in inflow.toml [scorecard]). A creator's window is the window_days (default 90) days
# ending on its as-of day; ER is per post at the fixed age of 7 days, never the latest values.
WINDOW_NOTE = "in the window (the window_days days up to as_of_date, both included)"
PERCENTILE_NOTE = "Percent rank, as SQL's PERCENT_RANK: 100 x (creators of the group with a lower value) / (creators of the group with a value - 1); 100 = the group's highest, ties share the lower rank. Null when the creator has no value or fewer than min_peers (default 5) creators of the group have one"
FLAG_NOTE = "True when the rule fired, false when it was evaluated and did not, null when it could not be evaluated (flags_not_evaluated says why)"
SCORECARD_COLUMNS = (
    PLATFORM,
    ACCOUNT_ID,
    _c("month", "date", "First day of the month of as_of_date."),
    _c(
        "as_of_date",
        "date",
        "The account's last follower-snapshot day in the month: the window ends on it.",
    ),
    _c("window_start", "date", "First day of the window: as_of_date - (window_days - 1)."),
    _c("followers", "bigint", "Followers on as_of_date."),
    _c("following", "bigint", "Accounts followed on as_of_date, where the platform reports it."),
    _c("tier", "varchar", "Confirmed tier on as_of_date (fct_account_daily.tier). " + TIER_NOTE),
    _c(
        "category",
        "varchar",
        "The creator's latest known content category (dim_account, as agg_tier_benchmarks); '(unknown)' when none is known.",
    ),
    _c("snapshot_days", "bigint", f"Days with a follower snapshot {WINDOW_NOTE}."),
    _c(
        "coverage",
        "double",
        "snapshot_days / window_days: 1 = a snapshot every day. Low coverage makes every figure below less certain.",
    ),
    _c("posts", "bigint", f"Posts published {WINDOW_NOTE}."),
    _c("posts_per_week", "double", "posts / (window_days / 7)."),
    _c(
        "weeks_with_posts",
        "bigint",
        "Of the floor(window_days / 7) whole 7-day blocks counted back from as_of_date, those with at least one post.",
    ),
    _c(
        "consistency",
        "double",
        "weeks_with_posts / floor(window_days / 7): the share of weeks the creator posted (1 = every week).",
    ),
    _c(
        "posts_measured",
        "bigint",
        "Of the posts, those with a fixed-age value (er_followers_lc_d7; not pending): the posts the ER medians are over.",
    ),
    _c(
        "er_median",
        "double",
        "Median of the measured posts' er_followers_lc_d7 ((likes + comments) at 7 days / followers at publication, fct_post_metrics); null without a measured post.",
    ),
    _c(
        "er_views_median",
        "double",
        "Median of the posts' er_views_lc_d7 ((likes + comments) / views at 7 days): ER by views, the natural basis on TikTok and YouTube; null where views are not reported.",
    ),
    _c(
        "likes_per_comment",
        "double",
        "Sum of likes_d7 / sum of comments_d7 over the measured posts; null when they have no comments.",
    ),
    _c("growth_rate_30d", "double", "fct_account_daily.growth_rate_30d on as_of_date."),
    _c("growth_rate_90d", "double", "fct_account_daily.growth_rate_90d on as_of_date."),
    _c(
        "followers_growth_window",
        "double",
        "followers / followers on the window's first snapshot - 1 (the change the inactive_audience rule reads).",
    ),
    _c(
        "sponsored_posts",
        "bigint",
        "Posts labelled or tagged sponsored (fct_post_metrics.is_sponsored).",
    ),
    _c(
        "organic_posts",
        "bigint",
        "Posts known not to be sponsored (is_sponsored false; unknown counts in neither).",
    ),
    _c(
        "sponsored_share",
        "double",
        "sponsored_posts / (sponsored_posts + organic_posts); null when no post's sponsorship is known.",
    ),
    _c(
        "er_median_sponsored",
        "double",
        "Median er_followers_lc_d7 of the measured sponsored posts.",
    ),
    _c("er_median_organic", "double", "Median er_followers_lc_d7 of the measured organic posts."),
    _c(
        "sponsored_to_organic_er",
        "double",
        "er_median_sponsored / er_median_organic (1 = paid posts engage like the rest); null when either is null or the organic median is 0.",
    ),
    _c(
        "peers_category",
        "bigint",
        "Creators of the month in the same platform, tier and category with an er_median: the group er_percentile_category and er_rank_category are over.",
    ),
    _c(
        "er_category_median",
        "double",
        "Median of those creators' er_median: the norm the low_er rule compares with; null when they are fewer than min_peers.",
    ),
    _c(
        "er_percentile_category",
        "double",
        f"{PERCENTILE_NOTE}. Of er_median within platform x tier x category.",
    ),
    _c(
        "er_rank_category",
        "bigint",
        "Rank of er_median within platform x tier x category, 1 = highest (ties share the best rank; 1, 1, 3); null without er_median.",
    ),
    _c("growth_percentile_category", "double", "As er_percentile_category, of growth_rate_30d."),
    _c(
        "peers_tier",
        "bigint",
        "Creators of the month in the same platform and tier with an er_median.",
    ),
    _c(
        "er_percentile_tier",
        "double",
        "As er_percentile_category, within platform x tier (every category).",
    ),
    _c("er_rank_tier", "bigint", "As er_rank_category, within platform x tier."),
    _c("growth_percentile_tier", "double", "As er_percentile_tier, of growth_rate_30d."),
    _c(
        "likes_per_comment_tier_median",
        "double",
        "Median likes_per_comment of the platform x tier creators of the month with at least likes_comments_min_comments comments: the norm the likes_comments rule compares with; null when fewer than min_peers.",
    ),
    _c(
        "flag_inactive_audience",
        "boolean",
        f"Followers rising while interactions per post stay flat or fall (an inactive or bought audience): followers_growth_window >= inactive_min_follower_growth (default 10%) and the median likes + comments at 7 days of the posts in the window's later half / that of its earlier half - 1 <= inactive_max_interaction_growth (default 0). Evaluated with at least inactive_min_posts (3) measured posts in each half and a snapshot in the earlier half. {FLAG_NOTE}.",
    ),
    _c(
        "flag_following_spike",
        "boolean",
        f"A spike in accounts followed (follow/unfollow growth tactics): between two snapshots at most 7 days apart in the window, following rose by at least following_spike_min (default 200) and by at least following_spike_share (50%) of what it was. Evaluated where following is reported on two such snapshots (never on YouTube). {FLAG_NOTE}.",
    ),
    _c(
        "flag_low_er",
        "boolean",
        f"ER far below the norm: er_median < low_er_ratio (default 0.5) x er_category_median; evaluated where both are known. {FLAG_NOTE}.",
    ),
    _c(
        "flag_likes_comments",
        "boolean",
        f"An unusual likes-to-comments ratio (bought likes, or comment pods): likes_per_comment above likes_comments_factor (default 4) times likes_per_comment_tier_median, or below it divided by that factor. Evaluated with at least likes_comments_min_comments (30) comments at 7 days in the window and a likes_per_comment_tier_median. {FLAG_NOTE}.",
    ),
    _c(
        "flag_gain_then_loss",
        "boolean",
        f"A sudden gain followed within weeks by a loss (bought followers purged): a followers_change over at most 7 days of at least gain_min_followers (default 200) and gain_min_share (5%) of the followers before it, then within loss_within_days (28) days a count at least loss_share (50%) of that gain below the count the gain reached. Evaluated with a change over at most 7 days in the window. {FLAG_NOTE}.",
    ),
    _c("flags", "integer", "Flags that fired (0 to 5)."),
    _c(
        "flag_reasons",
        "varchar",
        "Each flag that fired with the numbers that fired it and its thresholds, ' | '-separated; null when none fired.",
    ),
    _c(
        "flags_not_evaluated",
        "varchar",
        "Each flag that could not be evaluated and why, ' | '-separated; null when all were.",
    ),
)

# What a scorecard reads of the daily and post marts (warehouse.marts.spill_scorecard_inputs
# reads these columns, transforms.scorecard.creator_windows computes from them): the daily rows
# from the first month scored with SCORECARD_DAILY_INPUT; those before it, which only the
# windows' days reach (growth rates and tier are read on the window's last day, in a scored
# month), with SCORECARD_WINDOW_INPUT: half the bytes of a night's 90 days of every account.
SCORECARD_WINDOW_INPUT = (
    "platform",
    "account_id",
    "date",
    "followers",
    "following",
    "followers_change",
    "days_since_previous_snapshot",
)
SCORECARD_DAILY_INPUT = (*SCORECARD_WINDOW_INPUT, "growth_rate_30d", "growth_rate_90d", "tier")
SCORECARD_POSTS_INPUT = (
    "platform",
    "account_id",
    "published_date",
    "is_sponsored",
    "is_d7_pending",
    "likes_d7",
    "comments_d7",
    "er_followers_lc_d7",
    "er_views_lc_d7",
)
# What the monthly marts read of them (warehouse.marts.spill_period_inputs reads these columns,
# transforms.pipeline.account_period_rows computes from them): a subset of the scorecard's, so a
# rebuild whose first month both need reads that month's rows once (flows.transform.MonthReads).
PERIOD_DAILY_INPUT = ("platform", "account_id", "date", "followers", "tier", "growth_rate_30d")
PERIOD_POSTS_INPUT = (
    "platform",
    "account_id",
    "published_date",
    "er_followers_lc_d7",
    "er_views_lc_d7",
)

# What an account rebuild reads of the mart rows before emit_from (warehouse.marts reads these
# columns, transforms.pipeline.build_account_marts computes from them; the rest it never looks
# at: a third of fct_account_daily's bytes and a fifth of fct_post_metrics' are these). The
# daily rows' tier is read from the first rebuilt week on (the weeks' tiers; null before it:
# warehouse/sql/read_earlier_daily.sql). followers_before_tier is not read: a migration is
# emitted on a rebuilt day, whose row the rebuild computes.
EARLIER_DAILY_INPUT = (
    "platform",
    "account_id",
    "date",
    "followers",
    "followers_change",
    "days_since_previous_snapshot",
    "tier",
)
EARLIER_POSTS_INPUT = (
    "platform",
    "account_id",
    "published_date",
    "is_d7_pending",
    "interactions",
    "er_followers_lc_d7",
)

FCT_CREATOR_MONTHLY = Mart(
    "fct_creator_monthly",
    "one row per account and month with a follower snapshot",
    "A creator's scorecard as of its last snapshot day of each month: activity, fixed-age ER, growth, sponsorship, percentiles among its peers of the month and audience-quality flags, each over the window_days (default 90) days up to that day. The trajectory of a creator; agg_creator_scorecard is its latest row.",
    SCORECARD_COLUMNS,
)

AGG_CREATOR_SCORECARD = Mart(
    "agg_creator_scorecard",
    "one row per account with a follower snapshot",
    "Choosing creators: each creator's latest fct_creator_monthly row (as of its latest snapshot day), with its handle. Percentiles compare it with the creators of that month; `inflow shortlist` ranks them. Accounts without a follower snapshot (hidden counts) have no tier and no row.",
    (
        *SCORECARD_COLUMNS[:2],
        _c("handle", "varchar", "Latest known handle (dim_account)."),
        _c("display_name", "varchar", "Latest known display name."),
        *SCORECARD_COLUMNS[2:],
    ),
)

MARTS: tuple[Mart, ...] = (
    DIM_TIER,
    DIM_ACCOUNT,
    FCT_ACCOUNT_DAILY,
    FCT_POST_METRICS,
    FCT_ENGAGEMENT_WEEKLY,
    FCT_TIER_HISTORY,
    FCT_TIER_MIGRATIONS,
    AGG_TIER_TRANSITIONS_MONTHLY,
    AGG_TIER_BENCHMARKS,
    FCT_CAMPAIGN_POSTS,
    AGG_CAMPAIGN,
    AGG_CAMPAIGN_CREATORS,
    AGG_BRAND_MENTIONS,
    AGG_SPONSORED_MONTHLY,
    FCT_CREATOR_MONTHLY,
    AGG_CREATOR_SCORECARD,
)
BY_NAME: dict[str, Mart] = {m.name: m for m in MARTS}
