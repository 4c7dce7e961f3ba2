"""Creator scorecards: each flag fires on a hand-built account and not on its lookalike;
percentiles, ranks and window figures checked against values computed by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl
import pytest

from schemas.marts import (
    FCT_ACCOUNT_DAILY,
    FCT_POST_METRICS,
    SCORECARD_DAILY_INPUT,
    SCORECARD_POSTS_INPUT,
)
from tests.factories import contract_frame, contract_schema
from transforms.scorecard import ScorecardRules, creator_windows, scored_creators

D0 = date(2026, 3, 1)
DAYS = 28
# A 4-week window ending on 2026-03-28 (the accounts' last snapshot of March) starts on D0.
RULES = ScorecardRules(window_days=28, min_peers=3)
DAILY_COLUMNS = list(SCORECARD_DAILY_INPUT)
POST_COLUMNS = list(SCORECARD_POSTS_INPUT)


@dataclass
class Account:
    """A creator by hand: followers per day from D0 (None: no snapshot that day), following
    per day (None: not reported), posts as (day, likes at 7 days, comments at 7 days)."""

    account_id: str
    followers: list[int | None]
    following: list[int | None] | None = None
    posts: list[tuple[int, int, int]] = field(default_factory=list)
    platform: str = "instagram"
    tier: str = "micro"
    category: str | None = "beauty"
    growth_30d: float | None = None
    sponsored: dict[int, bool] = field(default_factory=dict)  # post day -> is_sponsored

    def daily_rows(self) -> list[dict]:
        rows, previous = [], None
        for day, count in enumerate(self.followers):
            if count is None:
                continue
            rows.append(
                {
                    "platform": self.platform,
                    "account_id": self.account_id,
                    "date": D0 + timedelta(days=day),
                    "followers": count,
                    "following": None if self.following is None else self.following[day],
                    "followers_change": None if previous is None else count - previous[1],
                    "days_since_previous_snapshot": None if previous is None else day - previous[0],
                    "growth_rate_30d": self.growth_30d,
                    "growth_rate_90d": None,
                    "tier": self.tier,
                }
            )
            previous = (day, count)
        return rows

    def post_rows(self) -> list[dict]:
        return [
            {
                "platform": self.platform,
                "account_id": self.account_id,
                "published_date": D0 + timedelta(days=day),
                "is_sponsored": self.sponsored.get(day),
                "is_d7_pending": False,
                "likes_d7": likes,
                "comments_d7": comments,
                "er_followers_lc_d7": (likes + comments) / self.followers[day],
                "er_views_lc_d7": None,
            }
            for day, likes, comments in self.posts
        ]


def flat(count: int) -> list[int | None]:
    return [count] * DAYS


def weekly_posts(likes: int, comments: int, days=range(0, DAYS, 3)) -> list[tuple[int, int, int]]:
    return [(day, likes, comments) for day in days]


def score(*accounts: Account, rules: ScorecardRules = RULES) -> dict[str, dict]:
    daily = contract_frame(
        FCT_ACCOUNT_DAILY, [r for a in accounts for r in a.daily_rows()], DAILY_COLUMNS
    )
    posts = contract_frame(
        FCT_POST_METRICS, [r for a in accounts for r in a.post_rows()], POST_COLUMNS
    )
    categories = pl.DataFrame(
        [(a.platform, a.account_id, a.category) for a in accounts],
        schema={"platform": pl.String, "account_id": pl.String, "category": pl.String},
        orient="row",
    )
    windows = creator_windows(daily.lazy(), posts.lazy(), D0, rules)
    rows = scored_creators(windows, categories.lazy(), rules).collect()
    return {row["account_id"]: row for row in rows.iter_rows(named=True)}


# --- one account that must fire each flag, and a lookalike that must not -------------------


def test_inactive_audience_fires_when_followers_rise_and_interactions_do_not():
    rising = [10_000 + 2_000 * day // (DAYS - 1) for day in range(DAYS)]  # +20% over the window
    # Posts every 3 days: days 0, 3, 6, 9, 12 in the first half (days 0-13), 15 .. 27 after.
    flat_lc = [(d, 480, 20) if d < 14 else (d, 430, 20) for d in range(0, DAYS, 3)]
    rising_lc = [(d, 480, 20) if d < 14 else (d, 580, 20) for d in range(0, DAYS, 3)]
    rows = score(
        Account("fires", rising, posts=flat_lc), Account("lookalike", rising, posts=rising_lc)
    )
    fired, kept = rows["fires"], rows["lookalike"]
    assert fired["followers_growth_window"] == pytest.approx(0.2)
    assert fired["flag_inactive_audience"] is True
    # 500 -> 450 likes + comments per post: -10%.
    assert fired["flag_reasons"].startswith(
        "inactive_audience: followers +20.0% (10000 -> 12000) while median likes + comments per "
        "post went 500 -> 450 (-10.0%)"
    )
    assert kept["flag_inactive_audience"] is False
    assert kept["flag_reasons"] is None


def test_inactive_audience_needs_posts_in_both_halves():
    rising = [10_000 + 100 * day for day in range(DAYS)]
    rows = score(Account("early_only", rising, posts=weekly_posts(480, 20, days=[0, 3, 6, 20])))
    row = rows["early_only"]
    assert row["flag_inactive_audience"] is None
    assert "inactive_audience: needs 3 measured posts in each half" in row["flags_not_evaluated"]


def test_following_spike_fires_on_a_jump_in_accounts_followed():
    spike = [300] * 10 + [900] * (DAYS - 10)  # +600 (+200%) on day 10
    mild = [300] * 10 + [450] * (DAYS - 10)  # +150: under the 200 minimum
    rows = score(
        Account("fires", flat(20_000), following=spike),
        Account("lookalike", flat(20_000), following=mild),
        Account("youtube", flat(20_000), platform="youtube"),
    )
    assert rows["fires"]["flag_following_spike"] is True
    assert "following_spike: following 300 -> 900 on 2026-03-11" in rows["fires"]["flag_reasons"]
    assert rows["lookalike"]["flag_following_spike"] is False
    # Not reported (YouTube): not evaluated, and said so.
    assert rows["youtube"]["flag_following_spike"] is None
    assert "following_spike: following not reported" in rows["youtube"]["flags_not_evaluated"]


def test_the_windows_are_the_same_whatever_order_the_rows_come_in():
    """The spilled rows reach creator_windows in no particular order: each snapshot's previous
    one is found within its account by date, not by the rows' order (a following spike, a gain
    then a loss and the first snapshot's count all read it)."""
    accounts = (
        Account(
            "spike",
            [10_000 + 40 * day for day in range(DAYS)],
            following=[300] * 10 + [900] * (DAYS - 10),
            posts=weekly_posts(500, 20),
        ),
        Account("purged", [10_000] * 5 + [12_000] * 15 + [10_500] * 8, following=[300] * DAYS),
    )
    daily = contract_frame(
        FCT_ACCOUNT_DAILY, [r for a in accounts for r in a.daily_rows()], DAILY_COLUMNS
    )
    posts = contract_frame(
        FCT_POST_METRICS, [r for a in accounts for r in a.post_rows()], POST_COLUMNS
    )
    in_order = creator_windows(daily.lazy(), posts.lazy(), D0, RULES).collect()
    backwards = creator_windows(daily.reverse().lazy(), posts.reverse().lazy(), D0, RULES)
    shuffled = creator_windows(
        daily.sample(fraction=1.0, shuffle=True, seed=7).lazy(), posts.lazy(), D0, RULES
    )
    by_account = in_order.sort("account_id")
    assert by_account["spike_date"].to_list() == [None, date(2026, 3, 11)]
    assert by_account["gain_date"].to_list() == [date(2026, 3, 6), None]
    assert by_account["first_followers"].to_list() == [10_000, 10_000]
    for other in (backwards, shuffled):
        assert other.collect().sort("account_id").equals(by_account)


