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
TIER_NOTE = "Tier names come from the configured scheme (default: emerging <1K, nano 1K-10K, micro 10K-100K, macro 100K-1M, mega >=1M; lower bounds inclusive)."

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
            "followers - followers on the previous snapshot day; null on the first.",
        ),
        _c(
            "days_since_previous_snapshot",
            "integer",
            "Days since the previous snapshot (1 when daily); null on the first.",
        ),
        _c(
            "growth_rate_7d",
            "double",
            "followers_t / followers_(t-7) - 1, using the latest snapshot on or before t-7 and at most 7 days older; null when there is none. A fraction: 0.05 = +5%.",
        ),
        _c("growth_rate_30d", "double", "As growth_rate_7d over 30 days."),
        _c("growth_rate_90d", "double", "As growth_rate_7d over 90 days."),
        _c(
            "posts_published",
            "bigint",
            "Posts published after the previous snapshot day and up to this day.",
        ),
        _c(
            "raw_tier",
            "varchar",
            "Tier of this day's followers under the active scheme. " + TIER_NOTE,
        ),
        _c(
            "tier",
            "varchar",
            "Confirmed tier: a new raw tier counts once the account has stayed in it for the confirmation period (default 7 days), so hovering at a bound does not flip it.",
        ),
        _c("entered_tier_on", "date", "First day of the current run of raw_tier."),
        _c(
            "is_growth_anomaly", "boolean", "True when an anomaly rule fired for this day's change."
        ),
        _c(
            "anomaly_rule",
            "varchar",
            "The rule that fired first: sudden_drop (a one-day loss of 5% or more), robust_z (|change - trailing 28-day median| > 6 x IQR/1.349, with 14+ days of history), round_number_jump (an exact multiple of 1,000 gained in a day, exact counts only).",
        ),
        _c(
            "is_followers_rounded",
            "boolean",
            "True when the follower count is rounded by its source (YouTube, abbreviated creator-tool numbers).",
        ),
    ),
)

FCT_POST_METRICS = Mart(
    "fct_post_metrics",
    "one row per post (its latest snapshot)",
    "Engagement per post: the latest snapshot, the value at a fixed age of 7 days, and engagement rates.",
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
        _c("is_sponsored", "boolean", "Paid-partnership label, or an #ad / #sponsored hashtag."),
        _c("latest_snapshot_date", "date", "Day of the snapshot the metrics below come from."),
        _c(
            "likes",
            "bigint",
            "Likes on the latest snapshot; null if the platform does not report them.",
        ),
        _c("comments", "bigint", "Comments on the latest snapshot."),
        _c("shares", "bigint", "Shares on the latest snapshot (null on YouTube)."),
        _c("saves", "bigint", "Saves/collects on the latest snapshot (null on YouTube)."),
        _c("views", "bigint", "Views/plays on the latest snapshot."),
        _c("reach", "bigint", "Accounts reached (Instagram only)."),
        _c(
            "interactions",
            "bigint",
            "likes + comments + shares + saves over the components reported; null when none is.",
        ),
        _c(
            "followers_at_publish",
            "bigint",
            "Followers on the latest snapshot on or before the publication day (at most 7 days older).",
        ),
        _c("er_followers", "double", "interactions / followers_at_publish (fraction: 0.04 = 4%)."),
        _c("er_reach", "double", "interactions / reach."),
        _c("er_views", "double", "interactions / views."),
        _c(
            "age_hours_d7",
            "bigint",
            "Age in hours of the snapshot used for the fixed-age values (the one nearest 7 days, within 36 hours).",
        ),
        _c(
            "interactions_d7",
            "bigint",
            "interactions at a fixed age of about 7 days: comparable across posts of different ages.",
        ),
        _c("er_followers_d7", "double", "interactions_d7 / followers_at_publish."),
    ),
)

