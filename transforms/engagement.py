"""Engagement: per-post metrics (latest and at a fixed age) and weekly engagement per account."""

from __future__ import annotations

import polars as pl

from schemas.marts import FCT_ENGAGEMENT_WEEKLY, FCT_POST_METRICS
from schemas.tables import ACCOUNT_KEY
from transforms.expressions import (
    INTERACTION_COMPONENTS,
    interactions,
    likes_and_comments,
    missing_component,
    ratio,
)
from transforms.frames import account_number, as_of

FIXED_AGE_DAYS = 7
# The snapshot nearest 7 days after publication counts as the day-7 value only if it was
# captured within this many hours of that moment.
FIXED_AGE_TOLERANCE_HOURS = 36
ROLLING_WEEKS = 4
# Days between two accounts on weekly_engagement's timeline: more than any window (8 weeks)
# and than the days from 1970 to any week (a Date is days since then).
ACCOUNT_DAYS = 1_000_000
# What weekly ER, trends and the engagement risers compare: (likes + comments) at a fixed age
# over followers at publication. Comparable across platforms, and across accounts read with or
# without insights (saves and shares exist only for owned Instagram accounts).
WEEKLY_ER = "er_followers_lc_d7"
# Weekly columns that compare an account with every account of its tier that week: added by
# `relative_to_tier` once the week's accounts are together.
RELATIVE_TO_TIER = ("er_vs_tier_median",)


def post_metrics(post_snapshots: pl.LazyFrame, follower_snapshots: pl.LazyFrame) -> pl.LazyFrame:
    """One row per post: its latest snapshot, its values at a fixed age of 7 days, followers at
    publication and engagement rates.

    Input: post snapshots, one row per (platform, post_id, snapshot_date); follower snapshots,
    one row per (platform, account_id, snapshot_date) for the same accounts.
    """
    key = ["platform", "post_id"]
    # The latest snapshot by a filter: no sort of every snapshot's columns (0.49 -> 0.40 s for
    # a full rebuild's partition of 2.1M snapshots, session 37).
    latest = post_snapshots.filter(
        pl.col("snapshot_date") == pl.col("snapshot_date").max().over(key)
    )
    target = pl.col("published_at") + pl.duration(days=FIXED_AGE_DAYS)
    distance = (pl.col("captured_at") - target).abs()
    at_fixed_age = (
        post_snapshots.with_columns(distance.alias("_distance"))
        .filter(pl.col("_distance") <= pl.duration(hours=FIXED_AGE_TOLERANCE_HOURS))
        # Nearest the target, then the earlier capture; a capture saved under two snapshot
        # days (a re-export) counts as the later day's.
        .sort(*key, "_distance", "captured_at", "snapshot_date", descending=[False] * 4 + [True])
        .group_by(key)
        .agg(pl.all().first())
        .select(
            *key,
            # Whole hours since publication, rounded down.
            ((pl.col("captured_at") - pl.col("published_at")).dt.total_hours()).alias(
                "age_hours_d7"
            ),
            *(pl.col(c).alias(f"{c}_d7") for c in (*INTERACTION_COMPONENTS, "views")),
        )
    )
    followers = follower_snapshots.select(
        *ACCOUNT_KEY,
        pl.col("snapshot_date").alias("_follower_date"),
        pl.col("followers").alias("followers_at_publish"),
    )
    followers_at_publish = pl.col("followers_at_publish")
    # A fixed-age value can still come while the latest capture is younger than its window.
    still_young = pl.col("captured_at") < target + pl.duration(hours=FIXED_AGE_TOLERANCE_HOURS)
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
            ratio(pl.col("interactions"), followers_at_publish).alias("er_followers"),
            ratio(likes_and_comments(), followers_at_publish).alias("er_followers_lc"),
            ratio(pl.col("interactions"), pl.col("reach")).alias("er_reach"),
            ratio(pl.col("interactions"), pl.col("views")).alias("er_views"),
            pl.coalesce(
                missing_component(),
                pl.when(followers_at_publish.is_null()).then(
                    pl.lit("no follower snapshot in the 7 days before publication")
                ),
                pl.when(followers_at_publish <= 0).then(pl.lit("no followers at publication")),
            ).alias("er_null_reason"),
            interactions("_d7").alias("interactions_d7"),
            ratio(interactions("_d7"), followers_at_publish).alias("er_followers_d7"),
            ratio(likes_and_comments("_d7"), followers_at_publish).alias("er_followers_lc_d7"),
            ratio(likes_and_comments("_d7"), pl.col("views_d7")).alias("er_views_lc_d7"),
            (pl.col("age_hours_d7").is_null() & still_young).alias("is_d7_pending"),
        )
        # In no particular order: the pipeline joins them to its scope next (which keeps no
        # order) and the warehouse stores them by date (warehouse.marts.insert_account_rows).
        .pipe(FCT_POST_METRICS.conform)
    )