def test_following_spike_needs_both_snapshots_close():
    # The jump spans a 9-day gap: not compared (it may be spread over days never seen).
    followers = flat(20_000)
    following = [300] * DAYS
    for day in range(10, 19):
        followers[day] = None
    following[19:] = [900] * (DAYS - 19)
    row = score(Account("gap", followers, following=following))["gap"]
    assert row["flag_following_spike"] is False


def test_low_er_fires_far_below_the_category_norm():
    # ER per post (likes + comments) / 10,000 followers: 1.2%, 2.5%, 4%, 5%, 6%; norm 4%.
    rows = score(
        *(
            Account(name, flat(10_000), posts=weekly_posts(lc - 10, 10))
            for name, lc in (
                ("fires", 120),
                ("lookalike", 250),
                ("p3", 400),
                ("p4", 500),
                ("p5", 600),
            )
        )
    )
    assert rows["fires"]["er_category_median"] == pytest.approx(0.04)
    assert rows["fires"]["flag_low_er"] is True  # 1.2% < 0.5 x 4%
    assert rows["fires"]["flag_reasons"] == (
        "low_er: median ER 1.2% is 0.3x the median of 5 instagram micro beauty creators (4.0%); "
        "fires below 0.5x"
    )
    assert rows["lookalike"]["flag_low_er"] is False  # 2.5% >= 2%
    assert rows["p5"]["flag_low_er"] is False


