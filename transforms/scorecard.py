"""Creator scorecards: how engaged, how real and how growing each creator's audience is.

Two steps, like the monthly benchmarks. `creator_windows` is per account (a partition of
accounts gives its own rows): for each month with a follower snapshot, the window of
`window_days` days up to the account's last snapshot day of that month, and what the
account's own rows say about it. `scored_creators` then compares each creator with its peers of
the same month (percentiles, norms) and explains every flag. Every threshold is a field of
`ScorecardRules` (inflow.toml [scorecard]); the column meanings are in schemas/marts.py.

The audience-quality rules are deliberately plain: each is one comparison of numbers the marts
carry, and a fired flag says which numbers fired it. Commercial "audience quality" scores are
black boxes; these are meant to be argued with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date

import polars as pl

from schemas.marts import AGG_CREATOR_SCORECARD, FCT_CREATOR_MONTHLY, SCORECARD_WINDOW_INPUT
from schemas.tables import ACCOUNT_KEY
from transforms.benchmarks import UNKNOWN_CATEGORY
from transforms.expressions import ratio

KEY = list(ACCOUNT_KEY)
# Two snapshots are compared (a gain, a spike in following) only when at most this many days
# apart: across a longer gap a change is spread over days we did not see (anomaly_rule's
# sudden_drop uses the same bound).
PAIR_MAX_GAP_DAYS = 7
# Between the explanations of two flags (each explanation has commas and semicolons of its own).
REASON_SEPARATOR = " | "
# Each window's number within one call of creator_windows (an account and month): the window's
# statistics are grouped and joined on it, one integer, not on the account's key and month.
WINDOW = "_window"
FLAGS = ("inactive_audience", "following_spike", "low_er", "likes_comments", "gain_then_loss")


@dataclass(frozen=True)
class ScorecardRules:
    """The scorecard's window and every flag's thresholds (see the flag columns in
    schemas/marts.py for each rule). Defaults are starting points for micro-influencers, not
    industry constants: they are shown in every explanation so a reader can judge them."""

    window_days: int = 90
    # Fewer creators than this in a group: no percentile and no norm (a median of 2 is no norm).
    min_peers: int = 5
    inactive_min_follower_growth: float = 0.10
    inactive_max_interaction_growth: float = 0.0
    inactive_min_posts: int = 3
    following_spike_min: int = 200
    following_spike_share: float = 0.5
    low_er_ratio: float = 0.5
    likes_comments_factor: float = 4.0
    likes_comments_min_comments: int = 30
    gain_min_followers: int = 200
    gain_min_share: float = 0.05
    loss_share: float = 0.5
    loss_within_days: int = 28

    def __post_init__(self) -> None:
        if self.window_days < 14:
            raise ValueError("window_days must be at least 14 (two whole weeks)")
        if self.min_peers < 2:
            raise ValueError("min_peers must be at least 2 (a percentile needs two creators)")
        if self.likes_comments_factor <= 1:
            raise ValueError("likes_comments_factor must be above 1")
        for name in ("inactive_min_posts", "loss_within_days", "likes_comments_min_comments"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("gain_min_share", "loss_share", "following_spike_share", "low_er_ratio"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0")

    @classmethod
    def from_settings(cls, values: dict[str, float] | None) -> ScorecardRules:
        """The rules from inflow.toml's [scorecard] table; unknown names are refused."""
        values = dict(values or {})
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(known)}")
        typed = {
            name: int(value) if known[name] == "int" else float(value)
            for name, value in values.items()
        }
        return cls(**typed)  # type: ignore[arg-type]

    def fingerprint(self) -> str:
        """What the scorecard marts were built with: a change rebuilds every month."""
        return json.dumps(asdict(self), sort_keys=True)


