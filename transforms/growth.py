"""Audience growth: daily follower changes, growth windows, tiers and growth anomalies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from schemas.marts import FCT_ACCOUNT_DAILY
from schemas.tables import ACCOUNT_KEY
from transforms.frames import AS_OF_TOLERANCE_DAYS, as_of
from transforms.tiers import TierScheme, confirm_tiers, tier_of

GROWTH_WINDOWS: tuple[int, ...] = (7, 30, 90)
# Anomaly rules (each flagged row names the rule that fired first).
ANOMALY_WINDOW_DAYS = 28  # trailing window of the account's own daily changes
ANOMALY_MIN_HISTORY = 14  # changes needed in the window before the z-score rule speaks
ROBUST_Z_THRESHOLD = 6.0  # |change - median| / (IQR / 1.349)
ANOMALY_MIN_CHANGE = 50  # followers: tiny accounts' noise is never an anomaly
SUDDEN_DROP_SHARE = -0.05  # a one-day loss of 5% or more (a purge of fake followers)
ROUND_JUMP_UNIT = 1_000  # a gain that is an exact multiple of 1,000 (bought packages)

# Contiguous snapshot history a rebuild from day D reads before D: the anomaly rule's trailing
# window and the day before it (its first change). The previous snapshot and the tier state come
# from the seed (the last mart row), the growth windows' as-of values from `as_of_windows`.
RECENT_DAYS = ANOMALY_WINDOW_DAYS + 1


def as_of_windows(windows: Sequence[int] = GROWTH_WINDOWS) -> list[tuple[int, int]]:
    """(days before the first emitted day, days before the last) bounding each as-of lookup."""
    return [(n + AS_OF_TOLERANCE_DAYS, n) for n in windows]


def account_daily(
    followers: pl.LazyFrame,
    posts_published: pl.LazyFrame,
    scheme: TierScheme,
    confirmation_days: int,
    *,
    emit_from: date | pl.LazyFrame | None = None,
    seed: pl.LazyFrame | None = None,
    history: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per account and follower-snapshot day: followers, changes, growth, tiers, anomalies.

    Input grain: follower snapshots, one row per (platform, account_id, snapshot_date), and
    `posts_published` with (platform, account_id, published_date). For an incremental run:
    `emit_from` (rows before it are context only), `seed` (each account's last mart row before
    emit_from: the previous snapshot and the tier state), `followers` from emit_from minus the
    anomaly window on, and `history` (the snapshots around t-7/30/90 the growth windows look
    up; default: `followers`).
    """
    key = list(ACCOUNT_KEY)
    snapshots = followers.select(
        *key, "snapshot_date", "followers", "following", "is_followers_rounded"
    )
    if seed is not None:
        previous = seed.select(
            *key,
            pl.col("date").alias("snapshot_date"),
            "followers",
            "following",
            "is_followers_rounded",
        )
        # The seed is the previous snapshot even across a long gap; staging wins on the same day.
        snapshots = pl.concat([previous, snapshots], how="vertical_relaxed").unique(
            subset=[*key, "snapshot_date"], keep="last", maintain_order=True
        )
    lookups = (
        snapshots
        if history is None
        else pl.concat(
            [history.select(snapshots.collect_schema().names()), snapshots], how="vertical_relaxed"
        ).unique(subset=[*key, "snapshot_date"], keep="last", maintain_order=True)
    )
    daily = (
        snapshots.sort(*key, "snapshot_date")
        .with_columns(
            pl.col("followers").diff().over(key).alias("followers_change"),
            (pl.col("snapshot_date") - pl.col("snapshot_date").shift().over(key))
            .dt.total_days()
            .cast(pl.Int32)
            .alias("days_since_previous_snapshot"),
            pl.col("followers").shift().over(key).alias("_previous_followers"),
            pl.col("is_followers_rounded").shift().over(key).alias("_previous_rounded"),
        )
        .pipe(_growth_windows, lookups, GROWTH_WINDOWS)
        .pipe(_anomalies)
        .with_columns(tier_of(pl.col("followers"), scheme).alias("raw_tier"))
        # Before the emit_from cut, so that posts between the previous snapshot and the first
        # emitted day count on the emitted day, and older ones do not.
        .pipe(_posts_published, posts_published)
    )
    daily = confirm_tiers(daily, confirmation_days, seed=seed, emit_from=emit_from)
    return FCT_ACCOUNT_DAILY.conform(daily.rename({"snapshot_date": "date"}))