def test_low_er_is_not_evaluated_without_enough_peers():
    rows = score(
        Account("a", flat(10_000), posts=weekly_posts(140, 10)),
        Account("b", flat(10_000), posts=weekly_posts(390, 10)),
    )
    assert rows["a"]["flag_low_er"] is None and rows["a"]["er_category_median"] is None
    assert "low_er: no median ER, or fewer than 3 creators" in rows["a"]["flags_not_evaluated"]


def test_likes_comments_fires_on_an_unusual_ratio():
    # Peers: 400 likes per 20 comments (20 per comment). 1,000/10 = 100 (5x) fires;
    # 700/10 = 70 (3.5x) does not; 60/30 = 2 per comment (0.1x) fires the other way.
    peers = [Account(f"peer{i}", flat(30_000), posts=weekly_posts(400, 20)) for i in range(4)]
    rows = score(
        *peers,
        Account("bought_likes", flat(30_000), posts=weekly_posts(1_000, 10)),
        Account("lookalike", flat(30_000), posts=weekly_posts(700, 10)),
        Account("pod", flat(30_000), posts=weekly_posts(60, 30)),
    )
    assert rows["peer0"]["likes_per_comment_tier_median"] == pytest.approx(20.0)
    assert rows["bought_likes"]["flag_likes_comments"] is True
    assert (
        "likes_comments: 100.0 likes per comment against 20.0"
        in rows["bought_likes"]["flag_reasons"]
    )
    assert rows["pod"]["flag_likes_comments"] is True
    assert rows["lookalike"]["flag_likes_comments"] is False
    assert rows["peer0"]["flag_likes_comments"] is False


def test_likes_comments_needs_enough_comments():
    peers = [Account(f"peer{i}", flat(30_000), posts=weekly_posts(400, 20)) for i in range(3)]
    # Two posts with 2 comments each: 4 comments, under the 30 the ratio needs.
    few = Account("few", flat(30_000), posts=[(1, 1_000, 2), (5, 1_000, 2)])
    row = score(*peers, few)["few"]
    assert row["likes_per_comment"] == pytest.approx(500.0)
    assert row["flag_likes_comments"] is None


def test_gain_then_loss_fires_when_a_sudden_gain_is_purged():
    purged = [10_000] * 5 + [12_000] * 15 + [10_500] * 8  # +2,000 on day 5, -1,500 by day 20
    kept = [10_000] * 5 + [12_000] * 15 + [11_800] * 8  # -200: 10% of the gain
    slow = [10_000 + 40 * day for day in range(DAYS)]  # steady growth: no sudden gain
    rows = score(Account("fires", purged), Account("lookalike", kept), Account("steady", slow))
    assert rows["fires"]["flag_gain_then_loss"] is True
    assert rows["fires"]["flag_reasons"].startswith(
        "gain_then_loss: +2000 followers on 2026-03-06 (20.0% of 10000), then down to 10500 by "
        "2026-03-21 (75.0% of the gain lost)"
    )
    assert rows["lookalike"]["flag_gain_then_loss"] is False
    assert rows["steady"]["flag_gain_then_loss"] is False


def test_gain_then_loss_only_counts_a_loss_within_the_weeks_after():
    # The gain is on day 2 and the loss on day 27, 25 days later: inside the default 28 days
    # it fires; with loss_within_days = 20 it is outside and does not.
    late = [10_000] * 2 + [12_000] * 25 + [10_500]
    assert score(Account("late", late))["late"]["flag_gain_then_loss"] is True
    strict = ScorecardRules(window_days=28, min_peers=3, loss_within_days=20)
    assert score(Account("late", late), rules=strict)["late"]["flag_gain_then_loss"] is False


# --- percentiles, ranks and window figures by hand ------------------------------------------


