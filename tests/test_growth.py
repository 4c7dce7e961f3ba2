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
    # the 30-day window's 3-day tolerance: the gap is explicit.
    out = daily({0: 1_000, 40: 2_000})
    assert out["growth_rate_30d"].to_list() == [None, None]
    within = daily({0: 1_000, 33: 2_000})  # day 3 -> day 0: 3 days older, within tolerance
    assert within["growth_rate_30d"].to_list()[1] == pytest.approx(1.0)
    assert within["growth_base_date_30d"].to_list()[1] == D0
    beyond = daily({0: 1_000, 34: 2_000})  # day 4 -> day 0: 4 days older
    assert beyond["growth_rate_30d"].to_list()[1] is None


def test_each_window_bounds_the_age_of_its_base():
    """7d: base at most 1 day older than t-7; 90d: at most 7 (a 14-day-old base made a
    "7-day" rate a two-week one)."""
    seven = daily({0: 1_000, 8: 1_100, 16: 1_210})
    # Day 8 - 7 = day 1 -> day 0 (1 day older): +10%. Day 16 - 7 = day 9 -> day 8 (1 older).
    assert seven["growth_rate_7d"].to_list() == [None, pytest.approx(0.1), pytest.approx(0.1)]
    assert seven["growth_base_date_7d"].to_list() == [None, D0, D0 + timedelta(days=8)]
    assert daily({0: 1_000, 9: 1_100})["growth_rate_7d"].to_list() == [None, None]  # 2 days older
    ninety = daily({0: 1_000, 97: 1_500, 98: 1_600})
    # Day 97 - 90 = day 7 -> day 0 (7 days older): +50%; day 98 -> day 8 -> day 0, 8 days: null.
    assert ninety["growth_rate_90d"].to_list() == [None, pytest.approx(0.5), None]


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
    # Nano until day 9, micro from day 10; a 20-day gap; back to nano; then weekly snapshots
    # with a jump (the anomaly window's first change precedes the bounded read).
    counts = {d: (9_000 if d < 10 else 12_000) for d in range(60)} | {
        d: 8_000 for d in range(80, 130)
    }
    counts |= {130 + 7 * w: 8_000 + 500 * w for w in range(12)} | {214: 60_000}
    for gap_day in range(60, 80):
        counts.pop(gap_day, None)
    full = daily(counts)
    for cut_day in (14, 85, 120, 200, 214):
        cut = D0 + timedelta(days=cut_day)
        seed = (
            full.filter(pl.col("date") < cut)
            .sort("date")
            .group_by("platform", "account_id")
            .agg(pl.all().last())
        )
        recent = {d: c for d, c in counts.items() if cut_day - 29 <= d}
        earlier = full.filter((pl.col("date") < cut) & (pl.col("date") >= cut - timedelta(days=29)))
        part = account_daily(
            snapshots(recent),
            NO_POSTS,
            DEFAULT,
            7,
            emit_from=cut,
            seed=seed.lazy(),
            history=snapshots(counts),
            earlier=earlier.lazy(),
        ).collect()
        assert part.equals(full.filter(pl.col("date") >= cut)), cut_day


def _spiked_counts() -> dict[int, int]:
    """60 days of noisy daily growth with a spike on day 45 (robust_z fires on it)."""
    import numpy as np

    rng = np.random.default_rng(0)
    counts, followers = {}, 50_000
    for d in range(60):
        followers += int(rng.normal(40, 15))
        if d == 45:
            followers += 4_000  # a spike far outside the account's own behaviour
        counts[d] = followers
    return counts


def test_a_night_judges_its_days_against_the_window_the_marts_hold():
    """A night reads staging from emit_from only: the anomaly rule's window before it, and the
    growth windows' counts, come from the marts' rows (`earlier`). A spike on the night's day is
    flagged as in a full computation, its window (28 days, none of them staged in the read)
    taken from the marts."""
    counts = _spiked_counts()
    full = daily(counts)
    assert full.filter(pl.col("date") == D0 + timedelta(days=45))["anomaly_rule"].item() == (
        "robust_z"
    )
    for cut_day in (44, 45, 46, 59):
        cut = D0 + timedelta(days=cut_day)
        before = full.filter(pl.col("date") < cut).sort("date")
        part = account_daily(
            snapshots({d: c for d, c in counts.items() if d >= cut_day}),
            NO_POSTS,
            DEFAULT,
            7,
            emit_from=cut,
            seed=before.group_by("platform", "account_id").agg(pl.all().last()).lazy(),
            history=snapshots({d: c for d, c in counts.items() if d < cut_day - 29}),
            earlier=before.filter(pl.col("date") >= cut - timedelta(days=29)).lazy(),
        ).collect()
        assert part.equals(full.filter(pl.col("date") >= cut)), cut_day


