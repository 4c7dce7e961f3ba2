"""The mart graph: which transform feeds which, for a scope of accounts and days.

A scope is a frame of (platform, account_id, emit_from): the accounts to rebuild and, per
account, the first day whose rows change. Every metric is causal (a day's value depends only on
data up to that day), so rows before emit_from stay as they are. A rebuild reads only what each
metric needs before emit_from: the anomaly rule's trailing window (RECENT_DAYS), the snapshots
around t-7/30/90 (`as_of_windows`), the last mart row (the seed: previous snapshot and tier
state) and the weekly ER windows (POSTS_DAYS); never whole histories. A full rebuild is the
same code with every account and the earliest day: that is what makes "incremental equals
full" testable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from typing import Literal

import polars as pl

from schemas.marts import DIM_ACCOUNT, EARLIER_DAILY_INPUT, EARLIER_POSTS_INPUT
from schemas.tables import ACCOUNT_KEY
from transforms.accounts import dim_account, tier_unknown_reason
from transforms.benchmarks import creator_months, tier_benchmarks
from transforms.engagement import (
    ROLLING_WEEKS,
    post_metrics,
    relative_to_tier,
    weekly_engagement,
)
from transforms.frames import emitted_rows
from transforms.growth import account_daily
from transforms.migrations import (
    months_of,
    tier_migrations,
    tier_spells,
    transitions_monthly,
    transitions_of,
    with_previous_tier,
)
from transforms.tiers import TierScheme

KEY = list(ACCOUNT_KEY)


# Posts read before the first rebuilt week: the rolling 4-week ER of the trend's baseline week.
POSTS_DAYS = 7 * (2 * ROLLING_WEEKS - 1)


@dataclass(frozen=True)
class AccountInputs:
    """What a rebuild of a scope reads; every frame is limited to the scope's accounts.

    follower_snapshots: staging rows from chain_from on (the days before are earlier_daily's).
    as_of_snapshots: staging rows in the as-of windows before that.
    post_snapshots: staging rows of posts published from emit_from on.
    earlier_posts: fct_post_metrics rows (at least EARLIER_POSTS_INPUT) published in
        [emit week - POSTS_DAYS, emit_from); with `earlier_weeks`, only those from the emit week
        or published after the seed's day (warehouse/sql/read_earlier_posts.sql).
    earlier_weeks: the weeks in [emit week - POSTS_DAYS, emit week) summed (platform,
        account_id, week_start, er_sum, er_count: weekly_engagement's `earlier_weeks`); None:
        earlier_posts holds those weeks' posts instead.
    earlier_daily: fct_account_daily rows (at least EARLIER_DAILY_INPUT) in
        [chain_from - RECENT_DAYS, chain_from), and from emit_from - 7 days when that is
        earlier (the rebuilt posts' followers at publication, the rebuilt weeks' tiers); their
        tier may be null before the emit week (only the emitted weeks' are read).
    seed: each account's last fct_account_daily row before chain_from, however old.
    current_spells: fct_tier_history spells still open on chain_from - 1.
    accounts: staging.accounts; earlier_dim: dim_account rows (for first_seen).
    follower_changes: staging exact daily gains from chain_from - RECENT_DAYS on (None: none).
    chain_from: the scope's (build_account_marts), emit_from where it has none.
    """

    follower_snapshots: pl.LazyFrame
    as_of_snapshots: pl.LazyFrame
    seed: pl.LazyFrame
    post_snapshots: pl.LazyFrame
    earlier_posts: pl.LazyFrame
    earlier_daily: pl.LazyFrame
    current_spells: pl.LazyFrame
    accounts: pl.LazyFrame
    earlier_dim: pl.LazyFrame
    follower_changes: pl.LazyFrame | None = None
    earlier_weeks: pl.LazyFrame | None = None


@dataclass(frozen=True)
class PartitionInputs:
    """One account partition's AccountInputs as read: what travels to the worker that builds it."""

    follower_snapshots: pl.DataFrame
    as_of_snapshots: pl.DataFrame
    seed: pl.DataFrame
    post_snapshots: pl.DataFrame
    earlier_posts: pl.DataFrame
    earlier_daily: pl.DataFrame
    current_spells: pl.DataFrame
    accounts: pl.DataFrame
    earlier_dim: pl.DataFrame
    follower_changes: pl.DataFrame | None = None
    earlier_weeks: pl.DataFrame | None = None
    # When set, the frames above name each account by a short stand-in for its account_id
    # (warehouse.marts.PartitionedInputs.read) and this gives each stand-in its account_id back
    # (columns account_number, platform, account_id): the flow keys the scope and the rows
    # built the same way (flows.transform.build_partition_rows). The graph is the same.
    numbers: pl.DataFrame | None = None

    def lazy(self) -> AccountInputs:
        frames = {field.name: getattr(self, field.name) for field in fields(self)}
        changes = frames.pop("follower_changes")
        weeks = frames.pop("earlier_weeks")
        frames.pop("numbers")
        return AccountInputs(
            **{name: f.lazy() for name, f in frames.items()},
            # No earlier week summed (a full rebuild's partitions: the marts are empty): no post
            # of those weeks is read either, so the weekly rows take every post as it is,
            # without the cut to the emit week that a join over all of them would cost.
            earlier_weeks=None if weeks is None or weeks.is_empty() else weeks.lazy(),
            # No exact gains in the partition: the graph skips their as-of lookups (0.3 s of
            # 20,000 accounts' graph), with the same result (no gain known, none summed).
            follower_changes=None if changes is None or changes.is_empty() else changes.lazy(),
        )


# Materialises a stage of the graph (`pl.LazyFrame.collect` then `.lazy()`), or leaves it lazy.
Stage = Callable[[pl.LazyFrame], pl.LazyFrame]


def _lazy(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame


# The engine a partition's graph runs on. Polars' in-memory engine, not the streaming default:
# a partition's inputs are in memory already, and on a full rebuild's partition (4,935 accounts
# x 180 days: 0.88M daily rows, 2.1M post snapshots) it took 4.2-4.4 s at 1.7 GB peak against
# 4.7-5.0 s at 2.4 GB streaming (whole process, 5 runs each); on a night's (20,000 accounts,
# one day emitted) 1.1 s either way (session 37).
GRAPH_ENGINE: Literal["in-memory"] = "in-memory"


def collected(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A stage computed once: Polars' common-subplan elimination did not share fct_account_daily
    between the five marts built on it (each recomputed it: 2.3 s for a partition of 5,000
    accounts, 0.7 s with the stage collected once)."""
    return frame.collect(engine=GRAPH_ENGINE).lazy()


def build_account_marts(
    inputs: AccountInputs,
    scope: pl.LazyFrame,
    scheme: TierScheme,
    confirmation_days: int,
    *,
    stage: Stage = _lazy,
) -> dict[str, pl.LazyFrame]:
    """The rows of each account-grain mart from emit_from on, for the accounts of `scope`: the
    posts and weeks from emit_from, the follower-day chain (daily rows, spells, migrations) from
    `chain_from` when the scope has it (a day no earlier than emit_from: the first day the
    chain changes), else from emit_from too. The chain's inputs are read from chain_from.

    `stage` is applied to the rows the other marts are built on (the emitted posts and
    fct_account_daily): `collected` computes them once; the default keeps one lazy graph."""
    # Followers at publication: the staged days from emit_from on, and the marts' days before
    # (the 7 days before a post published on emit_from are among them).
    follower_counts = pl.concat(
        [
            inputs.earlier_daily.select(*KEY, pl.col("date").alias("snapshot_date"), "followers"),
            inputs.follower_snapshots.select(*KEY, "snapshot_date", "followers"),
        ],
        how="vertical_relaxed",
    )
    posts = stage(
        emitted_rows(post_metrics(inputs.post_snapshots, follower_counts), scope, "published_date")
    )
    earlier_posts = inputs.earlier_posts.select(EARLIER_POSTS_INPUT)
    all_posts = pl.concat(
        [earlier_posts, posts.select(EARLIER_POSTS_INPUT)], how="vertical_relaxed"
    )
    chain = _chain_scope(scope)
    daily = account_daily(
        inputs.follower_snapshots,
        all_posts.select(*KEY, "published_date"),
        scheme,
        confirmation_days,
        emit_from=chain,
        seed=inputs.seed,
        history=inputs.as_of_snapshots,
        earlier=inputs.earlier_daily,
        changes=inputs.follower_changes,
        stage=stage,
    ).pipe(stage)
    all_daily = pl.concat(
        [inputs.earlier_daily.select(EARLIER_DAILY_INPUT), daily.select(EARLIER_DAILY_INPUT)],
        how="vertical_relaxed",
    )
    spells = _spells(daily, inputs.current_spells)
    # A migration is on a day of a new spell, from chain_from on: one of the rows built here.
    migrations = emitted_rows(
        tier_migrations(spells, daily, scheme).rename({"migrated_on": "date"}), chain, "date"
    ).rename({"date": "migrated_on"})
    week_scope = scope.with_columns(pl.col("emit_from").dt.truncate("1w"))
    # A week's tier is its last day's: only the days of the emitted weeks are needed (the
    # posts of earlier weeks are, for the rolling ER: one by one, or summed per week).
    week_tiers = emitted_rows(all_daily.select(*KEY, "date", "tier"), week_scope, "date")
    week_posts = all_posts
    if inputs.earlier_weeks is not None:
        # The earlier weeks come summed: posts of theirs read one by one (for an account's
        # posts_published after an older seed) would count twice.
        week_posts = emitted_rows(all_posts, week_scope, "published_date")
    weekly = emitted_rows(
        weekly_engagement(week_posts, week_tiers, earlier_weeks=inputs.earlier_weeks).rename(
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
        .with_columns(tier_unknown_reason(pl.col("tier_latest"), pl.col("followers_hidden")))
        .pipe(DIM_ACCOUNT.conform)
    )
    return {
        "fct_post_metrics": posts,
        "fct_account_daily": daily,
        "fct_tier_history": spells,
        "fct_tier_migrations": migrations,
        "fct_engagement_weekly": weekly,
        "dim_account": dim,
    }


def _chain_scope(scope: pl.LazyFrame) -> pl.LazyFrame:
    """The scope with each account's chain_from as its emit_from (the follower-day chain's
    first rebuilt day), or the scope itself when it has no chain_from."""
    if "chain_from" not in scope.collect_schema().names():
        return scope
    return scope.select(*KEY, pl.col("chain_from").alias("emit_from"))


def _spells(daily: pl.LazyFrame, current_spells: pl.LazyFrame) -> pl.LazyFrame:
    """Spells from the open spell on (chain_from - 1) onwards: it may continue or end."""
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


def account_period_rows(
    daily: pl.LazyFrame,
    posts: pl.LazyFrame,
    prior_tiers: pl.LazyFrame,
    categories: pl.LazyFrame,
    first_month: date,
    *,
    stage: Stage = _lazy,
) -> dict[str, pl.LazyFrame]:
    """The per-account pieces of the monthly marts from `first_month` on, for the accounts at
    hand: one row per account and month, one per transition. `prior_tiers`: each account's
    confirmed tier before the first day of `daily` (`account_months`). `stage` is applied to
    the daily rows with their previous tiers, which both pieces read (`collected`: once)."""
    in_period = pl.col("month") >= first_month
    rows = stage(with_previous_tier(daily, prior_tiers))
    return {
        "creator_months": creator_months(months_of(rows).filter(in_period), posts, categories),
        "transitions": transitions_of(rows).filter(in_period),
    }


def build_period_marts(
    creator_months: pl.LazyFrame, transitions: pl.LazyFrame
) -> dict[str, pl.LazyFrame]:
    """Cross-account monthly marts from the `account_period_rows` of every account (concatenated
    over partitions: they are per account, so the partitions add up to the whole)."""
    return {
        "agg_tier_transitions_monthly": transitions_monthly(transitions),
        "agg_tier_benchmarks": tier_benchmarks(creator_months),
    }


def with_tier_medians(weekly: pl.LazyFrame) -> pl.LazyFrame:
    """er_vs_tier_median for every account of the given weeks."""
    return relative_to_tier(weekly.drop("er_vs_tier_median", strict=False))
