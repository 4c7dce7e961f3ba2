"""Engagement, migrations and benchmarks on tiny literal frames; values computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from schemas.tables import POST_SNAPSHOT
from tests.factories import contract_frame
from transforms.accounts import dim_account
from transforms.benchmarks import creator_months, tier_benchmarks
from transforms.engagement import post_metrics, relative_to_tier, weekly_engagement
from transforms.migrations import (
    account_months,
    month_transitions,
    tier_migrations,
    tier_spells,
    transitions_monthly,
)
from transforms.tiers import DEFAULT

PUBLISHED = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a Monday


def post_snaps(*rows: dict) -> pl.LazyFrame:
    base = {
        "platform": "instagram",
        "post_id": "p1",
        "account_id": "a",
        "published_at": PUBLISHED,
        "media_type": "image",
        "likes": 90,
        "comments": 6,
        "shares": 2,
        "saves": 2,
        "views": 2_000,
        "reach": 1_000,
        "is_sponsored": False,
    }
    full = []
    for r in rows:
        row = base | r
        row.setdefault(
            "captured_at",
            datetime.combine(row["snapshot_date"], datetime.min.time(), tzinfo=UTC)
            + timedelta(hours=3),
        )
        full.append(row)
    return contract_frame(POST_SNAPSHOT, full).lazy()


def followers(*pairs: tuple[date, int], account: str = "a") -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": account,
            "snapshot_date": [d for d, _ in pairs],
            "followers": [f for _, f in pairs],
        },
        schema_overrides={"followers": pl.Int64},
    )


def test_latest_snapshot_interactions_and_rates():
    snaps = post_snaps(
        {"snapshot_date": date(2026, 3, 3), "likes": 50}, {"snapshot_date": date(2026, 3, 20)}
    )
    fol = followers((date(2026, 3, 1), 4_000), (date(2026, 3, 2), 5_000), (date(2026, 3, 3), 9_999))
    row = post_metrics(snaps, fol).collect().row(0, named=True)
    assert row["latest_snapshot_date"] == date(2026, 3, 20)
    assert row["interactions"] == 100  # 90 + 6 + 2 + 2
    assert row["followers_at_publish"] == 5_000  # as of the publication day, not the day after
    assert row["er_followers"] == pytest.approx(0.02)
    assert row["er_followers_lc"] == pytest.approx(0.0192)  # (90 + 6) / 5,000
    assert row["er_reach"] == pytest.approx(0.1)
    assert row["er_views"] == pytest.approx(0.05)
    assert row["er_null_reason"] is None


def test_a_missing_component_the_platform_reports_makes_interactions_unknown():
    # Hand-computed: the post with hidden likes, 40 comments, 9,500 followers. Summing
    # what is there would give 40 / 9,500 = 0.42%, read as a very poor creator.
    hidden = {"post_id": "hidden", "snapshot_date": date(2026, 3, 3), "likes": None, "comments": 40}
    no_insights = {"post_id": "no_insights", "snapshot_date": date(2026, 3, 3)} | {
        "shares": None,
        "saves": None,
    }
    youtube = {
        "platform": "youtube",
        "post_id": "yt",
        "snapshot_date": date(2026, 3, 3),
        "shares": None,
        "saves": None,
        "reach": None,
    }
    nothing = {"post_id": "nothing", "snapshot_date": date(2026, 3, 3)} | dict.fromkeys(
        ("likes", "comments", "shares", "saves", "reach"), None
    )
    snaps = post_snaps(hidden, no_insights, youtube, nothing)
    fol = pl.concat(
        [
            followers((date(2026, 3, 2), 9_500)),
            followers((date(2026, 3, 2), 9_500)).with_columns(pl.lit("youtube").alias("platform")),
        ]
    )
    out = {r["post_id"]: r for r in post_metrics(snaps, fol).collect().iter_rows(named=True)}
    assert out["hidden"]["interactions"] is None and out["hidden"]["er_followers"] is None
    assert out["hidden"]["er_followers_lc"] is None
    assert out["hidden"]["er_null_reason"] == "likes not reported"
    # Instagram without insights: likes + comments are still a rate, all interactions are not.
    assert out["no_insights"]["interactions"] is None
    assert out["no_insights"]["er_null_reason"] == "shares not reported"
    assert out["no_insights"]["er_followers_lc"] == pytest.approx(96 / 9_500)
    assert out["no_insights"]["er_reach"] is None
    # YouTube reports likes and comments only: those are all its interactions.
    assert out["yt"]["interactions"] == 96 and out["yt"]["er_null_reason"] is None
    assert out["yt"]["er_followers"] == pytest.approx(96 / 9_500)
    assert out["nothing"]["interactions"] is None
    assert out["nothing"]["er_null_reason"] == "likes not reported"


def test_a_rate_without_followers_says_why():
    snaps = post_snaps({"snapshot_date": date(2026, 3, 3)})
    # The only follower snapshot is 8 days before publication: beyond the as-of tolerance.
    row = post_metrics(snaps, followers((date(2026, 2, 22), 1_000))).collect().row(0, named=True)
    assert row["followers_at_publish"] is None and row["er_followers"] is None
    assert row["er_null_reason"] == "no follower snapshot in the 7 days before publication"
    zero = post_metrics(snaps, followers((date(2026, 3, 2), 0))).collect().row(0, named=True)
    assert zero["er_followers"] is None and zero["er_null_reason"] == "no followers at publication"


def test_fixed_age_value_is_the_snapshot_nearest_seven_days():
    # Published Mar 2 12:00; 7 days later is Mar 9 12:00. Captures at 03:00: Mar 9 (-9 h) is
    # nearer than Mar 10 (+15 h).
    snaps = post_snaps(
        {"snapshot_date": date(2026, 3, 3), "likes": 10},
        {"snapshot_date": date(2026, 3, 9), "likes": 70, "views": 1_720},
        {"snapshot_date": date(2026, 3, 10), "likes": 80},
        {"snapshot_date": date(2026, 3, 30), "likes": 95},
    )
    row = post_metrics(snaps, followers((date(2026, 3, 2), 1_000))).collect().row(0, named=True)
    assert row["interactions_d7"] == 80  # 70 + 6 + 2 + 2
    assert row["age_hours_d7"] == 159  # 6 days 15 hours
    assert (row["likes_d7"], row["comments_d7"], row["views_d7"]) == (70, 6, 1_720)
    assert row["er_followers_d7"] == pytest.approx(0.08)
    assert row["er_followers_lc_d7"] == pytest.approx(0.076)  # (70 + 6) / 1,000
    assert row["er_views_lc_d7"] == pytest.approx(0.0441860465)  # 76 / 1,720
    assert row["interactions"] == 105
    assert row["is_d7_pending"] is False
    far = post_snaps({"snapshot_date": date(2026, 3, 3)}, {"snapshot_date": date(2026, 3, 20)})
    missed = post_metrics(far, followers((date(2026, 3, 2), 1_000))).collect().row(0, named=True)
    # No snapshot near day 7, and none can come: missing, not pending.
    assert missed["interactions_d7"] is None and missed["is_d7_pending"] is False


def test_a_capture_saved_under_two_snapshot_days_gives_the_later_days_fixed_age_value():
    # One capture (Mar 9 03:00, 9 h before day 7) exported again under the next snapshot day
    # with corrected counts: equally near, equally early, the later day's row is the value.
    captured = datetime(2026, 3, 9, 3, tzinfo=UTC)
    snaps = post_snaps(
        {"snapshot_date": date(2026, 3, 9), "captured_at": captured, "likes": 60},
        {"snapshot_date": date(2026, 3, 10), "captured_at": captured, "likes": 70},
        {"snapshot_date": date(2026, 3, 30), "likes": 95},
    )
    row = post_metrics(snaps, followers((date(2026, 3, 2), 1_000))).collect().row(0, named=True)
    assert (row["likes_d7"], row["age_hours_d7"]) == (70, 159)
    assert row["likes"] == 95  # the latest snapshot's, as before


def test_a_post_younger_than_its_fixed_age_is_pending():
    # Published Mar 2 12:00; the fixed-age window closes Mar 9 12:00 + 36 h = Mar 11 00:00.
    young = post_snaps({"snapshot_date": date(2026, 3, 5)})
    fol = followers((date(2026, 3, 2), 1_000))
    assert post_metrics(young, fol).collect()["is_d7_pending"].to_list() == [True]
    # Published two days earlier (Feb 28 12:00), the window closed Mar 9 00:00: a capture on
    # Mar 10 23:00 can no longer be the fixed-age value, and none will come: not pending.
    edge = post_snaps(
        {"snapshot_date": date(2026, 3, 10), "captured_at": datetime(2026, 3, 10, 23, tzinfo=UTC)}
    ).with_columns(pl.lit(PUBLISHED - timedelta(days=2)).alias("published_at"))
    assert post_metrics(edge, fol).collect()["is_d7_pending"].to_list() == [False]
    late = post_snaps(
        {"snapshot_date": date(2026, 3, 10), "captured_at": datetime(2026, 3, 10, 23, tzinfo=UTC)}
    )
    # Captured 8 days 11 hours after publication: 35 hours after day 7, within the tolerance,
    # so it is the fixed-age value (203 whole hours).
    assert post_metrics(late, fol).collect()["age_hours_d7"].to_list() == [203]


def weekly_post(pid: str, day: date, er: float | None, account: str = "a", **extra) -> dict:
    return {
        "platform": "instagram",
        "account_id": account,
        "post_id": pid,
        "published_date": day,
        "interactions": None if er is None else int(er * 1000),
        "er_followers_lc_d7": er,
        "is_d7_pending": False,
    } | extra


def test_weekly_mean_median_rolling_and_relative_to_tier():
    monday = date(2026, 3, 2)
    posts = pl.LazyFrame(
        [
            weekly_post("1", monday, 0.01),
            weekly_post("2", monday, 0.02),
            weekly_post("3", monday + timedelta(days=1), 0.30),  # viral
            weekly_post("4", monday + timedelta(days=7), 0.04),
            weekly_post("5", monday, 0.02, account="b"),
            # Too young for a fixed-age value: counted, not rated.
            weekly_post("6", monday + timedelta(days=8), None, is_d7_pending=True),
        ]
    )
    tiers = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": ["a", "a", "b"],
            "date": [monday, monday + timedelta(days=8), monday],
            "tier": ["micro", "micro", "micro"],
        }
    )
    weekly = (
        relative_to_tier(weekly_engagement(posts, tiers)).collect().sort("account_id", "week_start")
    )
    first = weekly.row(0, named=True)
    assert (first["posts"], first["posts_pending"]) == (3, 0)
    assert first["er_followers_mean"] == pytest.approx(0.11)  # (0.01 + 0.02 + 0.30) / 3
    assert first["er_followers_median"] == pytest.approx(0.02)  # robust to the viral post
    second = weekly.row(1, named=True)
    assert (second["posts"], second["posts_pending"]) == (2, 1)
    assert second["er_followers_mean"] == pytest.approx(0.04)  # the pending post is not rated
    assert second["er_rolling_4w"] == pytest.approx((0.01 + 0.02 + 0.30 + 0.04) / 4)
    # Week 1 tier median over accounts a (0.02) and b (0.02): a is at the median.
    assert first["er_vs_tier_median"] == pytest.approx(0.0)
    assert second["tier"] == "micro"


def test_er_vs_tier_median_is_a_ratio_to_the_tiers_median():
    monday = date(2026, 3, 2)
    posts = pl.LazyFrame(
        [
            weekly_post("1", monday, 0.03, account="a"),
            weekly_post("2", monday, 0.02, account="b"),
            weekly_post("3", monday, 0.01, account="c"),
            weekly_post("4", monday, 0.05, account="d"),  # another tier: not in micro's median
        ]
    )
    tiers = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": ["a", "b", "c", "d"],
            "date": [monday] * 4,
            "tier": ["micro", "micro", "micro", "macro"],
        }
    )
    out = relative_to_tier(weekly_engagement(posts, tiers)).collect()
    vs = dict(zip(out["account_id"], out["er_vs_tier_median"], strict=True))
    # Micro's median is 0.02 (a 0.03, b 0.02, c 0.01): a 0.03/0.02 - 1 = +50%, c -50%.
    assert vs["a"] == pytest.approx(0.5) and vs["c"] == pytest.approx(-0.5)
    assert vs["b"] == pytest.approx(0.0) and vs["d"] == pytest.approx(0.0)


def test_er_trend_compares_calendar_windows_of_four_weeks():
    # One post a week in weeks 0, 1, 2, 5, 6 (none in 3, 4, 7 of the windows), hand-computed:
    # week 6: last 4 weeks (3..6) = posts of weeks 5, 6 -> (0.05 + 0.07) / 2 = 0.06;
    # the 4 weeks before (weeks -1..2) -> (0.02 + 0.03 + 0.04) / 3 = 0.03; trend 0.06/0.03 - 1 = 1.
    monday = date(2026, 3, 2)
    ers = {0: 0.02, 1: 0.03, 2: 0.04, 5: 0.05, 6: 0.07}
    posts = pl.LazyFrame(
        [weekly_post(str(w), monday + timedelta(weeks=w), er) for w, er in ers.items()]
    )
    tiers = pl.LazyFrame(
        {"platform": "instagram", "account_id": "a", "date": [monday], "tier": ["micro"]}
    )
    weekly = weekly_engagement(posts, tiers).collect().sort("week_start")
    trend = dict(zip(weekly["week_start"], weekly["er_trend"], strict=True))
    assert trend[monday + timedelta(weeks=6)] == pytest.approx(1.0)
    # Week 5: last 4 weeks (2..5) = 0.04, 0.05 -> 0.045; before (weeks -2..1) = 0.02, 0.03 ->
    # 0.025; trend 0.8. (The old rule needed a post in exactly week 1 - 4 weeks: none.)
    assert trend[monday + timedelta(weeks=5)] == pytest.approx(0.8)
    rolling = dict(zip(weekly["week_start"], weekly["er_rolling_4w"], strict=True))
    # Week 5's 4 calendar weeks are 2..5: 0.04 and 0.05 (weeks 4..5 alone would give 0.05).
    assert rolling[monday + timedelta(weeks=5)] == pytest.approx(0.045)
    # Weeks 0-2 have nothing 4-8 weeks earlier: no trend.
    assert trend[monday] is None and trend[monday + timedelta(weeks=2)] is None
    # A falling ER gives a negative trend.
    falling = posts.with_columns((0.1 - pl.col("er_followers_lc_d7")).alias("er_followers_lc_d7"))
    week6 = (
        weekly_engagement(falling, tiers)
        .collect()
        .filter(pl.col("week_start") == monday + timedelta(weeks=6))
    )
    # (0.05 + 0.03) / 2 = 0.04 against (0.08 + 0.07 + 0.06) / 3 = 0.07: 0.04 / 0.07 - 1.
    assert week6["er_trend"].item() == pytest.approx(0.04 / 0.07 - 1)


def daily_rows(tiers: list[str], followers_by_day: list[int] | None = None) -> pl.LazyFrame:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(len(tiers))]
    return pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            "date": days,
            "tier": tiers,
            "entered_tier_on": days,
            "followers": followers_by_day or list(range(len(tiers))),
            "growth_rate_30d": [0.1] * len(tiers),
        }
    ).with_columns(
        # Each day is entered on itself here: the count before it is the previous day's.
        pl.col("followers").shift().alias("followers_before_tier")
    )


def test_spells_and_migrations_are_consistent():
    daily = daily_rows(
        ["nano", "nano", "micro", "micro", "micro", "nano"],
        [900, 950, 10_100, 10_300, 10_200, 9_000],
    )
    spells = tier_spells(daily).collect()
    assert spells.select("tier", "valid_from", "valid_to").rows() == [
        ("nano", date(2026, 1, 1), date(2026, 1, 3)),
        ("micro", date(2026, 1, 3), date(2026, 1, 6)),
        ("nano", date(2026, 1, 6), None),
    ]
    events = tier_migrations(spells.lazy(), daily, DEFAULT).collect()
    assert events.select(
        "migrated_on", "from_tier", "to_tier", "direction", "followers_before", "followers_after"
    ).rows() == [
        (date(2026, 1, 3), "nano", "micro", "up", 950, 10_100),
        (date(2026, 1, 6), "micro", "nano", "down", 10_200, 9_000),
    ]
    # Every migration starts a spell and ends the previous one.
    assert set(events["migrated_on"]) == set(spells["valid_to"].drop_nulls())


NO_PRIOR = pl.LazyFrame(
    schema={"platform": pl.String, "account_id": pl.String, "prior_tier": pl.String}
)


def test_monthly_transition_shares_add_up_per_from_tier():
    one = daily_rows(["nano"] * 3 + ["micro"] * 3).collect()
    two = one.with_columns(pl.lit("b").alias("account_id"), pl.lit("nano").alias("tier"))
    out = transitions_monthly(month_transitions(pl.concat([one, two]).lazy(), NO_PRIOR)).collect()
    assert out.select("from_tier", "to_tier", "accounts", "share_of_from_tier").rows() == [
        ("nano", "micro", 1, 0.5),
        ("nano", "nano", 1, 0.5),
    ]


def test_a_migration_on_a_months_first_snapshot_day_counts_in_that_month():
    # The account: 9,500 followers Jan 1-24 (nano), 10,500 from Jan 25 (micro),
    # confirmed (7 days) on Feb 1, the first snapshot day of February.
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(40)]
    tiers = ["nano"] * 31 + ["micro"] * 9  # the confirmed tier: micro from Feb 1
    daily = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            "date": days,
            "tier": tiers,
            "growth_rate_30d": 0.1,
        }
    )
    january = daily.filter(pl.col("date") < date(2026, 2, 1))
    february = daily.filter(pl.col("date") >= date(2026, 2, 1))
    # Each month on its own, as the night computes them: February knows January's end tier
    # from the tier history.
    prior = pl.LazyFrame({"platform": ["instagram"], "account_id": ["a"], "prior_tier": ["nano"]})
    jan = transitions_monthly(month_transitions(january, NO_PRIOR)).collect()
    feb = transitions_monthly(month_transitions(february, prior)).collect()
    assert jan.select("from_tier", "to_tier", "accounts").rows() == [("nano", "nano", 1)]
    assert feb.select("from_tier", "to_tier", "accounts").rows() == [("nano", "micro", 1)]
    assert account_months(february, prior).collect()["from_tier"].to_list() == ["nano"]


def test_every_migration_is_one_off_diagonal_transition_in_its_month():
    """Per month, the off-diagonal counts equal that month's migrations (hand-built tiers)."""
    tiers = {
        "a": ["nano"] * 20 + ["micro"] * 40,  # up on Jan 21
        "b": ["micro"] * 31 + ["nano"] * 29,  # down on Feb 1, the month's first day
        "c": ["nano"] * 10 + ["micro"] * 10 + ["nano"] * 40,  # up and down in January
        "d": ["micro"] * 60,  # never moves
    }
    daily = pl.concat(
        daily_rows(t).with_columns(pl.lit(account).alias("account_id"))
        for account, t in tiers.items()
    )
    spells = tier_spells(daily)
    migrations = (
        tier_migrations(spells, daily, DEFAULT)
        .group_by(pl.col("migrated_on").dt.truncate("1mo").alias("month"))
        .agg(pl.len().alias("migrations"))
        .collect()
    )
    months = [date(2026, 1, 1), date(2026, 2, 1)]
    matrix = pl.concat(
        transitions_monthly(
            month_transitions(
                daily.filter(pl.col("date").dt.truncate("1mo") == month),
                # The tier before the month, as the night reads it from the tier history.
                spells.filter(pl.col("valid_from") < month)
                .group_by("platform", "account_id")
                .agg(pl.col("tier").sort_by("valid_from").last().alias("prior_tier")),
            )
        ).collect()
        for month in months
    )
    off_diagonal = (
        matrix.filter(pl.col("from_tier") != pl.col("to_tier"))
        .group_by("month")
        .agg(pl.col("accounts").sum().cast(pl.UInt32).alias("migrations"))
    )
    assert_frame_equal(off_diagonal, migrations, check_row_order=False, check_dtypes=False)
    # By hand: January a up, c up and down; February b down; d (and a, c in February) stay.
    assert sorted(off_diagonal.rows()) == [(date(2026, 1, 1), 3), (date(2026, 2, 1), 1)]