FCT_ENGAGEMENT_WEEKLY = Mart(
    "fct_engagement_weekly",
    "one row per account and ISO week with at least one post",
    "Weekly engagement per account, by publication week (Monday start).",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("week_start", "date", "Monday of the ISO week."),
        _c("posts", "bigint", "Posts published that week."),
        _c("interactions", "bigint", "Sum of the posts' latest interactions."),
        _c("er_followers_mean", "double", "Mean of the posts' er_followers (the classic formula)."),
        _c(
            "er_followers_median",
            "double",
            "Median of the posts' er_followers (robust to one viral post).",
        ),
        _c(
            "er_rolling_4w",
            "double",
            "Mean er_followers over the posts of this and the 3 previous weeks.",
        ),
        _c(
            "er_trend",
            "double",
            "er_rolling_4w / er_rolling_4w of 4 weeks earlier - 1; null without both.",
        ),
        _c("tier", "varchar", "Confirmed tier on the account's last snapshot day of the week."),
        _c(
            "er_vs_tier_median",
            "double",
            "er_followers_median / the median of er_followers_median over the platform's accounts in the same tier that week - 1.",
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
        _c("migrated_on", "date", "Day the new tier was confirmed (start of the new spell)."),
        _c("from_tier", "varchar", "Tier before."),
        _c("to_tier", "varchar", "Tier after."),
        _c("direction", "varchar", "up or down."),
        _c(
            "followers_before",
            "bigint",
            "Followers on the last snapshot day before migrated_on (within 7 days).",
        ),
        _c("followers_after", "bigint", "Followers on migrated_on."),
        _c("entered_tier_on", "date", "When the account first crossed into to_tier."),
    ),
)

AGG_TIER_TRANSITIONS_MONTHLY = Mart(
    "agg_tier_transitions_monthly",
    "one row per platform, month, from-tier and to-tier",
    "Monthly tier transition matrix: staying is a transition to the same tier.",
    (
        PLATFORM,
        _c("month", "date", "First day of the month."),
        _c(
            "from_tier",
            "varchar",
            "Confirmed tier on the account's first snapshot day of the month.",
        ),
        _c("to_tier", "varchar", "Confirmed tier on its last snapshot day of the month."),
        _c("accounts", "bigint", "Accounts making this transition."),
        _c(
            "share_of_from_tier",
            "double",
            "accounts / all accounts starting the month in from_tier (shares add to 1 per from_tier).",
        ),
    ),
)

AGG_TIER_BENCHMARKS = Mart(
    "agg_tier_benchmarks",
    "one row per platform, tier and month",
    "Engagement and growth benchmarks per tier: where a creator stands against its peers.",
    (
        PLATFORM,
        _c("tier", "varchar", "Confirmed tier."),
        _c("month", "date", "First day of the month."),
        _c("accounts", "bigint", "Accounts whose last snapshot of the month is in the tier."),
        _c("posts", "bigint", "Posts published in the month by accounts then in the tier."),
        _c("er_p25", "double", "25th percentile of those posts' er_followers."),
        _c("er_median", "double", "Median of those posts' er_followers."),
        _c("er_p75", "double", "75th percentile of those posts' er_followers."),
        _c(
            "growth_median",
            "double",
            "Median growth_rate_30d of the accounts on their last snapshot day of the month.",
        ),
    ),
)

DIM_ACCOUNT = Mart(
    "dim_account",
    "one row per account",
    "Creators: attributes, first and last snapshot, latest followers and tier.",
    (
        PLATFORM,
        ACCOUNT_ID,
        _c("handle", "varchar", "Latest known handle (username)."),
        _c("display_name", "varchar", "Latest known display name."),
        _c("category", "varchar", "Latest known content category."),
        _c("first_seen", "date", "First follower-snapshot day."),
        _c("last_seen", "date", "Latest follower-snapshot day."),
        _c("followers_latest", "bigint", "Followers on last_seen."),
        _c("tier_latest", "varchar", "Confirmed tier on last_seen."),
    ),
)

MARTS: tuple[Mart, ...] = (
    DIM_ACCOUNT,
    FCT_ACCOUNT_DAILY,
    FCT_POST_METRICS,
    FCT_ENGAGEMENT_WEEKLY,
    FCT_TIER_HISTORY,
    FCT_TIER_MIGRATIONS,
    AGG_TIER_TRANSITIONS_MONTHLY,
    AGG_TIER_BENCHMARKS,
)
BY_NAME: dict[str, Mart] = {m.name: m for m in MARTS}
