"""Audience growth: daily follower changes, growth windows, tiers and growth anomalies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from schemas.marts import FCT_ACCOUNT_DAILY
from schemas.tables import ACCOUNT_KEY
from transforms.frames import account_number, as_of, emitted_rows
from transforms.tiers import TierScheme, confirm_tiers, tier_of

# Growth windows (days) and how much older than t-N their base snapshot may be: a 7-day rate
# from a 14-day-old base is a two-week rate under another name, so the tolerance grows with
# the window (1 day for 7, 3 for 30, 7 for 90); beyond it the rate is null, a gap shown.
GROWTH_BASE_TOLERANCE_DAYS: dict[int, int] = {7: 1, 30: 3, 90: 7}
GROWTH_WINDOWS: tuple[int, ...] = tuple(GROWTH_BASE_TOLERANCE_DAYS)
# Anomaly rules (each flagged row names the rule that fired first). Every change is taken per
# day of its gap (change / days since the previous snapshot), so weekly series are judged too.
ANOMALY_WINDOW_DAYS = 28  # trailing window of the account's own per-day changes (not today)
ANOMALY_MIN_HISTORY = 14  # days the window's changes must span before the z-score rule speaks
ROBUST_Z_THRESHOLD = 6.0  # |rate - median| / (IQR / 1.349)
ANOMALY_MIN_CHANGE = 50  # followers: tiny accounts' noise is never an anomaly
SUDDEN_DROP_SHARE = -0.05  # a loss of 5% or more between snapshots (a purge of fake followers)
SUDDEN_DROP_MAX_GAP_DAYS = 7  # ... at most a week apart
ROUND_JUMP_UNIT = 1_000  # a one-day gain that is an exact multiple of 1,000 (bought packages)
# Rounded counts (YouTube's public subscriber counts, creator-tool abbreviations) keep 3
# significant digits: a step of one such unit is rounding, not behaviour.
ROUNDED_SIGNIFICANT_DIGITS = 3

# Contiguous snapshot history a rebuild from day D reads before D: the anomaly rule's trailing
# window and the day before it (its first change). The previous snapshot and the tier state come
# from the seed (the last mart row), the growth windows' as-of values from `as_of_windows`.
RECENT_DAYS = ANOMALY_WINDOW_DAYS + 1


# Exact daily gains (owned-account analytics) are summed over the days since the previous
# snapshot when every one of those days is reported and they are at most this many: a rebuild
# from day D reads gains from D - RECENT_DAYS on, so a longer span could not be summed alike.
GAINS_MAX_SPAN_DAYS = RECENT_DAYS


def as_of_windows() -> list[tuple[int, int]]:
    """(days before the first emitted day, days before the last) bounding each as-of lookup."""
    return [(n + tolerance, n) for n, tolerance in GROWTH_BASE_TOLERANCE_DAYS.items()]


def account_daily(
    followers: pl.LazyFrame,
    posts_published: pl.LazyFrame,
    scheme: TierScheme,
    confirmation_days: int,
    *,
    emit_from: date | pl.LazyFrame | None = None,
    seed: pl.LazyFrame | None = None,
    history: pl.LazyFrame | None = None,
    earlier: pl.LazyFrame | None = None,
    changes: pl.LazyFrame | None = None,
    stage: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """One row per account and follower-snapshot day: followers, changes, growth, tiers, anomalies.

    Input grain: follower snapshots, one row per (platform, account_id, snapshot_date), and
    `posts_published` with (platform, account_id, published_date). For an incremental run:
    `emit_from` (rows before it are context only), `seed` (each account's last mart row before
    emit_from: the previous snapshot and the tier state), `followers` from emit_from on (rows
    before it are not read when `earlier` is given), `history` (the snapshots around t-7/30/90
    the growth windows look up, older than `earlier`'s; default: `followers`) and `earlier`
    (the mart rows of the anomaly window before emit_from: their counts, changes and gaps as
    the marts hold them). `changes`: the exact daily gains and losses (staging.follower_changes)
    from emit_from minus the anomaly window on, where an export has them. `stage`, when given,
    is applied to the intermediate frames that several later steps read
    (`transforms.pipeline.collected` computes each once: Polars recomputed them per reader).
    """
    key = list(ACCOUNT_KEY)
    staged = stage or (lambda frame: frame)
    snapshots = followers.select(
        *key, "snapshot_date", "followers", "following", "is_followers_rounded"
    )
    known = None
    if earlier is not None and emit_from is not None:
        # The days before emit_from are the marts' (`earlier`): what the graph needs of them
        # (their counts for the growth windows' lookups, their changes and gaps for the anomaly
        # rule's window) is what the marts hold, so they are neither read from staging again nor
        # computed again. The marts hold a row for every staged snapshot day before emit_from
        # (emit_from is each account's first day changed since: the days before are as built).
        # A night's graph sorted and differenced 29 staged days per account to emit one.
        snapshots = emitted_rows(snapshots, emit_from, "snapshot_date")
        known = earlier.select(
            *key,
            pl.col("date").alias("snapshot_date"),
            "followers",
            "followers_change",
            "days_since_previous_snapshot",
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
    snapshots = staged(snapshots)
    # The counts the growth windows look up: the as-of history, the marts' days, then these.
    counts = [*key, "snapshot_date", "followers"]
    looked_up = [history.select(counts)] if history is not None else []
    if known is not None and emit_from is not None:
        # Of the marts' days, those a lookup can land on (about 4 of a night's 29 per account).
        looked_up.append(_reachable_days(known.select(counts), snapshots, emit_from))
    lookups = (
        snapshots.select(counts)
        if not looked_up
        else pl.concat([*looked_up, snapshots.select(counts)], how="vertical_relaxed").unique(
            subset=[*key, "snapshot_date"], keep="last", maintain_order=True
        )
    )
    # `_account`: an integer per account, numbered right after the sort by account.
    account = "_account"
    daily = (
        snapshots.sort(*key, "snapshot_date")
        .with_columns(account_number().alias(account))
        .with_columns(
            pl.col("followers").diff().over(account).alias("followers_change"),
            (pl.col("snapshot_date") - pl.col("snapshot_date").shift().over(account))
            .dt.total_days()
            .cast(pl.Int32)
            .alias("days_since_previous_snapshot"),
            pl.col("followers").shift().over(account).alias("_previous_followers"),
            pl.col("is_followers_rounded").shift().over(account).alias("_previous_rounded"),
        )
        .pipe(_exact_changes, changes)
        # Day order within each account, which the trailing windows read (a join may not keep
        # it; on integers this is cheap when it did).
        .sort(account, "snapshot_date")
        .pipe(staged)
    )
    if emit_from is None:
        daily = _anomalies(daily)
    else:
        # The rows before emit_from were read for the changes and the anomaly rule's trailing
        # window; the rule, growth windows, tiers and post counts are computed for the emitted
        # rows only (a night emits one day of the 30 it reads per account: these steps were
        # 60% of the graph's time at 20,000 accounts). confirm_tiers cuts again (a no-op) as
        # it must when called alone.
        emitted = emitted_rows(daily, emit_from, "snapshot_date")
        context = daily
        if known is not None:
            # The window before emit_from as the marts hold it, then the emitted rows (the
            # seed's row, before emit_from, is one of the marts' days: not twice).
            before = known.select(
                *key, "snapshot_date", "followers_change", "days_since_previous_snapshot"
            ).join(emitted.select(*key, account).unique(), on=key)
            context = pl.concat([before, emitted], how="diagonal_relaxed")
        daily = _anomalies(emitted, context=context)
    daily, lookups = staged(daily), staged(lookups)
    daily = (
        daily.pipe(_growth_windows, lookups)
        .with_columns(tier_of(pl.col("followers"), scheme).alias("raw_tier"))
        .pipe(_posts_published, posts_published)
    )
    daily = confirm_tiers(daily, confirmation_days, seed=seed, emit_from=emit_from)
    return FCT_ACCOUNT_DAILY.conform(daily.rename({"snapshot_date": "date"}))


def _reachable_days(
    known: pl.LazyFrame, snapshots: pl.LazyFrame, emit_from: date | pl.LazyFrame
) -> pl.LazyFrame:
    """The rows of `known` (days before emit_from) that a growth window's as-of lookup from an
    emitted day can land on: day d with emit_from - N - tolerance <= d <= last - N for a window
    N (last: the account's last day in `snapshots`). A night's lookups sorted and joined all 29
    days of the marts' window per account where they can reach four of them."""
    key = list(ACCOUNT_KEY)
    bounds = snapshots.group_by(key).agg(pl.col("snapshot_date").max().alias("_last"))
    if isinstance(emit_from, pl.LazyFrame):
        bounds = bounds.join(emit_from.select(*key, "emit_from"), on=key)
        first = pl.col("emit_from")
    else:
        first = pl.lit(emit_from, pl.Date)
    day = pl.col("snapshot_date")
    reachable = pl.any_horizontal(
        (day >= first - pl.duration(days=n + tolerance))
        & (day <= pl.col("_last") - pl.duration(days=n))
        for n, tolerance in GROWTH_BASE_TOLERANCE_DAYS.items()
    )
    return known.join(bounds, on=key).filter(reachable).select(known.collect_schema().names())


def _exact_changes(daily: pl.LazyFrame, changes: pl.LazyFrame | None) -> pl.LazyFrame:
    """followers_gained / followers_lost over the days since the previous snapshot, and the
    change they make preferred where either count is rounded.

    Sums come from running totals per account: the total on the snapshot day minus the total on
    the previous snapshot day (each as of the last reported day), complete when the reported
    days between them number the gap. Running totals from any start give the same differences,
    so a rebuild reading from D - RECENT_DAYS agrees with a full one.
    """
    key = list(ACCOUNT_KEY)
    if changes is None:
        return daily.with_columns(
            pl.lit(None, pl.Int64).alias("followers_gained"),
            pl.lit(None, pl.Int64).alias("followers_lost"),
        )
    totals = (
        changes.select(*key, "snapshot_date", "followers_gained", "followers_lost")
        .sort(*key, "snapshot_date")
        .select(
            *key,
            pl.col("snapshot_date").alias("_day"),
            pl.col("followers_gained").cum_sum().over(key).alias("_gained"),
            pl.col("followers_lost").cum_sum().over(key).alias("_lost"),
            pl.int_range(1, pl.len() + 1).over(key).alias("_days"),
        )
    )
    gap = pl.col("days_since_previous_snapshot")

    def totals_as_of(frame: pl.LazyFrame, on: str, suffix: str) -> pl.LazyFrame:
        return frame.sort(on).join_asof(
            totals.rename({c: c + suffix for c in ("_day", "_gained", "_lost", "_days")}).sort(
                "_day" + suffix
            ),
            left_on=on,
            right_on="_day" + suffix,
            by=key,
            strategy="backward",
            check_sortedness=False,
        )

    spans = daily.with_columns(
        (pl.col("snapshot_date") - pl.duration(days=gap)).alias("_span_start")
    )
    spans = totals_as_of(totals_as_of(spans, "snapshot_date", "_to"), "_span_start", "_from")

    def over_span(column: str) -> pl.Expr:
        return pl.col(column + "_to").fill_null(0) - pl.col(column + "_from").fill_null(0)

    complete = (gap <= GAINS_MAX_SPAN_DAYS) & (over_span("_days") == gap)
    rounded = pl.col("is_followers_rounded") | pl.col("_previous_rounded").fill_null(False)
    return (
        spans.with_columns(
            pl.when(complete).then(over_span("_gained")).alias("followers_gained"),
            pl.when(complete).then(over_span("_lost")).alias("followers_lost"),
        )
        .with_columns(
            pl.when(rounded & pl.col("followers_gained").is_not_null())
            .then(pl.col("followers_gained") - pl.col("followers_lost"))
            .otherwise(pl.col("followers_change"))
            .alias("followers_change")
        )
        .drop(
            "_span_start",
            *(c + s for c in ("_day", "_gained", "_lost", "_days") for s in ("_to", "_from")),
        )
        .sort(*key, "snapshot_date")
    )


def _growth_windows(daily: pl.LazyFrame, snapshots: pl.LazyFrame) -> pl.LazyFrame:
    """growth_rate_Nd = followers_t / followers_(latest snapshot on or before t-N, at most
    GROWTH_BASE_TOLERANCE_DAYS[N] older) - 1, and that base snapshot's day."""
    history = snapshots.select(
        *ACCOUNT_KEY,
        pl.col("snapshot_date").alias("_as_of_date"),
        pl.col("followers").alias("_as_of_followers"),
    ).sort("_as_of_date")
    # One sort by day serves the three lookups: t - N is in day order for every N (as_of sorted
    # the frame by each target: 0.87 -> 0.67 s for a full rebuild's partition of 0.88M rows).
    daily = daily.sort("snapshot_date")
    for n, tolerance in GROWTH_BASE_TOLERANCE_DAYS.items():
        target = (pl.col("snapshot_date") - pl.duration(days=n)).alias("_target")
        daily = (
            as_of(
                daily.with_columns(target),
                history,
                "_target",
                "_as_of_date",
                tolerance,
                presorted=True,
            )
            .with_columns(
                pl.when(pl.col("_as_of_followers") > 0)
                .then(pl.col("followers") / pl.col("_as_of_followers") - 1)
                .alias(f"growth_rate_{n}d"),
                pl.col("_as_of_date").alias(f"growth_base_date_{n}d"),
            )
            .drop("_target", "_as_of_date", "_as_of_followers")
        )
    return daily.sort(*ACCOUNT_KEY, "snapshot_date")


def rounding_unit(followers: pl.Expr) -> pl.Expr:
    """The unit a count rounded to ROUNDED_SIGNIFICANT_DIGITS significant digits moves in
    (10,000 at 1.23M), at least 1."""
    digits = followers.cast(pl.Float64).log10().floor() - (ROUNDED_SIGNIFICANT_DIGITS - 1)
    return pl.max_horizontal(pl.lit(10.0).pow(digits), pl.lit(1.0))


def _anomalies(daily: pl.LazyFrame, context: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Flag changes far outside the account's own recent behaviour, purges, round jumps.

    robust_z: rate = followers_change / days_since_previous_snapshot; against the rates of the
    changes dated in the 28 days before (this one excluded), with their median and linearly
    interpolated quartiles; scale = max(IQR / 1.349, unit / days), where unit is 1 follower, or
    the rounding unit when either count is rounded; fires when |rate - median| / scale > 6,
    the change is at least 50 followers and more than one rounding unit, and the window's
    changes span at least 14 days.

    `daily` has `_account`, an integer per account (account_daily's). Without `context`, every
    row of `daily` is judged, over rolling windows; with it, `daily` holds the rows to judge
    (a rebuild's, from emit_from) and `context` every row of their windows (a night's: the
    marts' days before emit_from, then its own), whose windows are gathered
    for them: a night judges one day of its 29-day window per account, and rolling windows over
    every row cost 0.45 s of 20,000 accounts' graph. Both give the same numbers (tested).
    """
    change = pl.col("followers_change").cast(pl.Float64)
    gap = pl.col("days_since_previous_snapshot")
    rate = (change / gap).alias("_rate")
    daily = daily.with_columns(rate)
    if context is None:
        daily = _trailing_rates_rolling(daily)
    else:
        daily = _trailing_rates_mixed(daily, context.with_columns(rate))
    median = pl.col("_median")
    spanned = pl.col("_spanned")
    rounded = pl.col("is_followers_rounded") | pl.col("_previous_rounded").fill_null(False)
    unit = (
        pl.when(rounded)
        .then(rounding_unit(pl.max_horizontal("followers", "_previous_followers")))
        .otherwise(1.0)
    )
    # IQR / 1.349 estimates the standard deviation robustly; the floor (one follower, or one
    # rounding unit, per day) keeps a flat history from making every small step infinite.
    scale = pl.max_horizontal((pl.col("_q75") - pl.col("_q25")) / 1.349, unit / gap)
    robust_z = (pl.col("_rate") - median) / scale
    big_enough = change.abs() >= ANOMALY_MIN_CHANGE
    exact_counts = ~pl.col("is_followers_rounded") & ~pl.col("_previous_rounded").fill_null(True)
    rules = {
        "sudden_drop": (gap <= SUDDEN_DROP_MAX_GAP_DAYS)
        & big_enough
        & (pl.col("followers_change") <= SUDDEN_DROP_SHARE * pl.col("_previous_followers")),
        "robust_z": big_enough
        & (change.abs() > unit)
        & (spanned >= ANOMALY_MIN_HISTORY)
        & (robust_z.abs() > ROBUST_Z_THRESHOLD),
        "round_number_jump": (gap == 1)
        & exact_counts
        & (pl.col("followers_change") >= ROUND_JUMP_UNIT)
        & (pl.col("followers_change") % ROUND_JUMP_UNIT == 0),
    }
    fired = pl.lit(None, pl.String)
    for name, condition in reversed(rules.items()):
        fired = pl.when(condition.fill_null(False)).then(pl.lit(name)).otherwise(fired)
    return (
        daily.with_columns(fired.alias("anomaly_rule"))
        .with_columns(pl.col("anomaly_rule").is_not_null().alias("is_growth_anomaly"))
        .drop("_rate", "_account", *TRAILING)
    )


# The statistics of the anomaly rule's trailing window: the rates' quartiles and the days
# their changes span (the rows dated in [t - ANOMALY_WINDOW_DAYS, t), this one excluded).
TRAILING = ("_q25", "_median", "_q75", "_spanned")
# The quartiles among them, each with its quantile (linearly interpolated), rolled or gathered.
QUARTILES = {"_q25": 0.25, "_median": 0.5, "_q75": 0.75}


def _spanned_days() -> pl.Expr:
    return pl.when(pl.col("_rate").is_not_null()).then(pl.col("days_since_previous_snapshot"))


def _trailing_rates_rolling(daily: pl.LazyFrame) -> pl.LazyFrame:
    """TRAILING for every row: rolling windows per account."""
    window = f"{ANOMALY_WINDOW_DAYS}d"

    def quantile(q: float) -> pl.Expr:
        return pl.col("_rate").rolling_quantile_by(
            "snapshot_date", window_size=window, quantile=q, interpolation="linear", closed="left"
        )

    return daily.with_columns(
        *(quantile(q).over("_account").alias(name) for name, q in QUARTILES.items()),
        _spanned_days()
        .fill_null(0)
        .rolling_sum_by("snapshot_date", window_size=window, closed="left")
        .over("_account")
        .alias("_spanned"),
    )


# Emitted rows per account up to which their windows are gathered rather than rolled. A
# gathered window joins the row with every row of its account read (about 30 for a night):
# cheap for a night's few rows, quadratic for a rebuild's hundreds (a full rebuild of 50,000
# accounts x 200 days held 200M pairs and peaked at 7.6 GB before this threshold).
GATHER_MAX_ROWS = 7


def _trailing_rates_mixed(daily: pl.LazyFrame, context: pl.LazyFrame) -> pl.LazyFrame:
    """TRAILING for the rows of `daily` (all of them among `context`'s, which holds at least
    the rate and the gap of every row the windows read): gathered for accounts with at most
    GATHER_MAX_ROWS of them, rolled over `context` for the others (a full rebuild, or a
    backfill from weeks back)."""
    per_account = daily.group_by("_account").agg(pl.len().alias("_judged"))
    many = per_account.filter(pl.col("_judged") > GATHER_MAX_ROWS).select("_account")
    few_rows = daily.join(many, on="_account", how="anti")
    # `context` need not be in day order: rolling_*_by orders each account's rows by the day.
    rolled = _trailing_rates_rolling(context.join(many, on="_account", how="semi")).join(
        daily.select("_account", "snapshot_date"), on=["_account", "snapshot_date"], how="semi"
    )
    return pl.concat(
        [
            _trailing_rates_gathered(few_rows, context),
            rolled.select(few_rows.collect_schema().names() + list(TRAILING)),
        ],
        how="vertical_relaxed",
    )


def _trailing_rates_gathered(daily: pl.LazyFrame, context: pl.LazyFrame) -> pl.LazyFrame:
    """TRAILING for each row of `daily`, its window gathered from its account's rows in
    `context` (a join on the account, then aggregated): the same windows as the rolling ones."""
    targets = daily.select("_account", "snapshot_date")
    rates = context.select(
        "_account", pl.col("snapshot_date").alias("_day"), "_rate", _spanned_days().alias("_days")
    )
    windows = (
        targets.join(rates, on="_account")
        .filter(
            (pl.col("_day") < pl.col("snapshot_date"))
            & (pl.col("_day") >= pl.col("snapshot_date") - pl.duration(days=ANOMALY_WINDOW_DAYS))
        )
        .group_by("_account", "snapshot_date")
        .agg(
            # Each window's rates sorted once for its three quartiles (three quantile
            # aggregations sorted it three times: 0.24-0.30 s against 0.18 s for a night's
            # 61,000 windows at 20,000 accounts, the same values to the bit).
            pl.col("_rate").drop_nulls().sort().alias("_sorted"),
            pl.col("_days").fill_null(0).sum().alias("_spanned"),
        )
        .with_columns(
            *(_sorted_quantile(pl.col("_sorted"), q).alias(name) for name, q in QUARTILES.items())
        )
        .select("_account", "snapshot_date", *TRAILING)
    )
    # A row whose window is empty (the account's first) spans 0 days, as a rolling sum does.
    return daily.join(windows, on=["_account", "snapshot_date"], how="left").with_columns(
        pl.col("_spanned").fill_null(0)
    )


def _sorted_quantile(values: pl.Expr, q: float) -> pl.Expr:
    """The q-quantile of a sorted list without nulls, linearly interpolated as Polars'
    `quantile(q, "linear")` (numpy's default): at position (n - 1) q between its neighbours;
    null for an empty list."""
    count = values.list.len()
    position = (count - 1) * q
    below = position.floor().cast(pl.Int64)
    above = position.ceil().cast(pl.Int64)
    low = values.list.get(below, null_on_oob=True)
    high = values.list.get(above, null_on_oob=True)
    return pl.when(count > 0).then(low + (high - low) * (position - below))


def _posts_published(daily: pl.LazyFrame, posts: pl.LazyFrame) -> pl.LazyFrame:
    """Posts published after the previous snapshot day and up to this one (nothing uncounted).

    `daily` may start after an account's first snapshot (the rows from emit_from): its first
    row's previous snapshot day (days_since_previous_snapshot before it) bounds that row's
    posts, so older posts are counted on that day, which is not in `daily`, and dropped."""
    days = daily.select(*ACCOUNT_KEY, pl.col("snapshot_date").alias("_counted_on"))
    previous = (
        daily.group_by(ACCOUNT_KEY)
        .agg(
            pl.col("snapshot_date").min().alias("_first"),
            pl.col("days_since_previous_snapshot").sort_by("snapshot_date").first().alias("_gap"),
        )
        .filter(pl.col("_gap").is_not_null())
        .select(
            *ACCOUNT_KEY, (pl.col("_first") - pl.duration(days=pl.col("_gap"))).alias("_counted_on")
        )
    )
    snapshot_days = pl.concat([days, previous]).sort("_counted_on")
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