def test_account_months_take_the_tier_before_the_month_and_on_its_last_day():
    days = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 5)]
    daily = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            # Out of order on purpose: first and last go by date, not by row.
            "date": [days[1], days[0], days[3], days[2]],
            "tier": ["micro", "nano", "micro", "micro"],
            "growth_rate_30d": [0.2, 0.1, 0.4, 0.3],
        }
    )
    months = account_months(daily, NO_PRIOR).sort("month").collect()
    # January: the account's first month, from its first tier; February: from January's end.
    assert months.select("month", "from_tier", "to_tier", "growth_rate_30d").rows() == [
        (date(2026, 1, 1), "nano", "micro", 0.2),
        (date(2026, 2, 1), "micro", "micro", 0.4),
    ]


def _categories(**by_account: str | None) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": list(by_account),
            "category": list(by_account.values()),
        },
        schema_overrides={"category": pl.String},
    )


def _period_posts(rows: list[tuple[str, date, float | None, float | None]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        rows,
        schema={
            "account_id": pl.String,
            "published_date": pl.Date,
            "er_followers_lc_d7": pl.Float64,
            "er_views_lc_d7": pl.Float64,
        },
        orient="row",
    ).with_columns(pl.lit("instagram").alias("platform"))


def test_monthly_marts_from_account_partitions_equal_the_whole():
    """Per-account pieces of two halves of the accounts add up to the marts of all of them."""
    from transforms.pipeline import account_period_rows, build_period_marts

    tiers = {"a": ["nano"] * 3, "b": ["nano"] * 3, "c": ["micro"] * 3}
    daily = pl.concat(
        daily_rows(t, [1_000 * (i + 1)] * 3).with_columns(
            pl.lit(account).alias("account_id"), pl.lit(0.1 * (i + 1)).alias("growth_rate_30d")
        )
        for i, (account, t) in enumerate(tiers.items())
    )
    posts = _period_posts(
        [
            ("a", date(2026, 1, 2), 0.01, None),
            ("b", date(2026, 1, 1), 0.02, 0.2),
            ("b", date(2026, 1, 3), 0.05, 0.4),
            ("c", date(2026, 1, 2), 0.04, None),
        ]
    )
    # b was micro before January: it migrated down on its first January day.
    prior = pl.LazyFrame({"platform": ["instagram"], "account_id": ["b"], "prior_tier": ["micro"]})
    categories = _categories(a="Food", b="Food", c=None)
    first = date(2026, 1, 1)
    whole = {
        n: f.collect()
        for n, f in build_period_marts(
            **account_period_rows(daily, posts, prior, categories, first)
        ).items()
    }
    halves = [
        account_period_rows(
            daily.filter(keep), posts.filter(keep), prior.filter(keep), categories, first
        )
        for keep in (pl.col("account_id") == "b", pl.col("account_id") != "b")
    ]
    combined = build_period_marts(
        **{name: pl.concat([half[name] for half in halves]) for name in halves[0]}
    )
    for name, frame in combined.items():
        assert_frame_equal(frame.collect(), whole[name])
    # By hand: a stays nano, b comes down from micro, c stays micro.
    assert whole["agg_tier_transitions_monthly"].select(
        "from_tier", "to_tier", "accounts"
    ).rows() == [
        ("micro", "micro", 1),
        ("micro", "nano", 1),
        ("nano", "nano", 1),
    ]
    nano = whole["agg_tier_benchmarks"].filter(
        (pl.col("tier") == "nano") & (pl.col("category") == "Food")
    )
    row = nano.row(0, named=True)
    # a's median 0.01; b's median of 0.02 and 0.05 = 0.035; across creators: median 0.0225.
    assert (row["accounts"], row["accounts_with_posts"], row["posts"]) == (2, 2, 3)
    assert row["er_median"] == pytest.approx(0.0225)
    assert row["growth_median"] == pytest.approx(0.15)  # a 0.1, b 0.2
    # Only b has views: its median 0.3.
    assert row["er_views_median"] == pytest.approx(0.3)
    micro = whole["agg_tier_benchmarks"].filter(pl.col("tier") == "micro")
    # c has no category: its own row, and the all-categories row.
    assert sorted(micro["category"].to_list()) == ["(all)", "(unknown)"]


def test_benchmarks_are_per_creator_then_across_creators():
    """A frequent poster counts once: percentiles go over each creator's median."""
    daily = pl.concat(
        daily_rows(["micro"] * 3, [10_000, 10_100, 10_200]).with_columns(
            pl.lit(account).alias("account_id")
        )
        for account in ("busy", "calm1", "calm2", "calm3")
    )
    # busy posts 6 times at 1%; the others once each at 3%, 4%, 5%. By post, the median
    # would be 1% (6 of 9 posts); by creator it is the median of 1%, 3%, 4%, 5% = 3.5%.
    posts = _period_posts(
        [("busy", date(2026, 1, 2), 0.01, None)] * 6
        + [
            ("calm1", date(2026, 1, 2), 0.03, None),
            ("calm2", date(2026, 1, 2), 0.04, None),
            ("calm3", date(2026, 1, 2), 0.05, None),
        ]
    )
    months = account_months(daily, NO_PRIOR)
    creators = creator_months(months, posts, _categories(busy="Food"))
    bench = tier_benchmarks(creators).collect()
    overall = bench.filter(pl.col("category") == "(all)").row(0, named=True)
    assert (overall["accounts"], overall["accounts_with_posts"], overall["posts"]) == (4, 4, 9)
    assert overall["er_median"] == pytest.approx(0.035)
    # Linear interpolation across the 4 creators (numpy's default): p25 at rank 0.75, p75 at 2.25.
    assert overall["er_p25"] == pytest.approx(0.01 + 0.75 * 0.02)  # 0.025
    assert overall["er_p75"] == pytest.approx(0.04 + 0.25 * 0.01)  # 0.0425
    assert overall["er_views_median"] is None  # no views reported
    food = bench.filter(pl.col("category") == "Food").row(0, named=True)
    assert (food["accounts"], food["er_median"]) == (1, pytest.approx(0.01))


def test_dimension():
    daily = daily_rows(["micro"] * 3, [10_000, 10_100, 10_200])
    accounts = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            "handle": "h",
            "display_name": "H",
            "category": "Food",
            "followers_hidden": False,
        }
    )
    dim = dim_account(accounts, daily).collect().row(0, named=True)
    assert dim["tier_unknown_reason"] is None and dim["followers_hidden"] is False
    assert (
        dim["first_seen"],
        dim["last_seen"],
        dim["followers_latest"],
        dim["tier_latest"],
        dim["category"],
    ) == (
        date(2026, 1, 1),
        date(2026, 1, 3),
        10_200,
        "micro",
        "Food",
    )
    # The latest row is the last day's, whatever order the rows come in.
    reversed_rows = dim_account(accounts, daily.reverse()).collect().row(0, named=True)
    assert reversed_rows == dim


def test_an_account_without_a_tier_says_why():
    """A channel hiding its count, an account known from its posts: no tier, each its reason."""
    from transforms.accounts import HIDDEN_REASON, NO_SNAPSHOT_REASON

    daily = daily_rows(["micro"] * 2, [10_000, 10_100])
    accounts = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": ["a", "hidden", "posts_only"],
            "handle": ["h", "hid", None],
            "display_name": None,
            "category": None,
            "followers_hidden": [False, True, None],
        }
    )
    keys = accounts.select("platform", "account_id")
    dim = dim_account(accounts, daily, keys=keys).collect().sort("account_id")
    assert dim.select("account_id", "handle", "tier_latest", "tier_unknown_reason").rows() == [
        ("a", "h", "micro", None),
        ("hidden", "hid", None, HIDDEN_REASON),
        ("posts_only", None, None, NO_SNAPSHOT_REASON),
    ]