def creator_windows(
    daily: pl.LazyFrame,
    posts: pl.LazyFrame,
    first_month: date,
    rules: ScorecardRules,
    key: Sequence[str] = ACCOUNT_KEY,
    earlier_daily: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per account and month from `first_month` with a follower snapshot: the account's
    window up to its last snapshot day of the month and what its own rows say about it.

    daily: fct_account_daily rows (the columns SCORECARD_DAILY_INPUT) from
    `first_month - (window_days - 1)` on. posts: fct_post_metrics rows (SCORECARD_POSTS_INPUT)
    published from the same day on. `key`: the columns naming an account in both, and in the
    rows returned (the flow numbers its accounts: warehouse.marts.spill_scorecard_inputs).
    `earlier_daily`: when given, daily's rows before `first_month` come from it instead, with
    only the columns SCORECARD_WINDOW_INPUT (daily then starts at `first_month`).
    """
    key = list(key)
    width = rules.window_days
    window_columns = [*key, *(c for c in SCORECARD_WINDOW_INPUT if c not in ACCOUNT_KEY)]
    window_days = daily.select(window_columns)
    if earlier_daily is not None:
        window_days = pl.concat([earlier_daily.select(window_columns), window_days])
    ends = (
        daily.filter(pl.col("date") >= first_month)
        .with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .group_by(*key, "month")
        .agg(pl.col("date").max().alias("as_of_date"))
        # In key order before numbering: a group_by's order is not kept, and the plan may
        # compute `ends` once for each branch joined back on WINDOW.
        .sort(*key, "month")
        .with_columns(
            (pl.col("as_of_date") - pl.duration(days=width - 1)).alias("window_start"),
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(WINDOW),
        )
    )
    on_day = ends.join(
        daily.select(
            *key,
            pl.col("date").alias("as_of_date"),
            "followers",
            "following",
            "tier",
            "growth_rate_30d",
            "growth_rate_90d",
        ),
        on=[*key, "as_of_date"],
    )
    # Each snapshot's previous one (ordered within the account: a sort of the whole partition by
    # date first cost a 10,000-account partition's 0.98M rows a fifth more).
    steps = window_days.with_columns(
        pl.col("date").shift().over(key, order_by="date").alias("previous_date"),
        pl.col("following").shift().over(key, order_by="date").alias("previous_following"),
    )
    in_window = (pl.col("date") >= pl.col("window_start")) & (
        pl.col("date") <= pl.col("as_of_date")
    )
    days = ends.join(steps, on=key).filter(in_window).drop(*key, "month")
    published = (pl.col("published_date") >= pl.col("window_start")) & (
        pl.col("published_date") <= pl.col("as_of_date")
    )
    window_posts = ends.join(posts, on=key).filter(published).drop(*key, "month")
    return (
        on_day.join(_snapshot_stats(days, width), on=WINDOW, how="left")
        .join(_following_spikes(days, rules), on=WINDOW, how="left")
        .join(_gains_then_losses(days, rules), on=WINDOW, how="left")
        .join(_post_stats(window_posts, width, rules), on=WINDOW, how="left")
        .drop(WINDOW)
        .with_columns(
            # No post in the window: counts of 0, medians null.
            pl.col(
                "posts", "sponsored_posts", "organic_posts", "weeks_with_posts", "posts_measured"
            ).fill_null(0),
        )
        .with_columns(
            (pl.col("posts") / (width / 7)).alias("posts_per_week"),
            (pl.col("weeks_with_posts") / (width // 7)).alias("consistency"),
            ratio(pl.col("followers"), pl.col("first_followers"))
            .sub(1)
            .alias("followers_growth_window"),
            ratio(
                pl.col("sponsored_posts"), pl.col("sponsored_posts") + pl.col("organic_posts")
            ).alias("sponsored_share"),
            ratio(pl.col("er_median_sponsored"), pl.col("er_median_organic")).alias(
                "sponsored_to_organic_er"
            ),
        )
    )


def _snapshot_stats(days: pl.LazyFrame, width: int) -> pl.LazyFrame:
    half = pl.col("window_start") + pl.duration(days=width // 2)
    return days.group_by(WINDOW).agg(
        pl.len().cast(pl.Int64).alias("snapshot_days"),
        (pl.len() / width).alias("coverage"),
        pl.col("followers").sort_by("date").first().alias("first_followers"),
        (pl.col("date").min() < half.first()).alias("seen_in_earlier_half"),
        # A change over at most PAIR_MAX_GAP_DAYS: the gain rule has something to read.
        (pl.col("days_since_previous_snapshot") <= PAIR_MAX_GAP_DAYS).any().alias("has_close_pair"),
        (
            pl.col("following").is_not_null()
            & pl.col("previous_following").is_not_null()
            & (pl.col("previous_date") >= pl.col("window_start"))
            & ((pl.col("date") - pl.col("previous_date")).dt.total_days() <= PAIR_MAX_GAP_DAYS)
        )
        .any()
        .alias("has_following_pair"),
    )


def _following_spikes(days: pl.LazyFrame, rules: ScorecardRules) -> pl.LazyFrame:
    """The first spike in `following` of each window (its day and the two counts)."""
    rise = pl.col("following") - pl.col("previous_following")
    spikes = days.filter(
        (pl.col("previous_date") >= pl.col("window_start"))
        & ((pl.col("date") - pl.col("previous_date")).dt.total_days() <= PAIR_MAX_GAP_DAYS)
        & (rise >= rules.following_spike_min)
        & (rise >= rules.following_spike_share * pl.col("previous_following"))
    )
    return (
        spikes.sort("date")
        .group_by(WINDOW)
        .agg(
            pl.col("date").first().alias("spike_date"),
            pl.col("previous_following").first().alias("spike_from"),
            pl.col("following").first().alias("spike_to"),
        )
    )


def _gains_then_losses(days: pl.LazyFrame, rules: ScorecardRules) -> pl.LazyFrame:
    """The first sudden gain of each window that a loss followed within loss_within_days."""
    before = pl.col("followers") - pl.col("followers_change")
    gains = days.filter(
        (pl.col("days_since_previous_snapshot") <= PAIR_MAX_GAP_DAYS)
        & (pl.col("followers_change") >= rules.gain_min_followers)
        & (pl.col("followers_change") >= rules.gain_min_share * before)
    ).select(
        WINDOW,
        pl.col("date").alias("gain_date"),
        pl.col("followers_change").alias("gain"),
        pl.col("followers").alias("gain_followers"),
    )
    after = days.select(WINDOW, "date", "followers")
    lows = (
        gains.join(after, on=WINDOW)
        .filter(
            (pl.col("date") > pl.col("gain_date"))
            & (pl.col("date") <= pl.col("gain_date") + pl.duration(days=rules.loss_within_days))
        )
        .sort("followers", "date")
        .group_by(WINDOW, "gain_date")
        .agg(
            pl.col("gain").first(),
            pl.col("gain_followers").first(),
            pl.col("followers").first().alias("low_followers"),
            pl.col("date").first().alias("low_date"),
        )
    )
    return (
        lows.filter(
            pl.col("gain_followers") - pl.col("low_followers") >= rules.loss_share * pl.col("gain")
        )
        .sort("gain_date")
        .group_by(WINDOW)
        .agg(pl.all().first())
    )


def _post_stats(posts: pl.LazyFrame, width: int, rules: ScorecardRules) -> pl.LazyFrame:
    measured = (
        ~pl.col("is_d7_pending").fill_null(False) & pl.col("er_followers_lc_d7").is_not_null()
    )
    sponsored = pl.col("is_sponsored").fill_null(False)
    organic = (pl.col("is_sponsored") == False).fill_null(False)  # noqa: E712 (null: neither)
    lc = pl.col("likes_d7") + pl.col("comments_d7")
    later = pl.col("published_date") >= pl.col("window_start") + pl.duration(days=width // 2)
    counted = measured & lc.is_not_null()
    week = (pl.col("as_of_date") - pl.col("published_date")).dt.total_days() // 7
    with_both = measured & pl.col("likes_d7").is_not_null() & pl.col("comments_d7").is_not_null()
    return (
        posts.group_by(WINDOW)
        .agg(
            pl.len().cast(pl.Int64).alias("posts"),
            week.filter(week < width // 7).n_unique().cast(pl.Int64).alias("weeks_with_posts"),
            measured.sum().cast(pl.Int64).alias("posts_measured"),
            pl.col("er_followers_lc_d7").filter(measured).median().alias("er_median"),
            pl.col("er_views_lc_d7").filter(measured).median().alias("er_views_median"),
            pl.col("likes_d7").filter(with_both).sum().alias("likes_total"),
            pl.col("comments_d7").filter(with_both).sum().alias("comments_total"),
            sponsored.sum().cast(pl.Int64).alias("sponsored_posts"),
            organic.sum().cast(pl.Int64).alias("organic_posts"),
            pl.col("er_followers_lc_d7")
            .filter(measured & sponsored)
            .median()
            .alias("er_median_sponsored"),
            pl.col("er_followers_lc_d7")
            .filter(measured & organic)
            .median()
            .alias("er_median_organic"),
            (counted & ~later).sum().cast(pl.Int64).alias("earlier_posts"),
            (counted & later).sum().cast(pl.Int64).alias("later_posts"),
            lc.filter(counted & ~later).median().alias("earlier_lc"),
            lc.filter(counted & later).median().alias("later_lc"),
        )
        .with_columns(
            ratio(pl.col("likes_total"), pl.col("comments_total")).alias("likes_per_comment")
        )
    )


def percent_rank(value: str, group: list[str], min_peers: int) -> pl.Expr:
    """SQL's PERCENT_RANK of `value` within `group`, in percent: 100 x (values below) / (values
    - 1), over the rows with a value; null without one or with fewer than `min_peers`."""
    peers = pl.col(value).count().over(group)
    below = pl.col(value).rank("min").over(group) - 1
    return pl.when(pl.col(value).is_not_null() & (peers >= min_peers)).then(
        100.0 * below / (peers - 1)
    )


def _norm(value: pl.Expr, group: list[str], min_peers: int) -> pl.Expr:
    """The median of `value` over its group; null when fewer than `min_peers` have one."""
    return pl.when(value.count().over(group) >= min_peers).then(value.median().over(group))


def _pct(value: pl.Expr) -> pl.Expr:
    return (value * 100).round(1).cast(pl.String) + "%"


def _num(value: pl.Expr, digits: int = 0) -> pl.Expr:
    rounded = value.round(digits)
    return (rounded.cast(pl.Int64) if digits == 0 else rounded).cast(pl.String)


def scored_creators(
    windows: pl.LazyFrame, categories: pl.LazyFrame, rules: ScorecardRules
) -> pl.LazyFrame:
    """fct_creator_monthly: `creator_windows` rows of every account of the months (they are
    compared with each other), with categories (dim_account: platform, account_id, category),
    percentiles, ranks, norms and every flag with its explanation."""
    by_category = ["platform", "tier", "category", "month"]
    by_tier = ["platform", "tier", "month"]
    peers = rules.min_peers
    rated = (
        windows.join(categories.select(*KEY, "category"), on=KEY, how="left")
        .with_columns(pl.col("category").fill_null(UNKNOWN_CATEGORY))
        .with_columns(
            pl.col("er_median").count().over(by_category).cast(pl.Int64).alias("peers_category"),
            pl.col("er_median").count().over(by_tier).cast(pl.Int64).alias("peers_tier"),
            _norm(pl.col("er_median"), by_category, peers).alias("er_category_median"),
            percent_rank("er_median", by_category, peers).alias("er_percentile_category"),
            percent_rank("er_median", by_tier, peers).alias("er_percentile_tier"),
            percent_rank("growth_rate_30d", by_category, peers).alias("growth_percentile_category"),
            percent_rank("growth_rate_30d", by_tier, peers).alias("growth_percentile_tier"),
            pl.col("er_median")
            .rank("min", descending=True)
            .over(by_category)
            .cast(pl.Int64)
            .alias("er_rank_category"),
            pl.col("er_median")
            .rank("min", descending=True)
            .over(by_tier)
            .cast(pl.Int64)
            .alias("er_rank_tier"),
            _norm(
                pl.col("likes_per_comment").filter(
                    pl.col("comments_total") >= rules.likes_comments_min_comments
                ),
                by_tier,
                peers,
            ).alias("likes_per_comment_tier_median"),
        )
    )
    return (
        rated.with_columns(*_flags(rules))
        .with_columns(*_explanations(rules))
        .pipe(FCT_CREATOR_MONTHLY.conform)
    )


def _flags(rules: ScorecardRules) -> list[pl.Expr]:
    interaction_growth = pl.col("later_lc") / pl.col("earlier_lc") - 1
    inactive_evaluable = (
        (pl.col("earlier_posts") >= rules.inactive_min_posts)
        & (pl.col("later_posts") >= rules.inactive_min_posts)
        & pl.col("seen_in_earlier_half")
        & (pl.col("earlier_lc") > 0)
    )
    lpc_ratio = pl.col("likes_per_comment") / pl.col("likes_per_comment_tier_median")
    return [
        pl.when(inactive_evaluable)
        .then(
            (pl.col("followers_growth_window") >= rules.inactive_min_follower_growth)
            & (interaction_growth <= rules.inactive_max_interaction_growth)
        )
        .alias("flag_inactive_audience"),
        pl.when(pl.col("has_following_pair").fill_null(False))
        .then(pl.col("spike_date").is_not_null())
        .alias("flag_following_spike"),
        pl.when(pl.col("er_median").is_not_null() & pl.col("er_category_median").is_not_null())
        .then(pl.col("er_median") < rules.low_er_ratio * pl.col("er_category_median"))
        .alias("flag_low_er"),
        pl.when(
            (pl.col("comments_total") >= rules.likes_comments_min_comments)
            & (pl.col("likes_per_comment_tier_median") > 0)
        )
        .then(
            (lpc_ratio > rules.likes_comments_factor)
            | (lpc_ratio < 1 / rules.likes_comments_factor)
        )
        .alias("flag_likes_comments"),
        pl.when(pl.col("has_close_pair").fill_null(False))
        .then(pl.col("gain_date").is_not_null())
        .alias("flag_gain_then_loss"),
    ]


def _explanations(rules: ScorecardRules) -> list[pl.Expr]:
    """flags, flag_reasons (the numbers of each fired rule) and flags_not_evaluated (why not),
    each rule's text REASON_SEPARATOR-separated."""
    fired = {
        "inactive_audience": pl.format(
            "inactive_audience: followers {} ({} -> {}) while median likes + comments per post "
            "went {} -> {} ({}); fires at followers >= +{} with interactions <= {}",
            _signed_pct(pl.col("followers_growth_window")),
            _num(pl.col("first_followers")),
            _num(pl.col("followers")),
            _num(pl.col("earlier_lc")),
            _num(pl.col("later_lc")),
            _signed_pct(pl.col("later_lc") / pl.col("earlier_lc") - 1),
            pl.lit(f"{rules.inactive_min_follower_growth:.0%}"),
            pl.lit(f"{rules.inactive_max_interaction_growth:+.0%}"),
        ),
        "following_spike": pl.format(
            "following_spike: following {} -> {} on {}; fires at +{} and +{}",
            _num(pl.col("spike_from")),
            _num(pl.col("spike_to")),
            pl.col("spike_date").cast(pl.String),
            pl.lit(str(rules.following_spike_min)),
            pl.lit(f"{rules.following_spike_share:.0%}"),
        ),
        "low_er": pl.format(
            "low_er: median ER {} is {}x the median of {} {} {} {} creators ({}); fires below {}x",
            _pct(pl.col("er_median")),
            _num(pl.col("er_median") / pl.col("er_category_median"), 2),
            pl.col("peers_category").cast(pl.String),
            pl.col("platform"),
            pl.col("tier"),
            pl.col("category"),
            _pct(pl.col("er_category_median")),
            pl.lit(str(rules.low_er_ratio)),
        ),
        "likes_comments": pl.format(
            "likes_comments: {} likes per comment against {} for {} {} creators ({}x); fires "
            "beyond {}x either way",
            _num(pl.col("likes_per_comment"), 1),
            _num(pl.col("likes_per_comment_tier_median"), 1),
            pl.col("platform"),
            pl.col("tier"),
            _num(pl.col("likes_per_comment") / pl.col("likes_per_comment_tier_median"), 2),
            pl.lit(str(rules.likes_comments_factor)),
        ),
        "gain_then_loss": pl.format(
            "gain_then_loss: +{} followers on {} ({} of {}), then down to {} by {} ({} of the "
            "gain lost); fires at a gain of at least {}, then {} of it lost within {} days",
            _num(pl.col("gain")),
            pl.col("gain_date").cast(pl.String),
            _pct(pl.col("gain") / (pl.col("gain_followers") - pl.col("gain"))),
            _num(pl.col("gain_followers") - pl.col("gain")),
            _num(pl.col("low_followers")),
            pl.col("low_date").cast(pl.String),
            _pct((pl.col("gain_followers") - pl.col("low_followers")) / pl.col("gain")),
            pl.lit(f"{rules.gain_min_followers} followers and {rules.gain_min_share:.0%}"),
            pl.lit(f"{rules.loss_share:.0%}"),
            pl.lit(str(rules.loss_within_days)),
        ),
    }
    unevaluated = {
        "inactive_audience": f"inactive_audience: needs {rules.inactive_min_posts} measured posts "
        "in each half of the window and a snapshot in its first half",
        "following_spike": "following_spike: following not reported on two snapshots at most "
        f"{PAIR_MAX_GAP_DAYS} days apart",
        "low_er": f"low_er: no median ER, or fewer than {rules.min_peers} creators with one in "
        "the category",
        "likes_comments": f"likes_comments: fewer than {rules.likes_comments_min_comments} "
        f"comments at 7 days, or fewer than {rules.min_peers} creators of the tier with that many",
        "gain_then_loss": f"gain_then_loss: no two snapshots at most {PAIR_MAX_GAP_DAYS} days apart",
    }
    flag = {name: pl.col(f"flag_{name}") for name in FLAGS}
    return [
        pl.sum_horizontal(flag[n].fill_null(False).cast(pl.Int32) for n in FLAGS)
        .cast(pl.Int32)
        .alias("flags"),
        _joined(pl.when(flag[n].fill_null(False)).then(fired[n]) for n in FLAGS).alias(
            "flag_reasons"
        ),
        _joined(pl.when(flag[n].is_null()).then(pl.lit(unevaluated[n])) for n in FLAGS).alias(
            "flags_not_evaluated"
        ),
    ]


def _joined(parts: Iterable[pl.Expr]) -> pl.Expr:
    text = pl.concat_str(list(parts), separator=REASON_SEPARATOR, ignore_nulls=True)
    return pl.when(text != "").then(text)


def _signed_pct(value: pl.Expr) -> pl.Expr:
    return pl.when(value >= 0).then("+" + _pct(value)).otherwise(_pct(value))


def latest_scorecard(monthly: pl.LazyFrame, accounts: pl.LazyFrame) -> pl.LazyFrame:
    """agg_creator_scorecard: each account's latest fct_creator_monthly row with its handle and
    display name (accounts: dim_account's platform, account_id, handle, display_name)."""
    # The row of the account's last month ((account, month) is unique): a filter, where sorting
    # and regrouping every column of every month copied 4M rows for a million creators.
    latest = monthly.filter(pl.col("month") == pl.col("month").max().over(KEY))
    return latest.join(accounts.select(*KEY, "handle", "display_name"), on=KEY, how="left").pipe(
        AGG_CREATOR_SCORECARD.conform
    )