def test_planted_spike_is_flagged_and_noise_is_not():
    out = daily(_spiked_counts())
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
    # Before: the last count before it crossed (day 9), not the day before the confirmation.
    assert (event["followers_before"], event["followers_after"]) == (9_000, 12_000)


def test_the_issues_migration_keeps_the_count_before_the_crossing():
    # Hand-built: 9,500 followers Jan 1-24, 10,500 from Jan 25; confirmed on Feb 1 (7 days).
    from transforms.migrations import tier_migrations, tier_spells

    counts = {d: (9_500 if d < 24 else 10_500) for d in range(40)}
    rows = daily(counts).lazy()
    (event,) = tier_migrations(tier_spells(rows), rows, DEFAULT).collect().iter_rows(named=True)
    assert (event["migrated_on"], event["entered_tier_on"]) == (date(2026, 2, 1), date(2026, 1, 25))
    assert (event["followers_before"], event["followers_after"]) == (9_500, 10_500)


def test_two_snapshots_days_apart_do_not_confirm_a_tier():
    # Nano on day 0, then micro on day 8 and day 9 only: 9 days in micro but two snapshots.
    out = daily({0: 9_000, 8: 12_000, 9: 12_000})
    assert out["tier"].to_list() == ["nano", "nano", "nano"]
    assert out["raw_tier_snapshots"].to_list() == [1, 1, 2]
    # Weekly snapshots: micro from day 7, confirmed on the third snapshot in it (day 21).
    weekly = daily({0: 9_000, 7: 12_000, 14: 12_000, 21: 12_000})
    assert weekly["tier"].to_list() == ["nano", "nano", "nano", "micro"]
    # Daily snapshots: day 10 .. day 17 is 7 days (the 8th day in the tier), 8 snapshots.
    moving = daily({d: (9_000 if d < 10 else 12_000) for d in range(20)})
    first_micro = moving.filter(pl.col("tier") == "micro")["date"].min()
    assert first_micro == D0 + timedelta(days=17)


def test_rounded_steps_within_the_rounding_unit_are_not_anomalies():
    # A YouTube channel at 3 significant digits: 1.20M for days, then +10,000 steps (one
    # rounding unit at this size) every few days, as real rounded series move.
    counts = {}
    followers = 1_200_000
    for d in range(60):
        if d % 5 == 4:
            followers += 10_000
        counts[d] = followers
    out = account_daily(snapshots(counts, rounded=True), NO_POSTS, DEFAULT, 7).collect()
    assert out["anomaly_rule"].drop_nulls().to_list() == []
    # The same steps in exact counts, after weeks of +0: one follower is the unit, they fire.
    exact = daily(counts)
    assert "robust_z" in exact["anomaly_rule"].to_list()
    # A jump of many rounding units still fires on the rounded series.
    counts_jump = counts | {d: counts[d] + 200_000 for d in range(45, 60)}
    jumped = account_daily(snapshots(counts_jump, rounded=True), NO_POSTS, DEFAULT, 7).collect()
    assert jumped.filter(pl.col("date") == D0 + timedelta(days=45))["anomaly_rule"].item() == (
        "robust_z"
    )


def test_weekly_series_are_judged_per_day_of_their_gap():
    # The issue's weekly channel: small weekly gains, then +14.0M, then -13.5M a week later.
    counts = {7 * w: 2_000_000 + 3_000 * w for w in range(10)}
    counts[70] = counts[63] + 14_000_000
    counts[77] = counts[70] - 13_500_000
    out = daily(counts)
    rules = dict(zip([(d - D0).days for d in out["date"]], out["anomaly_rule"], strict=True))
    assert rules[70] == "robust_z"  # +2.0M a day against ~+430 a day
    assert rules[77] == "sudden_drop"  # -84% in a week
    assert [r for d, r in rules.items() if d < 70 and r is not None] == []