def test_percentiles_and_ranks_by_hand():
    # Tier group (instagram micro): ER 1%, 2%, 2%, 4% and one creator without posts.
    # PERCENT_RANK: 100 x below / (4 - 1): 0, 33.3, 33.3, 100; ranks from the top: 4, 2, 2, 1.
    # Categories: beauty has 1%, 2%, 4% (3 creators: percentiles 0, 50, 100); food has the
    # other 2% and the creator without posts (1 with an ER: under min_peers, null).
    rows = score(
        Account("a", flat(10_000), posts=weekly_posts(90, 10), growth_30d=0.01),
        Account("b", flat(10_000), posts=weekly_posts(190, 10), growth_30d=0.03),
        Account("c", flat(10_000), posts=weekly_posts(190, 10), category="food", growth_30d=0.02),
        Account("d", flat(10_000), posts=weekly_posts(390, 10), growth_30d=-0.01),
        Account("e", flat(10_000), category="food", growth_30d=0.05),
    )
    tier = {k: (r["er_percentile_tier"], r["er_rank_tier"]) for k, r in rows.items()}
    assert tier["a"] == (0.0, 4)
    assert tier["b"][0] == pytest.approx(100 / 3) and tier["b"][1] == 2
    assert tier["c"][0] == pytest.approx(100 / 3) and tier["c"][1] == 2
    assert tier["d"] == (100.0, 1)
    assert tier["e"] == (None, None)
    assert [rows[k]["er_percentile_category"] for k in "abd"] == [0.0, 50.0, 100.0]
    assert [rows[k]["er_rank_category"] for k in "abd"] == [3, 2, 1]
    assert rows["c"]["er_percentile_category"] is None and rows["c"]["er_rank_category"] == 1
    assert rows["c"]["peers_category"] == 1 and rows["a"]["peers_category"] == 3
    assert rows["a"]["peers_tier"] == 4
    # Growth: all five have one: -1%, 1%, 2%, 3%, 5% -> 0, 25, 50, 75, 100 in the tier.
    growth = {k: r["growth_percentile_tier"] for k, r in rows.items()}
    assert growth == {"d": 0.0, "a": 25.0, "c": 50.0, "b": 75.0, "e": 100.0}
    assert rows["e"]["growth_percentile_category"] is None  # food: 2 creators < min_peers


def test_window_figures_by_hand():
    # Snapshots on 21 of 28 days; 7 posts (one in each of the first 3 weeks back from
    # 2026-03-28, none in the 4th), 2 sponsored and 3 organic (2 unknown).
    followers: list[int | None] = flat(10_000)
    for day in range(7):
        followers[day] = None
    posts = [
        (27, 190, 10),
        (26, 290, 10),
        (20, 390, 10),
        (15, 90, 10),
        (8, 190, 10),
        (7, 40, 10),
        (8, 140, 10),
    ]
    sponsored = {27: True, 26: True, 20: False, 15: False, 8: False}
    row = score(Account("x", followers, posts=posts, sponsored=sponsored))["x"]
    assert row["as_of_date"] == date(2026, 3, 28) and row["window_start"] == D0
    assert row["snapshot_days"] == 21 and row["coverage"] == pytest.approx(21 / 28)
    assert row["posts"] == 7 and row["posts_per_week"] == pytest.approx(7 / 4)
    # Weeks back from the 28th: days 21-27 (27, 26), 14-20 (20, 15), 7-13 (8, 7, 8), 0-6: none.
    assert row["weeks_with_posts"] == 3 and row["consistency"] == pytest.approx(0.75)
    # ER per post: 2%, 3%, 4%, 1%, 2%, 0.5%, 1.5%: median 2%.
    assert row["er_median"] == pytest.approx(0.02)
    # Sponsored: days 27, 26; organic: days 20, 15 and both posts of day 8; day 7 unknown.
    assert row["sponsored_posts"] == 2 and row["organic_posts"] == 4
    assert row["sponsored_share"] == pytest.approx(2 / 6)
    # Sponsored 2%, 3% -> 2.5%; organic 4%, 1%, 2%, 1.5% -> (1.5% + 2%) / 2.
    assert row["er_median_sponsored"] == pytest.approx(0.025)
    assert row["er_median_organic"] == pytest.approx(0.0175)
    assert row["sponsored_to_organic_er"] == pytest.approx(0.025 / 0.0175)
    # Likes per comment: (190 + 290 + 390 + 90 + 190 + 40 + 140) / 70.
    assert row["likes_per_comment"] == pytest.approx(1_330 / 70)


