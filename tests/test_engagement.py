"""Engagement, migrations and benchmarks on tiny literal frames; values computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from schemas.tables import POST_SNAPSHOT
from tests.factories import contract_frame
from transforms.accounts import dim_account
from transforms.benchmarks import posts_in_tier, tier_benchmarks
from transforms.engagement import post_metrics, relative_to_tier, weekly_engagement
from transforms.migrations import account_months, tier_migrations, tier_spells, transitions_monthly
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
    assert row["er_reach"] == pytest.approx(0.1)
    assert row["er_views"] == pytest.approx(0.05)


def test_interactions_skip_unreported_components_and_null_when_none():
    snaps = post_snaps(
        {"post_id": "p1", "snapshot_date": date(2026, 3, 3), "shares": None, "saves": None},
        {
            "post_id": "p2",
            "snapshot_date": date(2026, 3, 3),
            "likes": None,
            "comments": None,
            "shares": None,
            "saves": None,
            "reach": None,
        },
    )
    out = post_metrics(snaps, followers((date(2026, 3, 2), 1_000))).collect().sort("post_id")
    assert out["interactions"].to_list() == [96, None]
    assert out["er_reach"].to_list() == [pytest.approx(0.096), None]


def test_fixed_age_value_is_the_snapshot_nearest_seven_days():
    # Published Mar 2 12:00; 7 days later is Mar 9 12:00. Captures at 03:00: Mar 9 (-9 h) is
    # nearer than Mar 10 (+15 h).
    snaps = post_snaps(
        {"snapshot_date": date(2026, 3, 3), "likes": 10},
        {"snapshot_date": date(2026, 3, 9), "likes": 70},
        {"snapshot_date": date(2026, 3, 10), "likes": 80},
        {"snapshot_date": date(2026, 3, 30), "likes": 95},
    )
    row = post_metrics(snaps, followers((date(2026, 3, 2), 1_000))).collect().row(0, named=True)
    assert row["interactions_d7"] == 80  # 70 + 6 + 2 + 2
    assert row["age_hours_d7"] == 159  # 6 days 15 hours
    assert row["er_followers_d7"] == pytest.approx(0.08)
    assert row["interactions"] == 105
    far = post_snaps({"snapshot_date": date(2026, 3, 3)}, {"snapshot_date": date(2026, 3, 20)})
    assert (
        post_metrics(far, followers((date(2026, 3, 2), 1_000))).collect()["interactions_d7"].item()
        is None
    )


def test_weekly_mean_median_rolling_and_relative_to_tier():
    def post(pid, day, er, account="a"):
        return {
            "platform": "instagram",
            "account_id": account,
            "post_id": pid,
            "published_date": day,
            "interactions": int(er * 1000),
            "er_followers": er,
        }

    monday = date(2026, 3, 2)
    posts = pl.LazyFrame(
        [
            post("1", monday, 0.01),
            post("2", monday, 0.02),
            post("3", monday + timedelta(days=1), 0.30),  # viral
            post("4", monday + timedelta(days=7), 0.04),
            post("5", monday, 0.02, account="b"),
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
    assert first["posts"] == 3
    assert first["er_followers_mean"] == pytest.approx(0.11)  # (0.01 + 0.02 + 0.30) / 3
    assert first["er_followers_median"] == pytest.approx(0.02)  # robust to the viral post
    second = weekly.row(1, named=True)
    assert second["er_rolling_4w"] == pytest.approx((0.01 + 0.02 + 0.30 + 0.04) / 4)
    # Week 1 tier median over accounts a (0.02) and b (0.02): a is at the median.
    assert first["er_vs_tier_median"] == pytest.approx(0.0)
    assert second["tier"] == "micro"


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


def test_monthly_transition_shares_add_up_per_from_tier():
    one = daily_rows(["nano"] * 3 + ["micro"] * 3).collect()
    two = one.with_columns(pl.lit("b").alias("account_id"), pl.lit("nano").alias("tier"))
    out = transitions_monthly(account_months(pl.concat([one, two]).lazy())).collect()
    assert out.select("from_tier", "to_tier", "accounts", "share_of_from_tier").rows() == [
        ("nano", "micro", 1, 0.5),
        ("nano", "nano", 1, 0.5),
    ]


def test_account_months_take_the_first_and_last_snapshot_day_of_each_month():
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
    months = account_months(daily).sort("month").collect()
    assert months.select("month", "from_tier", "to_tier", "growth_rate_30d").rows() == [
        (date(2026, 1, 1), "nano", "micro", 0.2),
        (date(2026, 2, 1), "micro", "micro", 0.4),
    ]


def test_monthly_marts_from_account_partitions_equal_the_whole():
    """Per-account pieces of two halves of the accounts add up to the marts of all of them."""
    from transforms.pipeline import account_period_rows, build_period_marts

    tiers = {"a": ["nano"] * 3, "b": ["nano", "micro", "micro"], "c": ["micro"] * 3}
    daily = pl.concat(
        daily_rows(t, [1_000 * (i + 1)] * 3).with_columns(
            pl.lit(account).alias("account_id"), pl.lit(0.1 * (i + 1)).alias("growth_rate_30d")
        )
        for i, (account, t) in enumerate(tiers.items())
    )
    posts = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": ["a", "b", "b", "c"],
            "published_date": [
                date(2026, 1, 2),
                date(2026, 1, 1),
                date(2026, 1, 3),
                date(2026, 1, 2),
            ],
            "er_followers": [0.01, 0.02, 0.05, 0.04],
        }
    )
    first = date(2026, 1, 1)
    whole = {
        n: f.collect()
        for n, f in build_period_marts(**account_period_rows(daily, posts, first)).items()
    }
    halves = [
        account_period_rows(daily.filter(keep), posts.filter(keep), first)
        for keep in (pl.col("account_id") == "b", pl.col("account_id") != "b")
    ]
    combined = build_period_marts(
        **{name: pl.concat([half[name] for half in halves]) for name in halves[0]}
    )
    for name, frame in combined.items():
        assert_frame_equal(frame.collect(), whole[name])
    # By hand: b starts nano and ends micro; its first post is nano, its last micro.
    assert whole["agg_tier_transitions_monthly"].select(
        "from_tier", "to_tier", "accounts"
    ).rows() == [
        ("micro", "micro", 1),
        ("nano", "micro", 1),
        ("nano", "nano", 1),
    ]
    micro = whole["agg_tier_benchmarks"].filter(pl.col("tier") == "micro").row(0, named=True)
    assert (micro["accounts"], micro["posts"]) == (2, 2)
    assert micro["er_median"] == pytest.approx(0.045)  # posts 0.05 (b) and 0.04 (c)
    assert micro["growth_median"] == pytest.approx(0.25)  # b 0.2, c 0.3


def test_benchmarks_and_dimension():
    daily = daily_rows(["micro"] * 3, [10_000, 10_100, 10_200])
    posts = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            "published_date": [date(2026, 1, 2)] * 4,
            "er_followers": [0.01, 0.02, 0.03, 0.04],
        }
    )
    bench = (
        tier_benchmarks(posts_in_tier(posts, daily), account_months(daily))
        .collect()
        .row(0, named=True)
    )
    assert (bench["tier"], bench["accounts"], bench["posts"]) == ("micro", 1, 4)
    assert bench["er_median"] == pytest.approx(0.025)
    assert bench["er_p25"] == pytest.approx(0.0175) and bench["er_p75"] == pytest.approx(0.0325)
    accounts = pl.LazyFrame(
        {
            "platform": "instagram",
            "account_id": "a",
            "handle": "h",
            "display_name": "H",
            "category": "Food",
        }
    )
    dim = dim_account(accounts, daily).collect().row(0, named=True)
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