def test_a_drop_under_fifty_followers_is_not_a_purge():
    # 86 -> 70 is -18.6% but only 16 followers: tiny accounts' noise (the stated minimum).
    assert daily({0: 86, 1: 70})["anomaly_rule"].to_list() == [None, None]
    # 1,000 -> 940 (-6%, 60 followers) is one; 1,000 -> 960 (-4%) is not.
    assert daily({0: 1_000, 1: 940})["anomaly_rule"].to_list() == [None, "sudden_drop"]
    assert daily({0: 1_000, 1: 960})["anomaly_rule"].to_list() == [None, None]
    # A week apart still counts; eight days apart does not.
    assert daily({0: 1_000, 7: 940})["anomaly_rule"].to_list() == [None, "sudden_drop"]
    assert daily({0: 1_000, 8: 940})["anomaly_rule"].to_list() == [None, None]


def test_the_z_score_window_holds_the_days_before_not_the_day_itself():
    # 13 flat days of history (changes of 0) before day 14: the window before day 14 spans 13
    # days, under the 14 the rule needs, so day 14's jump is not judged; day 15's is (its window,
    # days 1..14, spans 14). Counting the day itself would judge day 14 already.
    counts = {d: 40_000 for d in range(14)} | {14: 45_123, 15: 50_246}
    rules = daily(counts)["anomaly_rule"].to_list()
    assert rules[14] is None
    assert rules[15] == "robust_z"


def test_a_scheme_from_bounds_states_each_problem_in_one_line():
    from transforms.tiers import TierScheme, resolve_scheme

    two = TierScheme.from_bounds("two", {"small": 0, "big": 10})
    assert two.tiers == (("small", 0), ("big", 10))  # two tiers are enough; 0 needs no below tier
    problems = {
        "one tier": ({"nano": 1}, "tier scheme 'x' needs at least two tiers"),
        "negative": (
            {"nano": -1, "micro": 10},
            "tier scheme 'x': nano = -1 is not a whole number of followers >= 0",
        ),
        "fraction": (
            {"nano": 1.5, "micro": 10},
            "tier scheme 'x': nano = 1.5 is not a whole number of followers >= 0",
        ),
        "boolean": (
            {"nano": True, "micro": 10},
            "tier scheme 'x': nano = True is not a whole number of followers >= 0",
        ),
        "equal": (
            {"nano": 10, "micro": 10},
            "tier scheme 'x': bounds must increase, smallest first "
            "(micro = 10 is not above nano = 10)",
        ),
        "clash": (
            {"nano": 1, "below_nano": 10},
            "tier scheme 'x': below_nano is the name of the implicit tier",
        ),
    }
    for case, (bounds, message) in problems.items():
        with pytest.raises(ValueError) as raised:
            TierScheme.from_bounds("x", bounds)
        assert str(raised.value) == message, case
    industry = resolve_scheme("industry")
    assert industry.names == ("below_nano", "nano", "micro", "mid", "macro", "mega")
    assert industry.bounds()["mid"] == 50_000
    assert resolve_scheme("mine", {"mine": {"a": 0, "b": 5}}).tiers == (("a", 0), ("b", 5))
    with pytest.raises(ValueError) as unknown:
        resolve_scheme("nope", {"mine": {"a": 0, "b": 5}})
    assert str(unknown.value) == (
        "unknown tier scheme 'nope'; known: default, five_tier, industry, mine"
    )


def test_a_gain_over_a_gap_at_the_usual_daily_pace_is_not_an_anomaly():
    # +100 a day for 28 days, then 3 days apart +300: 100 a day, as usual (per day of the gap).
    counts = {d: 50_000 + 100 * d for d in range(29)} | {31: 50_000 + 100 * 28 + 300}
    assert daily(counts)["anomaly_rule"].to_list()[-1] is None
    # +1,500 over those 3 days (500 a day) is one.
    jumped = counts | {31: 50_000 + 100 * 28 + 1_500}
    assert daily(jumped)["anomaly_rule"].to_list()[-1] == "robust_z"