def test_rules_from_settings_refuse_unknown_names_and_bad_values():
    assert ScorecardRules.from_settings({"window_days": 60}).window_days == 60
    with pytest.raises(ValueError, match="unknown rule\\(s\\) windows_days; known: window_days"):
        ScorecardRules.from_settings({"windows_days": 60})
    with pytest.raises(ValueError, match="window_days must be at least 14"):
        ScorecardRules.from_settings({"window_days": 7})


def test_the_latest_scorecard_is_each_accounts_row_of_its_last_month():
    """agg_creator_scorecard: per account, its fct_creator_monthly row of its latest month
    (whatever the rows' order), with dim_account's handle and display name."""
    from schemas.marts import FCT_CREATOR_MONTHLY
    from transforms.scorecard import latest_scorecard

    rows = [
        ("a", date(2026, 3, 1), 0.03),
        ("a", date(2026, 1, 1), 0.01),
        ("a", date(2026, 2, 1), 0.02),
        ("b", date(2026, 1, 1), 0.05),
    ]
    monthly = contract_frame(
        FCT_CREATOR_MONTHLY,
        [
            {"platform": "instagram", "account_id": a, "month": m, "er_median": er}
            for a, m, er in rows
        ],
    )
    accounts = pl.DataFrame(
        {
            "platform": ["instagram", "instagram"],
            "account_id": ["a", "b"],
            "handle": ["ann", "ben"],
            "display_name": ["Ann", "Ben"],
        }
    )
    latest = latest_scorecard(monthly.lazy(), accounts.lazy()).collect().sort("account_id")
    assert latest.select("account_id", "month", "er_median", "handle").rows() == [
        ("a", date(2026, 3, 1), 0.03, "ann"),
        ("b", date(2026, 1, 1), 0.05, "ben"),
    ]


def test_every_window_keeps_its_own_accounts_figures_among_many_accounts():
    """creator_windows groups each window's rows by a number given to its (account, month) and
    joins the figures back on it: among many accounts (where Polars' group-by order varies from
    one evaluation to the next, and the plan evaluates the numbered windows once per branch),
    every row must carry its own account's figures. Each account's follower counts and post
    likes encode its index, so a figure joined to another account's row shows."""
    accounts = 30_000
    days = 14
    ids = pl.DataFrame({"i": pl.Series(range(accounts), dtype=pl.Int64)}).with_columns(
        pl.lit("instagram").alias("platform"),
        ("a" + pl.col("i").cast(pl.String)).alias("account_id"),
    )
    daily = ids.join(pl.DataFrame({"d": list(range(days))}), how="cross").with_columns(
        (D0 + pl.duration(days=pl.col("d"))).cast(pl.Date).alias("date"),
        (pl.col("i") * 100 + pl.col("d")).alias("followers"),
        pl.lit(None, pl.Int64).alias("following"),
        pl.when(pl.col("d") > 0).then(1).alias("followers_change"),
        pl.when(pl.col("d") > 0).then(1).alias("days_since_previous_snapshot"),
        pl.lit(None, pl.Float64).alias("growth_rate_30d"),
        pl.lit(None, pl.Float64).alias("growth_rate_90d"),
        pl.lit("micro").alias("tier"),
    )
    daily = daily.select(DAILY_COLUMNS).cast(contract_schema(FCT_ACCOUNT_DAILY, DAILY_COLUMNS))
    posts = ids.with_columns(
        pl.lit(D0).alias("published_date"),
        pl.lit(False).alias("is_sponsored"),
        pl.lit(False).alias("is_d7_pending"),
        pl.col("i").alias("likes_d7"),
        pl.lit(1).alias("comments_d7"),
        pl.lit(0.01).alias("er_followers_lc_d7"),
        pl.lit(None, pl.Float64).alias("er_views_lc_d7"),
    )
    posts = posts.select(POST_COLUMNS).cast(contract_schema(FCT_POST_METRICS, POST_COLUMNS))
    windows = creator_windows(daily.lazy(), posts.lazy(), D0, RULES).collect()
    assert windows.height == accounts
    own = windows.select(
        pl.col("account_id").str.slice(1).cast(pl.Int64).alias("i"),
        "first_followers",
        "followers",
        "likes_total",
        "snapshot_days",
    )
    assert (own["first_followers"] == own["i"] * 100).all()  # its first day's count
    assert (own["followers"] == own["i"] * 100 + days - 1).all()  # its last day's
    assert (own["likes_total"] == own["i"]).all()
    assert (own["snapshot_days"] == days).all()
