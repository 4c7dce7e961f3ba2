"""The mart graph (`transforms.pipeline`) from a day on equals the whole computation's rows.

The same property the warehouse tests check end to end, here on literal rows in memory: the
inputs a rebuild from day C reads are cut from the full computation's own output exactly as
the warehouse queries cut them (seed, the window before C, open spells, earlier posts).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from schemas.tables import FOLLOWER_SNAPSHOT, POST_SNAPSHOT
from tests.factories import contract_frame
from transforms.growth import RECENT_DAYS
from transforms.pipeline import (
    POSTS_DAYS,
    AccountInputs,
    PartitionInputs,
    Stage,
    account_period_rows,
    build_account_marts,
    collected,
)
from transforms.tiers import DEFAULT

D0 = date(2026, 1, 1)
DAYS = 70
KEY = ["platform", "account_id"]


def _staging() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    followers, posts = [], []
    for account, start in (("a", 9_400), ("b", 12_000)):
        for d in range(DAYS):
            if account == "b" and 30 <= d < 36:
                continue  # a gap
            count = start + (60 * d if account == "a" else -60 * d) + (900 if d == 50 else 0)
            followers.append(
                {
                    "platform": "instagram",
                    "account_id": account,
                    "snapshot_date": D0 + timedelta(days=d),
                    "captured_at": datetime.combine(
                        D0 + timedelta(days=d), datetime.min.time(), UTC
                    )
                    + timedelta(hours=3),
                    "followers": count,
                    "following": 100 + d,
                    "is_followers_rounded": False,
                }
            )
        for p in range(0, DAYS - 2, 3):
            published = datetime.combine(D0 + timedelta(days=p), datetime.min.time(), UTC)
            for age in range(1, 10):
                if p + age >= DAYS:
                    break
                posts.append(
                    {
                        "platform": "instagram",
                        "post_id": f"{account}{p}",
                        "account_id": account,
                        "snapshot_date": D0 + timedelta(days=p + age),
                        "captured_at": published + timedelta(days=age, hours=3),
                        "published_at": published + timedelta(hours=12),
                        "media_type": "image",
                        "likes": 10 * age + p,
                        "comments": age + p % 4,
                        "shares": age,
                        "saves": 1,
                        "views": 500 * age,
                        "reach": 300 * age,
                        "is_sponsored": p % 2 == 0,
                    }
                )
    accounts = pl.DataFrame(
        {
            "platform": "instagram",
            "account_id": ["a", "b"],
            "handle": ["ha", "hb"],
            "display_name": ["A", "B"],
            "category": ["Food", None],
            "followers_hidden": [False, None],
        }
    )
    return (
        contract_frame(FOLLOWER_SNAPSHOT, followers),
        contract_frame(POST_SNAPSHOT, posts),
        accounts,
    )


def _collect(outputs: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    return dict(zip(outputs, pl.collect_all(list(outputs.values())), strict=True))


def _build(
    inputs: AccountInputs, emit_from: date, stage: Stage | None = None
) -> dict[str, pl.DataFrame]:
    scope = pl.LazyFrame(
        {"platform": "instagram", "account_id": ["a", "b"], "emit_from": emit_from}
    )
    staged = {} if stage is None else {"stage": stage}
    return _collect(build_account_marts(inputs, scope, DEFAULT, 7, **staged))


def _full() -> dict[str, pl.DataFrame]:
    """The whole history as a first build: every earlier input empty, typed like the marts."""
    from schemas import marts

    followers, posts, accounts = _staging()

    def none(mart) -> pl.LazyFrame:
        return pl.LazyFrame(schema=mart.schema())

    inputs = AccountInputs(
        follower_snapshots=followers.lazy(),
        as_of_snapshots=followers.lazy(),
        seed=none(marts.FCT_ACCOUNT_DAILY),
        post_snapshots=posts.lazy(),
        earlier_posts=none(marts.FCT_POST_METRICS),
        earlier_daily=none(marts.FCT_ACCOUNT_DAILY),
        current_spells=none(marts.FCT_TIER_HISTORY),
        accounts=accounts.lazy(),
        earlier_dim=none(marts.DIM_ACCOUNT),
    )
    return _build(inputs, date(1900, 1, 1))


def _from_day(
    cut: date,
    full: dict[str, pl.DataFrame],
    stage: Stage | None = None,
    *,
    summed_weeks: bool = True,
) -> dict[str, pl.DataFrame]:
    """A rebuild from `cut`, its inputs cut as the warehouse queries cut them. `summed_weeks`:
    the weeks before the cut's week as their sums (earlier_weeks) and only the posts the graph
    reads one by one, as the warehouse reads them; else every earlier post of those weeks."""
    followers, posts, accounts = _staging()
    week = cut - timedelta(days=cut.weekday())
    daily = full["fct_account_daily"]
    spells = full["fct_tier_history"]
    seed = daily.filter(pl.col("date") < cut).sort("date").group_by(KEY).agg(pl.all().last())
    earlier_posts = full["fct_post_metrics"].filter(
        (pl.col("published_date") >= week - timedelta(days=POSTS_DAYS))
        & (pl.col("published_date") < cut)
    )
    if summed_weeks:
        # As read_earlier_weeks.sql: the weeks before the cut's week summed, by hand here.
        earlier_weeks = (
            earlier_posts.filter(pl.col("published_date") < week)
            .group_by(*KEY, pl.col("published_date").dt.truncate("1w").alias("week_start"))
            .agg(
                pl.col("er_followers_lc_d7").sum().alias("er_sum"),
                pl.col("er_followers_lc_d7").count().alias("er_count"),
            )
        )
        # As read_earlier_posts.sql: one by one from the cut's week for an account with a mart
        # day in [week - 1, cut), every one of the 7 weeks for one without (b at day 33: its
        # gap, days 30-35, leaves day 29 its last).
        close_seed = pl.col("date") >= week - timedelta(days=1)
        earlier_posts = (
            earlier_posts.join(seed.select(*KEY, "date"), on=KEY, how="left")
            .filter((pl.col("published_date") >= week) | ~close_seed.fill_null(False))
            .drop("date")
        )
    inputs = PartitionInputs(
        follower_snapshots=followers.filter(
            pl.col("snapshot_date") >= cut - timedelta(days=RECENT_DAYS)
        ),
        as_of_snapshots=followers.filter(pl.col("snapshot_date") < cut),
        seed=seed,
        post_snapshots=posts.filter(pl.col("published_at").dt.date() >= cut),
        earlier_posts=earlier_posts,
        earlier_weeks=earlier_weeks if summed_weeks else None,
        earlier_daily=daily.filter(
            (pl.col("date") >= cut - timedelta(days=RECENT_DAYS)) & (pl.col("date") < cut)
        ),
        current_spells=spells.filter(
            (pl.col("valid_from") < cut)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= cut))
        ),
        accounts=accounts,
        earlier_dim=full["dim_account"],
    )
    return _build(inputs.lazy(), cut, stage)


def test_rows_rebuilt_from_a_day_equal_the_whole_computations():
    full = _full()
    assert full["fct_tier_migrations"].height >= 2  # a crosses into micro, b falls to nano
    for day, summed_weeks in itertools.product((20, 33, 51, 60), (True, False)):
        cut = D0 + timedelta(days=day)
        week = cut - timedelta(days=cut.weekday())
        part = _from_day(cut, full, summed_weeks=summed_weeks)
        expected = {
            "fct_post_metrics": full["fct_post_metrics"].filter(pl.col("published_date") >= cut),
            "fct_account_daily": full["fct_account_daily"].filter(pl.col("date") >= cut),
            "fct_tier_migrations": full["fct_tier_migrations"].filter(pl.col("migrated_on") >= cut),
            "fct_engagement_weekly": full["fct_engagement_weekly"].filter(
                pl.col("week_start") >= week
            ),
            "fct_tier_history": full["fct_tier_history"].filter(
                pl.col("valid_to").is_null() | (pl.col("valid_to") >= cut)
            ),
            "dim_account": full["dim_account"],
        }
        for name, rows in expected.items():
            assert rows.height > 0 or name == "fct_tier_migrations", (name, day)
            (
                assert_frame_equal(part[name], rows, check_row_order=False, check_dtypes=False),
                (name, day),
            )


def test_collected_stages_build_the_same_rows_as_one_lazy_graph():
    """The flow computes posts and fct_account_daily once (`collected`) before the marts built
    on them; the rows must be the lazy graph's, row for row."""
    full = _full()
    for day in (33, 60):
        cut = D0 + timedelta(days=day)
        lazy, staged = _from_day(cut, full), _from_day(cut, full, collected)
        assert set(staged) == set(lazy)
        for name, rows in lazy.items():
            assert rows.height > 0 or name == "fct_tier_migrations", (name, day)
            assert_frame_equal(staged[name], rows, check_row_order=False)