def test_the_z_score_scale_is_the_iqr_over_1_349():
    # Alternating +100 / +200 a day: median 150, quartiles 100 and 200 (linear), IQR/1.349 = 74.13.
    counts, followers = {}, 50_000
    for d in range(29):
        counts[d] = followers
        followers += 100 if d % 2 else 200
    last = counts[28]
    # (640 - 150) / 74.13 = 6.61 > 6 fires; (590 - 150) / 74.13 = 5.94 does not.
    assert daily(counts | {29: last + 640})["anomaly_rule"].to_list()[-1] == "robust_z"
    assert daily(counts | {29: last + 590})["anomaly_rule"].to_list()[-1] is None


def test_a_step_from_an_exact_to_a_rounded_count_uses_the_rounding_unit():
    # Exact counts, then the source switches to 3 significant digits: 1,234,567 -> 1,240,000
    # is a step inside one rounding unit (10,000), not behaviour.
    counts = {d: 1_234_567 for d in range(20)} | {20: 1_240_000}
    frame = snapshots(counts).with_columns(
        (pl.col("snapshot_date") == D0 + timedelta(days=20)).alias("is_followers_rounded")
    )
    out = account_daily(frame, NO_POSTS, DEFAULT, 7).collect()
    assert out["anomaly_rule"].to_list()[-1] is None


def gains(days: dict[int, tuple[int, int]], account: str = "a") -> pl.LazyFrame:
    """Exact daily (gained, lost) on day offsets from D0."""
    return pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": account,
            "snapshot_date": [D0 + timedelta(days=d) for d in days],
            "followers_gained": [g for g, _ in days.values()],
            "followers_lost": [lost for _, lost in days.values()],
        },
        schema_overrides={"followers_gained": pl.Int64, "followers_lost": pl.Int64},
    )


# Rounded public counts (YouTube keeps 3 significant digits) on days 0, 1, 3, 40 and 41; the
# owner's analytics report days 1, 2, 3 and 4 only.
ROUNDED_COUNTS = {0: 31_200, 1: 31_200, 3: 31_300, 40: 31_400, 41: 31_400}
REPORTED = {1: (41, 8), 2: (30, 6), 3: (20, 5), 4: (7, 7)}


def test_exact_gains_are_summed_over_each_gap_and_replace_a_rounded_change():
    rows = account_daily(
        snapshots(ROUNDED_COUNTS, rounded=True), NO_POSTS, DEFAULT, 7, changes=gains(REPORTED)
    ).collect()
    got = rows.select("followers_change", "followers_gained", "followers_lost").rows()
    assert got == [
        (None, None, None),  # the first row has no span
        (33, 41, 8),  # day 1: 41 - 8, where the rounded counts say 0
        (39, 50, 11),  # days 2-3: (30 + 20) - (6 + 5); the counts say 100
        (100, None, None),  # a 37-day gap is longer than 29 days: the counts' difference
        (0, None, None),  # day 41 is not reported: no gains, the counts' difference
    ]


def test_gains_with_a_day_unreported_are_unknown():
    rows = account_daily(
        snapshots(ROUNDED_COUNTS, rounded=True),
        NO_POSTS,
        DEFAULT,
        7,
        changes=gains({1: (41, 8), 3: (20, 5)}),
    ).collect()
    # Day 3's span is days 2 and 3; day 2 is missing, so the sum would undercount.
    assert rows.filter(pl.col("date") == D0 + timedelta(days=3))["followers_gained"].to_list() == [
        None
    ]
    assert rows.filter(pl.col("date") == D0 + timedelta(days=3))["followers_change"].to_list() == [
        100
    ]


def test_exact_counts_keep_their_own_change_beside_the_gains():
    """An exact count's difference is the change; the gains are shown, not preferred."""
    rows = account_daily(
        snapshots(ROUNDED_COUNTS), NO_POSTS, DEFAULT, 7, changes=gains(REPORTED)
    ).collect()
    assert rows.select("followers_change", "followers_gained").rows()[1:3] == [(0, 41), (100, 50)]


def test_without_exact_gains_the_columns_are_null():
    rows = daily({0: 100, 1: 110})
    assert rows["followers_gained"].to_list() == [None, None]
    assert rows["followers_lost"].to_list() == [None, None]


