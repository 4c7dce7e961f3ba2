"""Audience growth and tiers on tiny literal frames; expected values computed by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from transforms.growth import account_daily
from transforms.tiers import DEFAULT, FIVE_TIER, confirm_tiers, tier_of

D0 = date(2026, 1, 1)


def snapshots(counts: dict[int, int], account: str = "a", rounded: bool = False) -> pl.LazyFrame:
    """Follower snapshots on day offsets from D0."""
    return pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": account,
            "snapshot_date": [D0 + timedelta(days=d) for d in counts],
            "followers": list(counts.values()),
            "following": 10,
            "is_followers_rounded": rounded,
        },
        schema_overrides={"followers": pl.Int64, "following": pl.Int64},
    )


NO_POSTS = pl.LazyFrame(
    schema={"platform": pl.String, "account_id": pl.String, "published_date": pl.Date}
)


def daily(counts, posts=NO_POSTS, confirmation_days=7, **kwargs) -> pl.DataFrame:
    return account_daily(snapshots(counts), posts, DEFAULT, confirmation_days, **kwargs).collect()


def test_tier_bounds_are_lower_inclusive():
    values = pl.Series([0, 999, 1_000, 9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000, None])
    assert pl.select(tier_of(pl.lit(values), DEFAULT)).to_series().to_list() == [
        "emerging",
        "emerging",
        "nano",
        "nano",
        "micro",
        "micro",
        "macro",
        "macro",
        "mega",
        None,
    ]
    five = pl.select(
        tier_of(pl.lit(pl.Series([4_999, 5_000, 19_999, 20_000])), FIVE_TIER)
    ).to_series()
    assert five.to_list() == ["nano", "micro", "micro", "mid_tier"]


def test_changes_and_explicit_gaps():
    out = daily({0: 100, 1: 110, 4: 90})
    assert out["followers_change"].to_list() == [None, 10, -20]
    assert out["days_since_previous_snapshot"].to_list() == [None, 1, 3]


def test_growth_uses_the_latest_snapshot_on_or_before_t_minus_n():
    # Day 10 vs t-7 = day 3: no snapshot on day 3, the latest before it is day 2 (1,000).
    out = daily({0: 800, 2: 1_000, 5: 1_100, 10: 1_250})
    row = out.filter(pl.col("date") == D0 + timedelta(days=10)).row(0, named=True)
    assert row["growth_rate_7d"] == pytest.approx(1_250 / 1_000 - 1)  # 0.25
    # Day 5 - 7 = day -2: nothing on or before it, so no 7-day growth.
    assert out.filter(pl.col("date") == D0 + timedelta(days=5))["growth_rate_7d"].item() is None


def test_growth_over_a_long_gap_is_null_not_bridged():
    # Day 40 - 30 = day 10; the latest snapshot on or before it is day 0, 10 days older than
    # the 7-day tolerance: the gap is explicit.
    out = daily({0: 1_000, 40: 2_000})
    assert out["growth_rate_30d"].to_list() == [None, None]
    within = daily({0: 1_000, 35: 2_000})  # day 5 -> day 0 is within tolerance
    assert within["growth_rate_30d"].to_list()[1] == pytest.approx(1.0)


def test_posts_count_on_the_first_snapshot_day_on_or_after_publication():
    posts = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            "published_date": [
                D0,
                D0 + timedelta(days=2),
                D0 + timedelta(days=3),
                D0 + timedelta(days=3),
            ],
        }
    )
    out = daily({0: 10, 1: 10, 3: 10}, posts=posts)
    # Day 0: the day-0 post; day 1: none; day 3: the day-2 post (no snapshot on day 2) + two.
    assert out["posts_published"].to_list() == [1, 0, 3]


def test_a_hovering_account_keeps_its_tier():
    # Around 10,000: never 7 days on the other side.
    counts = {d: (10_050 if d % 4 < 2 else 9_950) for d in range(30)}
    out = daily(counts)
    assert set(out["raw_tier"]) == {"micro", "nano"}
    assert set(out["tier"]) == {"micro"}


def test_a_real_move_is_confirmed_after_the_confirmation_period():
    # Nano until day 9, micro from day 10 on: confirmed micro on day 17 (10 + 7).
    counts = {d: (9_000 if d < 10 else 12_000) for d in range(25)}
    out = daily(counts)
    tiers = dict(zip([(d - D0).days for d in out["date"]], out["tier"], strict=True))
    assert tiers[16] == "nano" and tiers[17] == "micro" and tiers[24] == "micro"
    assert out.filter(pl.col("tier") == "micro")["entered_tier_on"].unique().to_list() == [
        D0 + timedelta(days=10)
    ]
    immediate = daily(counts, confirmation_days=0)
    assert immediate.filter(pl.col("date") == D0 + timedelta(days=10))["tier"].item() == "micro"


def test_rebuild_from_a_seed_and_bounded_history_equals_full_computation():
    # Nano until day 9, micro from day 10; a 20-day gap; back to nano.
    counts = {d: (9_000 if d < 10 else 12_000) for d in range(60)} | {
        d: 8_000 for d in range(80, 130)
    }
    for gap_day in range(60, 80):
        counts.pop(gap_day, None)
    full = daily(counts)
    for cut_day in (14, 85, 120):
        cut = D0 + timedelta(days=cut_day)
        seed = (
            full.filter(pl.col("date") < cut)
            .sort("date")
            .group_by("platform", "account_id")
            .agg(pl.all().last())
        )
        recent = {d: c for d, c in counts.items() if cut_day - 29 <= d}
        part = account_daily(
            snapshots(recent),
            NO_POSTS,
            DEFAULT,
            7,
            emit_from=cut,
            seed=seed.lazy(),
            history=snapshots(counts),
        ).collect()
        assert part.equals(full.filter(pl.col("date") >= cut)), cut_day


def test_planted_spike_is_flagged_and_noise_is_not():
    import numpy as np

    rng = np.random.default_rng(0)
    counts, followers = {}, 50_000
    for d in range(60):
        followers += int(rng.normal(40, 15))
        if d == 45:
            followers += 4_000  # a spike far outside the account's own behaviour
        counts[d] = followers
    out = daily(counts)
    flagged = out.filter("is_growth_anomaly")
    assert flagged["date"].to_list() == [D0 + timedelta(days=45)]
    assert flagged["anomaly_rule"].to_list() == ["robust_z"]


def test_purges_and_round_jumps_name_their_rule():
    counts = {0: 20_000, 1: 20_040, 2: 18_500, 3: 18_520, 4: 23_520, 5: 23_600}
    out = daily(counts)
    rules = dict(zip([(d - D0).days for d in out["date"]], out["anomaly_rule"], strict=True))
    assert rules[2] == "sudden_drop"  # -1,540 = -7.7% in a day
    assert rules[4] == "round_number_jump"  # +5,000 exactly
    assert rules[1] is None and rules[3] is None and rules[5] is None
    rounded = account_daily(snapshots(counts, rounded=True), NO_POSTS, DEFAULT, 7).collect()
    assert rounded.filter(pl.col("date") == D0 + timedelta(days=4))["anomaly_rule"].item() is None


def test_confirm_tiers_first_tier_needs_no_confirmation():
    frame = pl.LazyFrame(
        {"platform": "x", "account_id": "a", "snapshot_date": [D0], "raw_tier": ["macro"]}
    )
    assert confirm_tiers(frame, 7).collect()["tier"].to_list() == ["macro"]


def test_migrations_hover_none_real_move_exactly_one_on_the_confirmation_day():
    from transforms.migrations import tier_migrations, tier_spells

    def events(counts):
        rows = daily(counts).lazy()
        return tier_migrations(tier_spells(rows), rows, DEFAULT).collect()

    hovering = {d: (10_050 if d % 4 < 2 else 9_950) for d in range(40)}
    assert events(hovering).height == 0
    moving = {d: (9_000 if d < 10 else 12_000) for d in range(30)}
    (event,) = events(moving).iter_rows(named=True)
    # Crossed on day 10, confirmed 7 days later.
    assert event["migrated_on"] == D0 + timedelta(days=17)
    assert event["entered_tier_on"] == D0 + timedelta(days=10)
    assert (event["from_tier"], event["to_tier"], event["direction"]) == ("nano", "micro", "up")
    assert (event["followers_before"], event["followers_after"]) == (12_000, 12_000)
