"""The mart graph: which transform feeds which, for a scope of accounts and days.

A scope is a frame of (platform, account_id, emit_from): the accounts to rebuild and, per
account, the first day whose rows change. Every metric is causal (a day's value depends only on
data up to that day), so rows before emit_from stay as they are, and a rebuild of the scope
needs only a bounded history before it (`history_days`). A full rebuild is the same code with
every account and the earliest day: that is what makes "incremental equals full" testable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from transforms.benchmarks import dim_account, tier_benchmarks
from transforms.engagement import ROLLING_WEEKS, post_metrics, relative_to_tier, weekly_engagement
from transforms.growth import AS_OF_TOLERANCE_DAYS, account_daily, lookback_days
from transforms.migrations import tier_migrations, tier_spells, transitions_monthly
from transforms.tiers import ACCOUNT_KEY, TierScheme, emitted_rows

KEY = list(ACCOUNT_KEY)


def history_days(confirmation_days: int) -> int:
    """Days before emit_from that a rebuild reads (snapshots, posts, marts)."""
    weekly = 7 * (2 * ROLLING_WEEKS) + 7  # rolling window + trend baseline + the partial week
    return max(lookback_days(confirmation_days), weekly, AS_OF_TOLERANCE_DAYS)


@dataclass(frozen=True)
class AccountInputs:
    """What a rebuild of a scope reads; every frame is limited to the scope's accounts.

    follower_snapshots, post_snapshots: staging rows from emit_from - history_days on.
    earlier_posts: fct_post_metrics rows published in [emit_from - history_days, emit_from).
    earlier_daily: fct_account_daily rows in [emit_from - history_days, emit_from).
    current_spells: fct_tier_history spells still open on emit_from - 1.
    accounts: staging.accounts; earlier_dim: dim_account rows (for first_seen).
    """

    follower_snapshots: pl.LazyFrame
    post_snapshots: pl.LazyFrame
    earlier_posts: pl.LazyFrame
    earlier_daily: pl.LazyFrame
    current_spells: pl.LazyFrame
    accounts: pl.LazyFrame
    earlier_dim: pl.LazyFrame


def build_account_marts(
    inputs: AccountInputs, scope: pl.LazyFrame, scheme: TierScheme, confirmation_days: int
) -> dict[str, pl.LazyFrame]:
    """The rows of each account-grain mart from emit_from on, for the accounts of `scope`."""
    posts = emitted_rows(
        post_metrics(inputs.post_snapshots, inputs.follower_snapshots), scope, "published_date"
    ).pipe(_align, inputs.earlier_posts)
    all_posts = pl.concat([inputs.earlier_posts, posts], how="vertical_relaxed")
    seed = (
        inputs.earlier_daily.sort(*KEY, "date")
        .group_by(KEY)
        .agg(pl.col("tier").last().alias("seed_tier"))
    )
    daily = account_daily(
        inputs.follower_snapshots,
        all_posts.select(*KEY, "published_date"),
        scheme,
        confirmation_days,
        emit_from=scope,
        seed_tiers=seed,
    ).pipe(_align, inputs.earlier_daily)
    all_daily = pl.concat([inputs.earlier_daily, daily], how="vertical_relaxed")
    spells = _spells(daily, inputs.current_spells)
    migrations = emitted_rows(
        tier_migrations(spells, all_daily, scheme).rename({"migrated_on": "date"}), scope, "date"
    ).rename({"date": "migrated_on"})
    week_scope = scope.with_columns(pl.col("emit_from").dt.truncate("1w"))
    weekly = emitted_rows(
        weekly_engagement(all_posts, all_daily.select(*KEY, "date", "tier")).rename(
            {"week_start": "date"}
        ),
        week_scope,
        "date",
    ).rename({"date": "week_start"})
    # The dimension from the rows at hand; what they cannot tell (an account whose snapshots
    # all predate the read window, first_seen) comes from its earlier dimension row.
    earlier = inputs.earlier_dim.select(
        *KEY,
        *(
            pl.col(c).alias(f"_earlier_{c}")
            for c in ("first_seen", "last_seen", "followers_latest", "tier_latest")
        ),
    )
    dim = (
        dim_account(inputs.accounts, all_daily, keys=scope)
        .join(earlier, on=KEY, how="left")
        .with_columns(
            pl.min_horizontal("_earlier_first_seen", "first_seen").alias("first_seen"),
            pl.coalesce("last_seen", "_earlier_last_seen").alias("last_seen"),
            pl.coalesce("followers_latest", "_earlier_followers_latest").alias("followers_latest"),
            pl.coalesce("tier_latest", "_earlier_tier_latest").alias("tier_latest"),
        )
        .drop(pl.selectors.starts_with("_earlier_"))
    )
    return {
        "fct_post_metrics": posts,
        "fct_account_daily": daily,
        "fct_tier_history": spells,
        "fct_tier_migrations": migrations,
        "fct_engagement_weekly": weekly,
        "dim_account": dim,
    }


def _align(frame: pl.LazyFrame, like: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` with the columns and types of `like` (the mart as stored)."""
    schema = like.collect_schema()
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def _spells(daily: pl.LazyFrame, current_spells: pl.LazyFrame) -> pl.LazyFrame:
    """Spells from the open spell on (emit_from - 1) onwards: it may continue or end."""
    opening = current_spells.select(
        *KEY,
        pl.col("valid_from").alias("date"),
        "tier",
        "entered_tier_on",
        pl.col("followers_first").alias("followers"),
    )
    rows = pl.concat(
        [opening, daily.select(*KEY, "date", "tier", "entered_tier_on", "followers")],
        how="vertical_relaxed",
    )
    return tier_spells(rows)


def build_period_marts(
    daily: pl.LazyFrame, posts: pl.LazyFrame, first_month
) -> dict[str, pl.LazyFrame]:
    """Cross-account monthly marts from `first_month` on (every account of those months)."""
    months = {
        "agg_tier_transitions_monthly": transitions_monthly(daily),
        "agg_tier_benchmarks": tier_benchmarks(posts, daily),
    }
    return {name: frame.filter(pl.col("month") >= first_month) for name, frame in months.items()}


def with_tier_medians(weekly: pl.LazyFrame) -> pl.LazyFrame:
    """er_vs_tier_median for every account of the given weeks."""
    return relative_to_tier(weekly.drop("er_vs_tier_median", strict=False))


def read_window_start(emit_from, confirmation_days: int):
    return emit_from - timedelta(days=history_days(confirmation_days))
