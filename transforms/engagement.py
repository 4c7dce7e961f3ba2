"""Engagement: per-post metrics (latest and at a fixed age) and weekly engagement per account."""

from __future__ import annotations

import polars as pl

from schemas.marts import FCT_ENGAGEMENT_WEEKLY, FCT_POST_METRICS
from schemas.tables import ACCOUNT_KEY
from transforms.expressions import interactions, ratio
from transforms.frames import as_of

FIXED_AGE_DAYS = 7
# The snapshot nearest 7 days after publication counts as the day-7 value only if it was
# captured within this many hours of that moment.
FIXED_AGE_TOLERANCE_HOURS = 36
ROLLING_WEEKS = 4
# Weekly columns that compare an account with every account of its tier that week: added by
# `relative_to_tier` once the week's accounts are together.
RELATIVE_TO_TIER = ("er_vs_tier_median",)


def post_metrics(post_snapshots: pl.LazyFrame, follower_snapshots: pl.LazyFrame) -> pl.LazyFrame:
    """One row per post: its latest snapshot, interactions, followers at publish and rates.

    Input: post snapshots, one row per (platform, post_id, snapshot_date); follower snapshots,
    one row per (platform, account_id, snapshot_date) for the same accounts.
    """
    key = ["platform", "post_id"]
    ordered = post_snapshots.sort(*key, "snapshot_date")
    latest = ordered.group_by(key).agg(pl.all().last())
    target = pl.col("published_at") + pl.duration(days=FIXED_AGE_DAYS)
    distance = (pl.col("captured_at") - target).abs()
    at_fixed_age = (
        ordered.with_columns(distance.alias("_distance"))
        .filter(pl.col("_distance") <= pl.duration(hours=FIXED_AGE_TOLERANCE_HOURS))
        .sort(*key, "_distance", "captured_at")
        .group_by(key)
        .agg(pl.all().first())
        .select(
            *key,
            ((pl.col("captured_at") - pl.col("published_at")).dt.total_hours()).alias(
                "age_hours_d7"
            ),
            interactions().alias("interactions_d7"),
            pl.col("views").alias("views_d7"),
        )
    )
    followers = follower_snapshots.select(
        *ACCOUNT_KEY,
        pl.col("snapshot_date").alias("_follower_date"),
        pl.col("followers").alias("followers_at_publish"),
    )
    return (
        latest.with_columns(
            pl.col("published_at").dt.date().alias("published_date"),
            pl.col("snapshot_date").alias("latest_snapshot_date"),
            interactions().alias("interactions"),
        )
        # As of publication: the latest follower snapshot on or before the publication day.
        .pipe(as_of, followers, "published_date", "_follower_date")
        .join(at_fixed_age, on=key, how="left")
        .with_columns(
            ratio(pl.col("interactions"), pl.col("followers_at_publish")).alias("er_followers"),
            ratio(pl.col("interactions"), pl.col("reach")).alias("er_reach"),
            ratio(pl.col("interactions"), pl.col("views")).alias("er_views"),
            ratio(pl.col("interactions_d7"), pl.col("followers_at_publish")).alias(
                "er_followers_d7"
            ),
        )
        .sort(*key)
        .pipe(FCT_POST_METRICS.conform)
    )


def weekly_engagement(posts: pl.LazyFrame, daily_tiers: pl.LazyFrame) -> pl.LazyFrame:
    """One row per account and ISO week with posts: ER mean/median, rolling 4-week ER, trend, tier.

    Input: post metrics (one row per post) and daily tiers (platform, account_id, date, tier).
    `er_vs_tier_median` is added by `relative_to_tier` (it needs every account of the week).
    """
    key = list(ACCOUNT_KEY)
    weekly = (
        posts.with_columns(pl.col("published_date").dt.truncate("1w").alias("week_start"))
        .group_by(*key, "week_start")
        .agg(
            pl.len().cast(pl.Int64).alias("posts"),
            pl.col("interactions").sum().alias("interactions"),
            pl.col("er_followers").mean().alias("er_followers_mean"),
            pl.col("er_followers").median().alias("er_followers_median"),
            pl.col("er_followers").sum().alias("_er_sum"),
            pl.col("er_followers").count().alias("_er_count"),
        )
        .sort(*key, "week_start")
    )
    window = f"{ROLLING_WEEKS * 7}d"
    rolling = weekly.with_columns(
        (
            pl.col("_er_sum").rolling_sum_by("week_start", window_size=window).over(key)
            / pl.col("_er_count").rolling_sum_by("week_start", window_size=window).over(key)
        ).alias("er_rolling_4w")
    )
    # Trend: this 4-week ER against the 4 weeks before it (relative change).
    earlier = rolling.select(
        *key,
        (pl.col("week_start") + pl.duration(weeks=ROLLING_WEEKS)).alias("week_start"),
        pl.col("er_rolling_4w").alias("_er_previous_4w"),
    )
    tiers = (
        daily_tiers.with_columns(pl.col("date").dt.truncate("1w").alias("week_start"))
        .sort(*key, "date")
        .group_by(*key, "week_start")
        .agg(pl.col("tier").last())
    )
    return FCT_ENGAGEMENT_WEEKLY.conform(
        rolling.join(earlier, on=[*key, "week_start"], how="left")
        .with_columns(
            ratio(pl.col("er_rolling_4w"), pl.col("_er_previous_4w")).sub(1).alias("er_trend")
        )
        .join(tiers, on=[*key, "week_start"], how="left"),
        without=RELATIVE_TO_TIER,
    )


def relative_to_tier(weekly: pl.LazyFrame) -> pl.LazyFrame:
    """Adds er_vs_tier_median: the account's median ER over its tier's median that week, minus 1."""
    tier_median = pl.col("er_followers_median").median().over("platform", "tier", "week_start")
    return FCT_ENGAGEMENT_WEEKLY.conform(
        weekly.with_columns(
            ratio(pl.col("er_followers_median"), tier_median).sub(1).alias("er_vs_tier_median")
        )
    )
