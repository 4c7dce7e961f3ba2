"""Tier migration: spells of the confirmed tier, migration events, monthly transition matrices."""

from __future__ import annotations

import polars as pl

from schemas.marts import AGG_TIER_TRANSITIONS_MONTHLY, FCT_TIER_HISTORY, FCT_TIER_MIGRATIONS
from schemas.tables import ACCOUNT_KEY
from transforms.frames import as_of
from transforms.tiers import TierScheme, tier_rank


def tier_spells(daily: pl.LazyFrame) -> pl.LazyFrame:
    """One row per account and spell of an unchanged confirmed tier: valid_from, valid_to.

    Input grain: one row per (platform, account_id, date) with the confirmed `tier`.
    `valid_to` is the first day of the next spell (exclusive), null while current.
    """
    key = list(ACCOUNT_KEY)
    return (
        daily.sort(*key, "date")
        .with_columns(
            (pl.col("tier") != pl.col("tier").shift())
            .fill_null(True)
            .cum_sum()
            .over(key)
            .alias("_spell")
        )
        .group_by(*key, "_spell")
        .agg(
            pl.col("tier").first(),
            pl.col("date").first().alias("valid_from"),
            pl.col("entered_tier_on").first(),
            pl.col("followers").first().alias("followers_first"),
        )
        .sort(*key, "valid_from")
        .with_columns(pl.col("valid_from").shift(-1).over(key).alias("valid_to"))
        .pipe(FCT_TIER_HISTORY.conform)
    )


def tier_migrations(spells: pl.LazyFrame, daily: pl.LazyFrame, scheme: TierScheme) -> pl.LazyFrame:
    """One row per confirmed migration: the day the new tier was confirmed, from, to, direction.

    followers_before is the count on the last snapshot day before the migration,
    followers_after on the migration day; entered_tier_on is when the account first crossed.
    """
    key = list(ACCOUNT_KEY)
    before = daily.select(
        *key, pl.col("date").alias("_last_day"), pl.col("followers").alias("followers_before")
    )
    events = (
        spells.sort(*key, "valid_from")
        .with_columns(pl.col("tier").shift().over(key).alias("from_tier"))
        .filter(pl.col("from_tier").is_not_null())
        .rename(
            {"valid_from": "migrated_on", "tier": "to_tier", "followers_first": "followers_after"}
        )
        .with_columns((pl.col("migrated_on") - pl.duration(days=1)).alias("_day_before"))
        .pipe(as_of, before, "_day_before", "_last_day")
    )
    up = tier_rank(pl.col("to_tier"), scheme) > tier_rank(pl.col("from_tier"), scheme)
    return (
        events.with_columns(
            pl.when(up).then(pl.lit("up")).otherwise(pl.lit("down")).alias("direction")
        )
        .sort(*key, "migrated_on")
        .pipe(FCT_TIER_MIGRATIONS.conform)
    )


def account_months(daily: pl.LazyFrame) -> pl.LazyFrame:
    """One row per account and month: its confirmed tier on its first snapshot day of the month
    (from_tier) and on its last (to_tier), and its growth_rate_30d on that last day.

    The per-account half of the monthly marts: any subset of accounts (a partition) gives that
    subset's rows, so a month of every account's days never has to be in memory at once.
    """
    return (
        daily.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .sort(*ACCOUNT_KEY, "date")
        .group_by(*ACCOUNT_KEY, "month")
        .agg(
            pl.col("tier").first().alias("from_tier"),
            pl.col("tier").last().alias("to_tier"),
            pl.col("growth_rate_30d").last(),
        )
    )


def transitions_monthly(months: pl.LazyFrame) -> pl.LazyFrame:
    """One row per platform, month, from-tier and to-tier: accounts and their share of the from-tier.

    Input: `account_months` rows. Staying in a tier is a transition to itself, so each
    from-tier's shares add to 1.
    """
    counts = months.group_by("platform", "month", "from_tier", "to_tier").agg(
        pl.len().cast(pl.Int64).alias("accounts")
    )
    return (
        counts.with_columns(
            (
                pl.col("accounts") / pl.col("accounts").sum().over("platform", "month", "from_tier")
            ).alias("share_of_from_tier")
        )
        .sort("platform", "month", "from_tier", "to_tier")
        .pipe(AGG_TIER_TRANSITIONS_MONTHLY.conform)
    )
