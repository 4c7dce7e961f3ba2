"""Tier benchmarks: where a creator stands against its peers, per platform, tier and month."""

from __future__ import annotations

import polars as pl

from schemas.marts import AGG_TIER_BENCHMARKS
from schemas.tables import ACCOUNT_KEY
from transforms.frames import as_of


def posts_in_tier(posts: pl.LazyFrame, daily: pl.LazyFrame) -> pl.LazyFrame:
    """One row per post: platform, the tier its account was confirmed in on its publication day
    (as of the latest snapshot day on or before it), month and er_followers.

    Per account, like `account_months`: a partition of accounts gives its own posts' rows.
    """
    key = list(ACCOUNT_KEY)
    return (
        posts.select(*key, "published_date", "er_followers")
        .pipe(as_of, daily.select(*key, "date", "tier"), "published_date", "date")
        .filter(pl.col("tier").is_not_null())
        .select(
            "platform",
            "tier",
            pl.col("published_date").dt.truncate("1mo").alias("month"),
            "er_followers",
        )
    )


def tier_benchmarks(post_tiers: pl.LazyFrame, months: pl.LazyFrame) -> pl.LazyFrame:
    """One row per platform, tier and month: ER percentiles of posts and median 30-day growth.

    Inputs: `posts_in_tier` rows (a post counts in its account's tier on its publication day)
    and `account_months` rows (an account counts in its tier on its last snapshot day of the
    month, with its growth_rate_30d on that day).
    """
    tier_at_publish = post_tiers.group_by("platform", "tier", "month").agg(
        pl.col("er_followers").quantile(0.25, interpolation="linear").alias("er_p25"),
        pl.col("er_followers").median().alias("er_median"),
        pl.col("er_followers").quantile(0.75, interpolation="linear").alias("er_p75"),
        pl.col("er_followers").count().cast(pl.Int64).alias("posts"),
    )
    month_end = months.group_by("platform", pl.col("to_tier").alias("tier"), "month").agg(
        pl.len().cast(pl.Int64).alias("accounts"),
        pl.col("growth_rate_30d").median().alias("growth_median"),
    )
    return (
        month_end.join(tier_at_publish, on=["platform", "tier", "month"], how="full", coalesce=True)
        .with_columns(pl.col("accounts").fill_null(0), pl.col("posts").fill_null(0))
        .sort("platform", "tier", "month")
        .pipe(AGG_TIER_BENCHMARKS.conform)
    )
