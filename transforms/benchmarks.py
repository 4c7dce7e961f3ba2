"""Tier benchmarks and the account dimension."""

from __future__ import annotations

import polars as pl

from transforms.growth import as_of
from transforms.tiers import ACCOUNT_KEY


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
        .select(
            "platform",
            "tier",
            "month",
            "accounts",
            "posts",
            "er_p25",
            "er_median",
            "er_p75",
            "growth_median",
        )
        .sort("platform", "tier", "month")
    )


def dim_account(
    accounts: pl.LazyFrame, daily: pl.LazyFrame, keys: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """One row per account: attributes, first and last snapshot day, latest followers and tier.

    `keys` lists the accounts to describe (default: those in `daily`); an account known only
    from its posts (a YouTube channel hiding its count) still gets a row, without followers.
    """
    key = list(ACCOUNT_KEY)
    latest = (
        daily.sort(*key, "date")
        .group_by(key)
        .agg(
            pl.col("date").first().alias("first_seen"),
            pl.col("date").last().alias("last_seen"),
            pl.col("followers").last().alias("followers_latest"),
            pl.col("tier").last().alias("tier_latest"),
        )
    )
    if keys is not None:
        latest = keys.select(key).unique().join(latest, on=key, how="left")
    return (
        latest.join(accounts.select(*key, "handle", "display_name", "category"), on=key, how="left")
        .select(
            *key,
            "handle",
            "display_name",
            "category",
            "first_seen",
            "last_seen",
            "followers_latest",
            "tier_latest",
        )
        .sort(*key)
    )