@pytest.mark.parametrize("way", ["gathered", "mixed"])
def test_trailing_windows_gathered_for_the_emitted_rows_equal_the_rolling_ones(way, monkeypatch):
    """A rebuild from emit_from gathers the anomaly rule's trailing windows for the emitted
    rows of accounts with few of them and rolls them for the others (`mixed`); a full one rolls
    them over every row. Quartiles and the days spanned must be the same for every emitted
    row: irregular gaps, missing rates, accounts cut on different days (some before their
    first row, some within their last few)."""
    import random

    from transforms.growth import (
        GATHER_MAX_ROWS,
        TRAILING,
        _trailing_rates_gathered,
        _trailing_rates_mixed,
        _trailing_rates_rolling,
    )

    rng = random.Random(11)
    rows, cuts = [], []
    for account in range(25):
        day, previous, days = D0, None, []
        for _ in range(70):
            day += timedelta(days=rng.choice([1, 1, 1, 1, 2, 3, 9]))
            gap = None if previous is None else (day - previous).days
            rate = None if gap is None or rng.random() < 0.1 else rng.gauss(20, 60)
            rows.append((f"p{account % 2}", f"a{account}", day, rate, gap))
            previous = day
            days.append(day)
        # Two accounts rebuilt from before their first row (empty windows), six from one of
        # their last seven rows (as a night), the rest anywhere.
        cut = (
            D0 - timedelta(days=5)
            if account < 2
            else days[-rng.randint(1, 7)]
            if account < 8
            else D0 + timedelta(days=rng.randint(0, 160))
        )
        cuts.append((f"p{account % 2}", f"a{account}", cut))
    frame = (
        pl.DataFrame(
            rows,
            schema={
                "platform": pl.String,
                "account_id": pl.String,
                "snapshot_date": pl.Date,
                "_rate": pl.Float64,
                "days_since_previous_snapshot": pl.Int32,
            },
            orient="row",
        )
        .sort("platform", "account_id", "snapshot_date")
        .with_columns(pl.struct("platform", "account_id").rle_id().alias("_account"))
    )
    scope = pl.LazyFrame(
        cuts, schema=["platform", "account_id", "emit_from"], orient="row"
    ).with_columns(pl.col("emit_from").cast(pl.Date))
    rolled = _trailing_rates_rolling(frame.lazy()).collect()
    emitted = rolled.join(scope.collect(), on=["platform", "account_id"]).filter(
        pl.col("snapshot_date") >= pl.col("emit_from")
    )
    judged = (
        frame.join(scope.collect(), on=["platform", "account_id"])
        .filter(pl.col("snapshot_date") >= pl.col("emit_from"))
        .drop("emit_from")
    )
    per_account = judged.group_by("account_id").len()["len"]
    assert (per_account <= GATHER_MAX_ROWS).sum() >= 6 and (
        per_account > GATHER_MAX_ROWS
    ).sum() >= 6
    compute = _trailing_rates_gathered if way == "gathered" else _trailing_rates_mixed
    sent: list[pl.LazyFrame] = []

    def recorded(rows: pl.LazyFrame, context: pl.LazyFrame) -> pl.LazyFrame:
        sent.append(rows)
        return _trailing_rates_gathered(rows, context)

    monkeypatch.setattr("transforms.growth._trailing_rates_gathered", recorded)
    # The context in no particular order (a night's: the marts' days, then its own).
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    gathered = compute(judged.lazy(), shuffled.lazy()).collect()
    if way == "mixed":
        # Only accounts with a night's few rows are gathered (a join per row and account row
        # is quadratic in a rebuild's hundreds); the others are rolled.
        gathered_counts = pl.concat([f.collect() for f in sent]).group_by("_account").len()
        assert gathered_counts.height >= 6 and gathered_counts["len"].max() <= GATHER_MAX_ROWS
    assert 300 < emitted.height < frame.height - 300  # cuts fall inside most histories
    # Empty windows (an account's first row) have no quartiles and span no days.
    assert 2 <= emitted["_median"].null_count() < 30 and emitted["_spanned"].min() == 0
    key = ["platform", "account_id", "snapshot_date"]
    compared = emitted.select(*key, *TRAILING).join(
        gathered.select(*key, *TRAILING), on=key, suffix="_gathered"
    )
    assert compared.height == emitted.height == gathered.height
    for column in TRAILING:
        assert (
            compared.select((pl.col(column) - pl.col(f"{column}_gathered")).abs().max()).item()
            or 0.0
        ) < 1e-9, column
        assert compared[column].null_count() == compared[f"{column}_gathered"].null_count()