def _growth_windows(
    daily: pl.LazyFrame, snapshots: pl.LazyFrame, windows: Sequence[int]
) -> pl.LazyFrame:
    """growth_rate_Nd = followers_t / followers_(latest snapshot on or before t-N) - 1."""
    history = snapshots.select(
        *ACCOUNT_KEY,
        pl.col("snapshot_date").alias("_as_of_date"),
        pl.col("followers").alias("_as_of_followers"),
    ).sort("_as_of_date")
    for n in windows:
        target = (pl.col("snapshot_date") - pl.duration(days=n)).alias("_target")
        daily = (
            as_of(daily.with_columns(target), history, "_target", "_as_of_date")
            .with_columns(
                pl.when(pl.col("_as_of_followers") > 0)
                .then(pl.col("followers") / pl.col("_as_of_followers") - 1)
                .alias(f"growth_rate_{n}d")
            )
            .drop("_target", "_as_of_date", "_as_of_followers")
        )
    return daily.sort(*ACCOUNT_KEY, "snapshot_date")


def _anomalies(daily: pl.LazyFrame) -> pl.LazyFrame:
    """Flag daily changes far outside the account's own recent behaviour, purges, round jumps."""
    key = list(ACCOUNT_KEY)
    change = pl.col("followers_change").cast(pl.Float64)
    window = f"{ANOMALY_WINDOW_DAYS}d"

    def trailing(expr: pl.Expr) -> pl.Expr:
        return expr.over(key)

    median = trailing(change.rolling_median_by("snapshot_date", window_size=window, closed="left"))
    q25 = trailing(
        change.rolling_quantile_by(
            "snapshot_date", window_size=window, quantile=0.25, closed="left"
        )
    )
    q75 = trailing(
        change.rolling_quantile_by(
            "snapshot_date", window_size=window, quantile=0.75, closed="left"
        )
    )
    history = trailing(
        change.is_not_null()
        .cast(pl.Int32)
        .rolling_sum_by("snapshot_date", window_size=window, closed="left")
    )
    # IQR / 1.349 estimates the standard deviation robustly; a floor of 1 follower keeps a
    # perfectly flat history from making every tiny change infinite.
    scale = pl.max_horizontal((q75 - q25) / 1.349, pl.lit(1.0))
    robust_z = (change - median) / scale
    consecutive = pl.col("days_since_previous_snapshot") == 1
    big_enough = change.abs() >= ANOMALY_MIN_CHANGE
    exact_counts = ~pl.col("is_followers_rounded") & ~pl.col("_previous_rounded").fill_null(True)
    rules = {
        "sudden_drop": consecutive
        & big_enough
        & (pl.col("followers_change") <= SUDDEN_DROP_SHARE * pl.col("_previous_followers")),
        "robust_z": consecutive
        & big_enough
        & (history >= ANOMALY_MIN_HISTORY)
        & (robust_z.abs() > ROBUST_Z_THRESHOLD),
        "round_number_jump": consecutive
        & exact_counts
        & (pl.col("followers_change") >= ROUND_JUMP_UNIT)
        & (pl.col("followers_change") % ROUND_JUMP_UNIT == 0),
    }
    fired = pl.lit(None, pl.String)
    for name, condition in reversed(rules.items()):
        fired = pl.when(condition.fill_null(False)).then(pl.lit(name)).otherwise(fired)
    return daily.with_columns(fired.alias("anomaly_rule")).with_columns(
        pl.col("anomaly_rule").is_not_null().alias("is_growth_anomaly")
    )


def _posts_published(daily: pl.LazyFrame, posts: pl.LazyFrame) -> pl.LazyFrame:
    """Posts published after the previous snapshot day and up to this one (nothing uncounted)."""
    snapshot_days = daily.select(*ACCOUNT_KEY, pl.col("snapshot_date").alias("_counted_on")).sort(
        "_counted_on"
    )
    counted = (
        posts.select(*ACCOUNT_KEY, "published_date")
        .sort("published_date")
        # Each post counts on the first snapshot day on or after its publication.
        .join_asof(
            snapshot_days,
            left_on="published_date",
            right_on="_counted_on",
            by=list(ACCOUNT_KEY),
            strategy="forward",
            check_sortedness=False,
        )
        .group_by(*ACCOUNT_KEY, "_counted_on")
        .agg(pl.len().cast(pl.Int64).alias("posts_published"))
        .rename({"_counted_on": "snapshot_date"})
    )
    return daily.join(counted, on=[*ACCOUNT_KEY, "snapshot_date"], how="left").with_columns(
        pl.col("posts_published").fill_null(0)
    )
