"""Tier benchmarks: where a creator stands against its peers, per platform, tier and month."""

from __future__ import annotations

import polars as pl

from schemas.marts import AGG_TIER_BENCHMARKS
from schemas.tables import ACCOUNT_KEY

# The benchmark rows of every category together.
ALL_CATEGORIES = "(all)"
# Accounts without a known category.
UNKNOWN_CATEGORY = "(unknown)"


def creator_months(
    months: pl.LazyFrame, posts: pl.LazyFrame, categories: pl.LazyFrame
) -> pl.LazyFrame:
    """One row per account and month: its month-end tier (`account_months`), category, and the
    median of its posts' fixed-age ER that month, by followers and by views, over its measured
    posts (those with a fixed-age value).

    Per account, like `account_months`: a partition of accounts gives its own rows. Each
    creator counts once however often it posts; benchmarks are percentiles across creators.
    """
    key = list(ACCOUNT_KEY)
    measured = posts.filter(pl.col("er_followers_lc_d7").is_not_null())
    per_creator = (
        measured.with_columns(pl.col("published_date").dt.truncate("1mo").alias("month"))
        .group_by(*key, "month")
        .agg(
            pl.len().cast(pl.Int64).alias("posts"),
            pl.col("er_followers_lc_d7").median().alias("er"),
            pl.col("er_views_lc_d7").median().alias("er_views"),
        )
    )
    return (
        months.join(per_creator, on=[*key, "month"], how="left")
        .join(categories.select(*key, "category"), on=key, how="left")
        .select(
            *key,
            "month",
            pl.col("to_tier").alias("tier"),
            pl.col("category").fill_null(UNKNOWN_CATEGORY),
            pl.col("posts").fill_null(0),
            "er",
            "er_views",
            "growth_rate_30d",
        )
    )


def tier_benchmarks(creators: pl.LazyFrame) -> pl.LazyFrame:
    """One row per platform, tier, category and month (and per platform, tier and month over
    all categories): percentiles across creators of their median ER, and median 30-day growth.

    Input: `creator_months` rows. Percentiles interpolate linearly between creators (numpy's
    default); a creator without a measured post that month counts in `accounts` only.
    """

    def aggregated(by_category: pl.Expr) -> pl.LazyFrame:
        return creators.group_by("platform", "tier", by_category.alias("category"), "month").agg(
            pl.len().cast(pl.Int64).alias("accounts"),
            pl.col("er").count().cast(pl.Int64).alias("accounts_with_posts"),
            pl.col("posts").sum().cast(pl.Int64).alias("posts"),
            *(
                pl.col(metric).quantile(q, interpolation="linear").alias(f"{name}_{suffix}")
                for metric, name in (("er", "er"), ("er_views", "er_views"))
                for q, suffix in ((0.25, "p25"), (0.5, "median"), (0.75, "p75"))
            ),
            pl.col("growth_rate_30d").median().alias("growth_median"),
        )

    return (
        pl.concat([aggregated(pl.col("category")), aggregated(pl.lit(ALL_CATEGORIES))])
        .sort("platform", "tier", "category", "month")
        .pipe(AGG_TIER_BENCHMARKS.conform)
    )