def weekly_engagement(
    posts: pl.LazyFrame, daily_tiers: pl.LazyFrame, *, earlier_weeks: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """One row per account and ISO week with posts: ER mean/median, rolling 4-week ER, trend, tier.

    Input: post metrics (one row per post) and daily tiers (platform, account_id, date, tier).
    ER is WEEKLY_ER, each post's value at a fixed age: a post still younger than that counts
    in `posts` and `posts_pending`, not in the rates. `er_vs_tier_median` is added by
    `relative_to_tier` (it needs every account of the week).

    `earlier_weeks`: weeks before those of `posts` given as their sums instead of their posts
    (platform, account_id, week_start, er_sum: WEEKLY_ER summed, 0 without a value; er_count:
    posts with a value; weeks with posts only), which the rolling ER and trend of `posts`'
    weeks read; they get no row of their own. None: the rolling windows read `posts` only.
    """
    key = list(ACCOUNT_KEY)
    er = pl.col(WEEKLY_ER)
    weekly = (
        posts.with_columns(pl.col("published_date").dt.truncate("1w").alias("week_start"))
        .group_by(*key, "week_start")
        .agg(
            pl.len().cast(pl.Int64).alias("posts"),
            pl.col("is_d7_pending").sum().cast(pl.Int64).alias("posts_pending"),
            pl.col("interactions").sum().alias("interactions"),
            er.mean().alias("er_followers_mean"),
            er.median().alias("er_followers_median"),
            er.sum().alias("_er_sum"),
            er.count().cast(pl.Int64).alias("_er_count"),
        )
    )
    if earlier_weeks is not None:
        summed = earlier_weeks.select(
            *key,
            "week_start",
            pl.col("er_sum").cast(pl.Float64).alias("_er_sum"),
            pl.col("er_count").cast(pl.Int64).alias("_er_count"),
            pl.lit(True).alias("_earlier"),
        )
        weekly = pl.concat([weekly, summed], how="diagonal_relaxed")
    weekly = (
        weekly.sort(*key, "week_start")
        # Every account's weeks on one integer timeline of days, the accounts numbered along
        # the sort and ACCOUNT_DAYS apart, so that one rolling window over the frame never
        # reaches another account: a window per account (`over`) cost 0.09 s for a night's
        # 20,000 accounts, this 0.003 s, the same sums (session 37).
        .with_columns(
            (
                account_number().cast(pl.Int64) * ACCOUNT_DAYS + pl.col("week_start").cast(pl.Int64)
            ).alias("_timeline")
        )
    )

    def over_weeks(column: str, weeks: int) -> pl.Expr:
        # Calendar weeks: rows of the weeks (week_start - weeks, week_start], posts or not.
        return pl.col(column).rolling_sum_by("_timeline", window_size=f"{weeks * 7}i")

    last = (over_weeks("_er_sum", ROLLING_WEEKS), over_weeks("_er_count", ROLLING_WEEKS))
    both = (over_weeks("_er_sum", 2 * ROLLING_WEEKS), over_weeks("_er_count", 2 * ROLLING_WEEKS))
    rolling = weekly.with_columns(
        ratio(last[0], last[1]).alias("er_rolling_4w"),
        ratio(both[0] - last[0], both[1] - last[1]).alias("_er_previous_4w"),
    )
    tiers = (
        daily_tiers.with_columns(pl.col("date").dt.truncate("1w").alias("week_start"))
        .sort(*key, "date")
        .group_by(*key, "week_start")
        .agg(pl.col("tier").last())
    )
    if earlier_weeks is not None:
        rolling = rolling.filter(pl.col("_earlier").is_null())
    return FCT_ENGAGEMENT_WEEKLY.conform(
        rolling.with_columns(
            # This 4-week ER against the 4 calendar weeks before it (relative change).
            ratio(pl.col("er_rolling_4w"), pl.col("_er_previous_4w")).sub(1).alias("er_trend")
        ).join(tiers, on=[*key, "week_start"], how="left"),
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