def test_collected_month_pieces_equal_the_lazy_ones():
    """The flow computes the daily rows with their previous tiers once (`collected`) for both
    monthly pieces; they must be the lazy graph's."""
    full = _full()
    inputs = {
        "daily": full["fct_account_daily"].lazy(),
        "posts": full["fct_post_metrics"].lazy(),
        "prior_tiers": pl.LazyFrame(
            schema={"platform": pl.String, "account_id": pl.String, "prior_tier": pl.String}
        ),
        "categories": full["dim_account"].lazy(),
    }
    first_month = full["fct_account_daily"]["date"].min().replace(day=1)
    lazy = account_period_rows(**inputs, first_month=first_month)
    staged = account_period_rows(**inputs, first_month=first_month, stage=collected)
    for name, rows in lazy.items():
        expected = rows.collect()
        assert expected.height > 0, name
        assert_frame_equal(staged[name].collect(), expected, check_row_order=False)


def test_a_partition_without_exact_gains_builds_as_one_with_none():
    """PartitionInputs.lazy() passes an empty follower_changes frame on as None (the graph then
    skips its as-of lookups): the rows must be those an empty frame gives."""
    from schemas.tables import FOLLOWER_CHANGE

    followers, posts, accounts = _staging()
    full = _full()
    cut = D0 + timedelta(days=40)
    no_changes = pl.from_arrow(FOLLOWER_CHANGE.empty_table())
    assert isinstance(no_changes, pl.DataFrame)
    inputs = PartitionInputs(
        follower_snapshots=followers.filter(
            pl.col("snapshot_date") >= cut - timedelta(days=RECENT_DAYS)
        ),
        as_of_snapshots=followers.filter(pl.col("snapshot_date") < cut),
        seed=full["fct_account_daily"]
        .filter(pl.col("date") < cut)
        .sort("date")
        .group_by(KEY)
        .agg(pl.all().last()),
        post_snapshots=posts.filter(pl.col("published_at").dt.date() >= cut),
        earlier_posts=full["fct_post_metrics"].filter(pl.col("published_date") < cut),
        earlier_daily=full["fct_account_daily"].filter(
            (pl.col("date") >= cut - timedelta(days=RECENT_DAYS)) & (pl.col("date") < cut)
        ),
        current_spells=full["fct_tier_history"].filter(
            (pl.col("valid_from") < cut)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= cut))
        ),
        accounts=accounts,
        earlier_dim=full["dim_account"],
        follower_changes=no_changes,
    )
    lazy = inputs.lazy()
    assert lazy.follower_changes is None
    with_empty = AccountInputs(
        **{
            f: getattr(lazy, f)
            for f in AccountInputs.__dataclass_fields__
            if f != "follower_changes"
        },
        follower_changes=no_changes.lazy(),
    )
    skipped, computed = _build(lazy, cut), _build(with_empty, cut)
    for name, rows in computed.items():
        assert_frame_equal(skipped[name], rows, check_row_order=False)


def test_a_partition_without_earlier_weeks_builds_as_one_with_none():
    """PartitionInputs.lazy() passes an empty earlier_weeks frame on as None (a full rebuild's
    partitions: the weekly rows then read every post without the cut to the emit week): the
    rows must be those the empty frame gives."""
    from schemas import marts

    followers, posts, accounts = _staging()

    def none(mart) -> pl.DataFrame:
        return pl.DataFrame(schema=mart.schema())

    weeks = pl.DataFrame(
        schema={
            "platform": pl.String,
            "account_id": pl.String,
            "week_start": pl.Date,
            "er_sum": pl.Float64,
            "er_count": pl.Int64,
        }
    )
    inputs = PartitionInputs(
        follower_snapshots=followers,
        as_of_snapshots=followers,
        seed=none(marts.FCT_ACCOUNT_DAILY),
        post_snapshots=posts,
        earlier_posts=none(marts.FCT_POST_METRICS),
        earlier_daily=none(marts.FCT_ACCOUNT_DAILY),
        current_spells=none(marts.FCT_TIER_HISTORY),
        accounts=accounts,
        earlier_dim=none(marts.DIM_ACCOUNT),
        earlier_weeks=weeks,
    )
    lazy = inputs.lazy()
    assert lazy.earlier_weeks is None
    with_empty = AccountInputs(
        **{f: getattr(lazy, f) for f in AccountInputs.__dataclass_fields__ if f != "earlier_weeks"},
        earlier_weeks=weeks.lazy(),
    )
    skipped, computed = _build(lazy, date(1900, 1, 1)), _build(with_empty, date(1900, 1, 1))
    assert computed["fct_engagement_weekly"].height > 0
    for name, rows in computed.items():
        assert_frame_equal(skipped[name], rows, check_row_order=False)
