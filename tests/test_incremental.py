"""Property: nightly incremental rebuilds equal a full rebuild, whatever order the days arrive in."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import warehouse.marts as wm
from flows.transform import rebuild
from schemas.campaigns import normalise_campaigns
from schemas.marts import MARTS
from schemas.tables import (
    ACCOUNT,
    STAGED_FOLLOWER_CHANGE,
    STAGED_FOLLOWER_SNAPSHOT,
    STAGED_POST_SNAPSHOT,
)
from tests.factories import contract_frame
from tests.test_load import FILES, REJECTED
from transforms.scorecard import ScorecardRules
from transforms.tiers import DEFAULT
from warehouse.connect import connect
from warehouse.load import Batch, CampaignBatch, load_batch, replace_campaigns
from warehouse.schema import apply_ddl
from warehouse.sql import sql_text

D0 = date(2026, 1, 1)
DAYS = 45
ACCOUNTS = ("a", "b")
# Account "b" is a YouTube-like account: rounded public counts and exact daily gains.
EXACT_GAINS = "b"
# Scorecards over 4 weeks, percentiles from 2 creators: the two accounts rank each other, so
# the property covers the cross-account step (a month rebuilt for one account changes both).
SCORES = ScorecardRules(window_days=28, min_peers=2)


def _world(seed_followers: dict[str, list[int]], post_days: dict[str, list[int]]):
    """Per account: followers per day; posts published on given days at noon."""
    return seed_followers, post_days


def _export(day: int, world, revision: int) -> Batch:
    """The nightly export of `day`: follower snapshots and snapshots of posts up to 10 days old."""
    followers, post_days = world
    captured = datetime.combine(
        D0 + timedelta(days=day), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=3 + revision)
    f_rows, p_rows, a_rows, c_rows = [], [], [], []
    # Each export restates the day before's gains too: a day whose snapshot never arrives
    # still has its gains, so spans over a one-day gap are complete and longer ones are not.
    for gain_day in (d for d in (day - 1, day) if d >= 1):
        step = followers[EXACT_GAINS][gain_day] - followers[EXACT_GAINS][gain_day - 1]
        c_rows.append(
            {
                "platform": "instagram",
                "account_id": EXACT_GAINS,
                "snapshot_date": D0 + timedelta(days=gain_day),
                "captured_at": captured,
                "followers_gained": max(step, 0) + 4 + revision,
                "followers_lost": max(-step, 0) + 4,
                "source_file": f"d{day}r{revision}",
                "source_sha256": f"{day:03d}{revision}",
                "source_row": len(c_rows) + 1,
                "ingest_run_id": f"run{day}r{revision}",
            }
        )
    for account in ACCOUNTS:
        count = followers[account][day] + revision * 7  # a re-export changes the count
        f_rows.append(
            {
                "platform": "instagram",
                "account_id": account,
                "snapshot_date": captured.date(),
                "captured_at": captured,
                "followers": count,
                "following": 5,
                "posts_count": None,
                "is_followers_rounded": account == EXACT_GAINS,
                "source_file": f"d{day}r{revision}",
                "source_sha256": f"{day:03d}{revision}",
                "source_row": 1,
                "ingest_run_id": f"run{day}r{revision}",
            }
        )
        a_rows.append(
            {
                "platform": "instagram",
                "account_id": account,
                "handle": account,
                "display_name": None,
                "category": "Food",
                "captured_at": captured,
            }
        )
        for published in post_days[account]:
            age = day - published
            if 1 <= age <= 10:
                published_at = datetime.combine(
                    D0 + timedelta(days=published), datetime.min.time(), tzinfo=UTC
                ) + timedelta(hours=12)
                likes = 50 * min(age, 4) + revision
                p_rows.append(
                    {
                        "platform": "instagram",
                        "post_id": f"{account}{published}",
                        "account_id": account,
                        "snapshot_date": captured.date(),
                        "captured_at": captured,
                        "published_at": published_at,
                        "media_type": "image",
                        "likes": likes,
                        "comments": 3,
                        "shares": None,
                        "saves": 1,
                        "views": 1000,
                        "reach": 600,
                        "caption": None,
                        # Campaign and brand signals on some posts (attribution, mentions).
                        "hashtags": ["brandxcollab"] if published % 2 == 0 else [],
                        "mentions": ["brandx"] if published % 3 == 0 else [],
                        "is_sponsored": published % 4 == 0,
                        "source_file": f"d{day}r{revision}",
                        "source_sha256": f"{day:03d}{revision}",
                        "source_row": len(p_rows) + 1,
                        "ingest_run_id": f"run{day}r{revision}",
                    }
                )
    return Batch(
        run_id=f"run{day}r{revision}",
        followers=contract_frame(STAGED_FOLLOWER_SNAPSHOT, f_rows).to_arrow(),
        posts=contract_frame(STAGED_POST_SNAPSHOT, p_rows).to_arrow(),
        accounts=contract_frame(ACCOUNT, a_rows).to_arrow(),
        rejected=REJECTED,
        files=FILES,
        follower_changes=contract_frame(STAGED_FOLLOWER_CHANGE, c_rows).to_arrow(),
    )


def _campaigns(end_day: int) -> CampaignBatch:
    """A campaign for brand X with both accounts (a per-creator and a per-post fee, a post
    listed by id), defined as a campaign file would be."""
    document = {
        "campaign_id": "x",
        "brand": "X",
        "start_date": (D0 + timedelta(days=8)).isoformat(),
        "end_date": (D0 + timedelta(days=end_day)).isoformat(),
        "currency": "USD",
        "brand_handles": ["brandx"],
        "hashtags": ["brandxcollab"],
        "creators": [
            {"platform": "instagram", "account_id": "a", "fee": 100},
            {
                "platform": "instagram",
                "account_id": "b",
                "fee": 10,
                "fee_basis": "per_post",
                "post_ids": ["b3"],
            },
        ],
    }
    staged = normalise_campaigns([("campaigns/x.yaml", 1, document)])
    campaigns, creators = staged.frames()
    return CampaignBatch(
        run_id=f"campaigns-{end_day}",
        campaigns=campaigns.to_arrow(),
        creators=creators.to_arrow(),
        rejected=REJECTED,
        files=FILES,
        read=[("campaigns/x.yaml", str(end_day))],
    )


def _marts(con) -> dict[str, pl.DataFrame]:
    out = {}
    for mart in MARTS:
        frame = pl.from_arrow(con.sql(f"select * from marts.{mart.name}").to_arrow_table())
        out[mart.name] = frame.sort(frame.columns)
    return out


followers_walk = st.lists(st.integers(-900, 900), min_size=DAYS, max_size=DAYS).map(
    lambda steps: [max(0, 9_600 + sum(steps[: i + 1])) for i in range(DAYS)]
)


@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    walks=st.tuples(followers_walk, followers_walk),
    posts=st.tuples(
        st.lists(st.integers(0, DAYS - 2), max_size=6, unique=True),
        st.lists(st.integers(0, DAYS - 2), max_size=6, unique=True),
    ),
    late=st.lists(st.integers(5, DAYS - 1), max_size=4, unique=True),
    reexports=st.lists(st.integers(0, DAYS - 1), max_size=3, unique=True),
    nights=st.integers(1, 4),
    missing=st.lists(st.integers(1, DAYS - 2), max_size=8, unique=True),
)
def test_incremental_equals_full_rebuild(
    tmp_path_factory, walks, posts, late, reexports, nights, missing
):
    world = _world(dict(zip(ACCOUNTS, walks, strict=True)), dict(zip(ACCOUNTS, posts, strict=True)))
    # Arrival order: day by day, some days held back and landing later, some re-exported later.
    # Some days never arrive at all (gaps), some arrive late, some are re-exported later.
    late = [d for d in late if d not in missing]
    reexports = [d for d in reexports if d not in missing]
    arrivals = [(d, 0) for d in range(DAYS) if d not in late and d not in missing]
    for position, day in enumerate(sorted(late)):
        arrivals.insert(min(len(arrivals), day + 3 + position), (day, 0))
    arrivals += [(d, 1) for d in reexports]
    # A warehouse file: the nights keep the scorecards' rows before their month beside it and
    # read them back (warehouse.marts.KeptRows), which late days must forget.
    con = connect(tmp_path_factory.mktemp("night") / "w.duckdb")
    apply_ddl(con)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    replace_campaigns(con, _campaigns(end_day=25), now)
    for number, (day, revision) in enumerate(arrivals):
        load_batch(con, _export(day, world, revision), now)
        if number == len(arrivals) // 2:  # the brand extends its campaign mid-way
            replace_campaigns(con, _campaigns(end_day=35), now)
        if number % nights == 0:  # a transform after every few loads, like nightly runs
            _night(con, f"t{number}")
    _night(con, "last")
    incremental = _marts(con)
    rebuild(con, "full", None, DEFAULT, 3, "full", scorecard_rules=SCORES)
    full = _marts(con)
    for name, frame in full.items():
        # Equal up to floating-point summation order.
        assert_frame_equal(incremental[name], frame, check_exact=False, rel_tol=1e-9)
    assert full["fct_account_daily"].height == (DAYS - len(missing)) * len(ACCOUNTS)
    # A scorecard month per account and month (January and February), the latest as scorecard.
    assert full["fct_creator_monthly"].height == 2 * len(ACCOUNTS)
    assert set(full["agg_creator_scorecard"]["month"]) == {date(2026, 2, 1)}
    # The exact gains were used (the property covers them): summed over one-day and two-day gaps.
    # The campaign marts were built (the property covers them and the definition's change).
    assert full["agg_campaign"].height == 1 and full["agg_campaign_creators"].height == 2
    gained = full["fct_account_daily"].filter(pl.col("followers_gained").is_not_null())
    assert gained.height > 0 and set(gained["account_id"]) == {EXACT_GAINS}
    # Migrations agree with the spells: each migration opens a spell that the previous one closes.
    spells, migrations = full["fct_tier_history"], full["fct_tier_migrations"]
    assert spells.height == migrations.height + len(ACCOUNTS)
    assert set(migrations.select("account_id", "migrated_on").rows()) == set(
        spells.filter(pl.col("valid_to").is_not_null()).select("account_id", "valid_to").rows()
    )
    con.close()


def _night(con, run_id: str):
    """An incremental rebuild of one account per partition: two partitions, each account's
    inputs and the scorecards' window spilled and read back partition by partition (the path
    of a night at scale), not held in memory as one."""
    return rebuild(
        con, "incremental", None, DEFAULT, 3, run_id, scorecard_rules=SCORES, partition_accounts=1
    )


def test_each_night_into_a_new_month_equals_a_full_rebuild(tmp_path):
    """Nights on February 1, 2 and 3 after January's, each bringing February's rows only (its
    first month is February): after each, every mart equals a full rebuild's. The February
    scorecards' windows reach back into January (28 days up to each account's last February
    day), rows the night did not rebuild and reads from its window before the month."""
    world = _spiking_world()
    con = connect(tmp_path / "w.duckdb")  # a file: the nights keep January's rows (KeptRows)
    apply_ddl(con)
    for day in range(31):
        load_batch(con, _export(day, world, 0), NOW)
    _night(con, "january")
    for day in (31, 32, 33):
        _load_february_day(con, world, day)
        assert _night(con, f"d{day}").first_day == D0 + timedelta(days=31)
        # Read from the set kept before it (the full rebuild's), not kept again.
        assert _kept(con) == (date(2026, 2, 1), "d31" if day == 31 else f"full{day - 1}")
        incremental = _marts(con)
        # In partitions too: the full rebuild keeps February's earlier rows for the next night.
        rebuild(
            con,
            "full",
            None,
            DEFAULT,
            3,
            f"full{day}",
            scorecard_rules=SCORES,
            partition_accounts=1,
        )
        full = _marts(con)
        for name, frame in full.items():
            assert_frame_equal(incremental[name], frame, check_exact=False, rel_tol=1e-9)
        february = full["fct_creator_monthly"].filter(pl.col("month") == date(2026, 2, 1))
        assert february["snapshot_days"].to_list() == [28, 28]
        # The first February night kept January's rows, the full rebuild its own (the month of
        # its last day); the next night read the full rebuild's.
        assert _kept(con) == (date(2026, 2, 1), f"full{day}")
    con.close()


NOW = datetime(2026, 6, 1, tzinfo=UTC)
FEBRUARY = date(2026, 2, 1)


def _spiking_world():
    """Followers that rise, fall and spike (the window's gain and spike rules read every day)."""
    rising = [12_000 + 35 * day + (400 if day in (20, 33) else 0) for day in range(DAYS)]
    falling = [30_000 - 60 * day + (900 if day == 25 else 0) for day in range(DAYS)]
    return _world({"a": rising, "b": falling}, {"a": [2, 9, 16, 23, 31], "b": [4, 12, 30, 32]})


def _load_february_day(con, world, day: int, batch: Batch | None = None) -> None:
    """February's rows only of `day`'s export (or `batch`): the posts published and the exact
    gains of its days (a night whose first month is February)."""
    _load_month_day(con, world, day, 31, batch)


def _load_month_day(con, world, day: int, first: int, batch: Batch | None = None) -> None:
    """The rows of `day`'s export (or `batch`) from day `first` on: the posts published and the
    exact gains of those days (a night whose first month starts on day `first`)."""
    batch = _posts_from(batch or _export(day, world, 0), first)
    changes = pl.from_arrow(batch.follower_changes)
    changes = changes.filter(pl.col("snapshot_date") >= D0 + timedelta(days=first))
    load_batch(con, replace(batch, follower_changes=changes.to_arrow()), NOW)


def _january_then_first_february_night(
    tmp_path, skipped: tuple[int, ...] = (), first_of_february: str | None = None
):
    """A warehouse file with January's days (but `skipped`) and the nights of January and
    February 1 (of every creator's rows, or only `first_of_february`'s): the February night
    kept January's rows for the month's later nights."""
    world = _spiking_world()
    con = connect(tmp_path / "w.duckdb")
    apply_ddl(con)
    for day in range(31):
        if day not in skipped:
            load_batch(con, _export(day, world, 0), NOW)
    _night(con, "january")
    february = _export(31, world, 0)
    _load_february_day(
        con, world, 31, _only(february, first_of_february) if first_of_february else february
    )
    _night(con, "d31")
    assert _kept(con) == (FEBRUARY, "d31")
    return con, world


def _assert_equals_full_rebuild(con, run_id: str) -> dict[str, pl.DataFrame]:
    incremental = _marts(con)
    rebuild(con, "full", None, DEFAULT, 3, run_id, scorecard_rules=SCORES, partition_accounts=1)
    full = _marts(con)
    for name, frame in full.items():
        assert_frame_equal(incremental[name], frame, check_exact=False, rel_tol=1e-9)
    return full


def _february_days(full: dict[str, pl.DataFrame]) -> list[int]:
    february = full["fct_creator_monthly"].filter(pl.col("month") == FEBRUARY)
    return february.sort("account_id")["snapshot_days"].to_list()


def test_a_february_night_reads_januarys_rows_from_the_set_kept_not_from_the_marts(tmp_path):
    """The set kept is what the next nights read: January 21 deleted from the daily mart behind
    the flow's back (no run knows), the February 2 night still counts it in its windows (28
    days up to February 2), where reading the marts would count 27."""
    con, world = _january_then_first_february_night(tmp_path)
    con.execute("delete from marts.fct_account_daily where date = ?", [D0 + timedelta(days=20)])
    _load_february_day(con, world, 32)
    _night(con, "d32")
    assert _kept(con) == (FEBRUARY, "d31")
    assert _february_days(_marts(con)) == [28, 28]
    con.close()


def test_a_late_january_day_is_in_the_next_february_nights_windows(tmp_path):
    """January 21 arrives late, with February 2: that night changes January's rows, so it keeps
    the rows before January (its first month) and February's set is no more; February 3's
    night makes February's set of January's and that night's tail (its rows from January 1 on,
    January 21 among them), and every mart equals a full rebuild (the windows count 28 days,
    not the 27 of the set kept before the late day)."""
    con, world = _january_then_first_february_night(tmp_path, skipped=(20,))
    load_batch(con, _export(20, world, 0), NOW)
    _load_february_day(con, world, 32)
    assert _night(con, "d32").first_day < FEBRUARY  # (its posts too: from January 13)
    assert _kept(con) == (date(2026, 1, 1), "d32")
    _load_february_day(con, world, 33)
    _night(con, "d33")
    assert _kept(con) == (FEBRUARY, "d32.tail")
    assert _february_days(_assert_equals_full_rebuild(con, "full")) == [28, 28]
    con.close()


def test_a_set_gone_or_kept_by_another_duckdb_is_kept_again(tmp_path):
    """The kept rows' folder removed, then a set recorded as kept by another DuckDB (whose hash
    may place accounts in other partitions): each next night keeps the rows again, and every
    mart equals a full rebuild."""
    con, world = _january_then_first_february_night(tmp_path)
    shutil.rmtree(tmp_path / "w.duckdb.scorecard-rows")
    _load_february_day(con, world, 32)
    _night(con, "d32")
    assert _kept(con) == (FEBRUARY, "d32")
    assert (tmp_path / "w.duckdb.scorecard-rows" / "d32" / "2026-01" / "complete").exists()
    con.execute("update meta.scorecard_row_sets set duckdb_version = '0.9.0'")
    _load_february_day(con, world, 33)
    _night(con, "d33")
    assert _kept(con) == (FEBRUARY, "d33")
    # On disk, the set kept last and the night's tail beside it.
    kept = sorted(f.name for f in (tmp_path / "w.duckdb.scorecard-rows").iterdir())
    assert kept == ["d33", "d33.tail"]
    _assert_equals_full_rebuild(con, "full")
    con.close()


def test_a_creator_new_since_the_set_was_kept_is_scored_beside_the_others(tmp_path):
    """Creator "c" appears on February 2, after January's rows were kept (without it): the night
    numbers it after the kept creators, and its scorecard, like every mart, equals a full
    rebuild's."""
    con, world = _january_then_first_february_night(tmp_path)
    _load_february_day(con, world, 32, _only(_export(32, world, 0), "a", renamed="c"))
    _load_february_day(con, world, 32)
    _night(con, "d32")
    assert _kept(con) == (FEBRUARY, "d31")
    full = _assert_equals_full_rebuild(con, "full")
    february = full["fct_creator_monthly"].filter(pl.col("month") == FEBRUARY)
    assert sorted(february["account_id"]) == ["a", "b", "c"]
    con.close()


def test_a_creator_without_a_february_day_when_the_set_was_kept_gets_its_whole_window(tmp_path):
    """Creator "b" has no February day on February 1 (its export came late): the set kept then
    holds its January rows from the first day any window reaches, so the February 2 night's
    window for it (28 days up to February 2) has every January day, as a full rebuild's."""
    con, world = _january_then_first_february_night(tmp_path, first_of_february="a")
    _load_february_day(con, world, 32)
    _night(con, "d32")
    assert _kept(con) == (FEBRUARY, "d31")
    assert _february_days(_assert_equals_full_rebuild(con, "full")) == [28, 27]
    con.close()


def test_a_rebuild_forgets_the_set_of_a_later_month_than_its_first_change(tmp_path):
    """meta.scorecard_row_sets names February's set while no run changes a row before
    February."""
    con, _ = _january_then_first_february_night(tmp_path)
    wm.forget_scorecard_rows_from(con, FEBRUARY)
    assert _kept(con) == (FEBRUARY, "d31")
    wm.forget_scorecard_rows_from(con, date(2026, 1, 31))
    assert _kept(con) is None
    con.close()


MARCH = date(2026, 3, 1)
MARCH_1 = (MARCH - D0).days  # day 59


def _january_and_february(tmp_path, accounts: tuple[str, ...] = ACCOUNTS):
    """A warehouse file with the days of January and February and its nights: January's (a
    first build: it keeps January's set), February 1-27's (it keeps February's set from the
    marts) and February 28's (it reads that set and keeps its tail: its rows from February 1)."""
    rising = [12_000 + 35 * day + (400 if day in (20, 45) else 0) for day in range(MARCH_1 + 3)]
    falling = [30_000 - 60 * day + (900 if day == 50 else 0) for day in range(MARCH_1 + 3)]
    world = _world({"a": rising, "b": falling}, {"a": [2, 16, 40, 52, 59], "b": [12, 44, 58, 60]})
    con = connect(tmp_path / "w.duckdb")
    apply_ddl(con)
    for day in range(31):
        load_batch(con, _export(day, world, 0), NOW)
    _night(con, "january")
    for day in range(31, MARCH_1 - 1):
        _load_february_day(con, world, day)
    _night(con, "february")
    _load_february_day(con, world, MARCH_1 - 1)
    _night(con, "d58")
    assert _kept(con) == (FEBRUARY, "february")
    return con, world


def _march_days(marts: dict[str, pl.DataFrame]) -> list[int]:
    march = marts["fct_creator_monthly"].filter(pl.col("month") == MARCH)
    return march.sort("account_id")["snapshot_days"].to_list()


def test_the_first_march_night_makes_marchs_set_of_februarys_and_the_last_nights_tail(tmp_path):
    """The March 1 night (its first month is March) makes March's set of February's (its
    chunks the March windows still reach: none, January's is before them) and February 28's
    tail: every mart equals a full rebuild, and the folders on disk are the set's and the
    night's own tail."""
    con, world = _january_and_february(tmp_path)
    _load_month_day(con, world, MARCH_1, MARCH_1)
    assert _night(con, "d59").first_day == MARCH
    assert _kept(con) == (MARCH, "d58.tail")
    chunks = con.execute("select folder, rows_before from meta.scorecard_row_chunks").fetchall()
    assert chunks == [("d58.tail", MARCH)]
    kept = sorted(f.name for f in (tmp_path / "w.duckdb.scorecard-rows").iterdir())
    assert kept == ["d58.tail", "d59.tail"]
    _load_month_day(con, world, MARCH_1 + 1, MARCH_1)
    _night(con, "d60")
    assert _kept(con) == (MARCH, "d58.tail")
    # 28-day windows up to March 2: from February 3.
    assert _march_days(_assert_equals_full_rebuild(con, "full")) == [28, 28]
    con.close()


def test_the_first_march_night_reads_februarys_rows_from_the_tail_not_from_the_marts(tmp_path):
    """February 20 deleted from the daily mart behind the flow's back (no run knows) after
    February 28's night: the March 1 night still counts it in its windows (28 days up to
    March 1, from the tail), where reading the marts would count 27."""
    con, world = _january_and_february(tmp_path)
    con.execute("delete from marts.fct_account_daily where date = ?", [date(2026, 2, 20)])
    _load_month_day(con, world, MARCH_1, MARCH_1)
    _night(con, "d59")
    assert _kept(con) == (MARCH, "d58.tail")
    assert _march_days(_marts(con)) == [28, 28]
    con.close()


def test_a_tail_with_rows_a_rebuild_changed_since_is_not_made_into_a_set(tmp_path):
    """A rebuild changed February's rows from February 20 after the tail was kept (as one that
    failed to keep its own would leave it: the rows changed are recorded, the tail is not
    replaced): the March 1 night keeps March's set from the marts, and counts 27 days where
    February 20 was deleted from them."""
    con, world = _january_and_february(tmp_path)
    con.execute("delete from marts.fct_account_daily where date = ?", [date(2026, 2, 20)])
    wm.forget_scorecard_rows_from(con, date(2026, 2, 20))
    assert _kept(con) == (FEBRUARY, "february")  # (its rows are before February 20)
    _load_month_day(con, world, MARCH_1, MARCH_1)
    _night(con, "d59")
    assert _kept(con) == (MARCH, "d59")
    assert _march_days(_marts(con)) == [27, 27]
    con.close()


def test_a_tail_holding_march_days_makes_marchs_set_of_its_rows_before_march(tmp_path):
    """The exports of March 1 and 2 come whole (post snapshots of February's posts, the gains
    of February 28): that night's first month is February, and its tail holds March's first
    days and a post published on March 1 too. The March 3 night makes March's set of the
    tail's rows before March only (its own spill holds March's): every mart equals a full
    rebuild."""
    con, world = _january_and_february(tmp_path)
    for day in (MARCH_1, MARCH_1 + 1):
        load_batch(con, _export(day, world, 0), NOW)
    assert _night(con, "d60").first_day < MARCH
    _load_month_day(con, world, MARCH_1 + 2, MARCH_1)
    assert _night(con, "d61").first_day == MARCH
    assert _kept(con) == (MARCH, "d60.tail")
    assert _march_days(_assert_equals_full_rebuild(con, "full")) == [28, 28]
    con.close()


def test_a_set_whose_creators_outgrew_its_partitions_is_kept_again_from_the_marts(tmp_path):
    """Creator "c" appears on March 1 (one creator per partition: three partitions where
    February's set has two, beyond KEPT_PARTITIONS_GROWTH): the night keeps March's set from
    the marts in three partitions, and every mart equals a full rebuild."""
    con, world = _january_and_february(tmp_path)
    _load_month_day(con, world, MARCH_1, MARCH_1, _only(_export(MARCH_1, world, 0), "a", "c"))
    _load_month_day(con, world, MARCH_1, MARCH_1)
    _night(con, "d59")
    assert _kept(con) == (MARCH, "d59")
    assert con.execute("select partitions from meta.scorecard_row_sets").fetchall() == [(3,)]
    _assert_equals_full_rebuild(con, "full")
    con.close()


def test_what_no_kept_row_names_is_removed_from_the_kept_rows_folder(tmp_path):
    """A keep's month chunk its set's windows no longer reach, a superseded tail and a failed
    run's folder are removed; the set's numbers, its chunks and the tail stay."""
    con = connect(tmp_path / "w.duckdb")
    apply_ddl(con)
    root = tmp_path / "w.duckdb.scorecard-rows"
    for folder in ("k/2026-01", "k/2026-02", "t1.tail/daily", "t2.tail/daily", "failed/x"):
        (root / folder).mkdir(parents=True)
    (root / "k" / "numbers.parquet").touch()
    (root / "stray.arrow").touch()
    con.execute("insert into meta.scorecard_row_sets values ('2026-03-01', 28, 2, 'k', 'v')")
    con.execute(
        "insert into meta.scorecard_row_chunks values "
        "('k/2026-02', 'window_before', 'posts_before', '2026-03-01')"
    )
    con.execute("insert into meta.scorecard_row_tail values ('t2.tail', 'k', '2026-03-01', null)")
    wm._sweep_kept(con, root)
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    assert left == ["k", "k/2026-02", "k/numbers.parquet", "t2.tail", "t2.tail/daily"]
    con.close()


def test_a_keep_in_one_partition_keeps_nothing_and_removes_the_set_it_forgot(tmp_path):
    """The creators fit one partition now (their rows are read into memory, not spilled): the
    keep records no set and the forgotten set's folders leave the disk with its rows."""
    con = connect(tmp_path / "w.duckdb")
    apply_ddl(con)
    root = tmp_path / "w.duckdb.scorecard-rows"
    for folder in ("k/2026-02", "k.tail/daily"):
        (root / folder).mkdir(parents=True)
    con.execute("insert into meta.scorecard_row_sets values ('2026-03-01', 28, 2, 'k', 'v')")
    con.execute("insert into meta.scorecard_row_tail values ('k.tail', 'k', '2026-03-01', null)")
    assert wm.keep_scorecard_rows(con, MARCH, 28, 1_000, "r") is None
    assert _kept(con) is None
    assert list(root.iterdir()) == []
    con.close()


def _kept(con) -> tuple[date, str] | None:
    """The month of the scorecard rows kept and the folder of their numbers (the run that kept
    them from the marts, or "<run>.tail" for a set made of the tail of run <run>), if any."""
    rows = con.execute("select first_month, numbers from meta.scorecard_row_sets").fetchall()
    return rows[0] if rows else None


def _only(batch: Batch, account: str, renamed: str | None = None) -> Batch:
    """The batch's rows of one account (a creator whose export came apart from the others'), as
    the rows of account `renamed` when given (a creator new to the warehouse: its posts' ids and
    handle too)."""

    def rows(frame):
        frame = pl.from_arrow(frame).filter(pl.col("account_id") == account)
        if renamed is None:
            return frame.to_arrow()
        if "post_id" in frame.columns:
            frame = frame.with_columns((pl.lit(renamed) + pl.col("post_id")).alias("post_id"))
        if "handle" in frame.columns:
            frame = frame.with_columns(pl.lit(renamed).alias("handle"))
        return frame.with_columns(pl.lit(renamed).alias("account_id")).to_arrow()

    return Batch(
        run_id=f"{batch.run_id}-{renamed or account}",
        followers=rows(batch.followers),
        posts=rows(batch.posts),
        accounts=rows(batch.accounts),
        rejected=batch.rejected,
        files=batch.files,
        follower_changes=rows(batch.follower_changes),
    )


def test_scorecards_rebuild_from_the_earliest_month_any_account_changed():
    """One night brings a late January day of one creator and a February day of the other: the
    scorecard months are rebuilt from January (the earliest change), for both."""
    steady = [10_000 + 40 * day for day in range(DAYS)]
    world = _world({"a": steady, "b": steady}, {"a": [3, 10, 17, 30], "b": [5, 12, 33]})
    late_a, last_b = 20, DAYS - 1
    con = connect(":memory:")
    apply_ddl(con)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for day in range(DAYS):
        batch = _export(day, world, 0)
        if day in (late_a, last_b):
            batch = _only(batch, "b" if day == late_a else "a")
        load_batch(con, batch, now)
    rebuild(con, "incremental", None, DEFAULT, 3, "night1", scorecard_rules=SCORES)
    load_batch(con, _only(_export(late_a, world, 0), "a"), now)
    load_batch(con, _only(_export(last_b, world, 0), "b"), now)
    rebuild(con, "incremental", None, DEFAULT, 3, "night2", scorecard_rules=SCORES)
    incremental = _marts(con)
    rebuild(con, "full", None, DEFAULT, 3, "full", scorecard_rules=SCORES)
    full = _marts(con)
    for name in ("fct_creator_monthly", "agg_creator_scorecard"):
        assert_frame_equal(incremental[name], full[name], check_exact=False, rel_tol=1e-9)
    january = full["fct_creator_monthly"].filter(pl.col("month") == D0)
    # Every day of the 28-day window up to January 31 arrived in the end, for both.
    assert january.sort("account_id")["snapshot_days"].to_list() == [28, 28]
    con.close()


def _posts_from(batch: Batch, first_day: int, *, followers: bool = True) -> Batch:
    """The batch with only the snapshots of posts published from `first_day` on (an export that
    stopped tracking older posts), and without its follower rows when not `followers`."""
    first = datetime.combine(D0 + timedelta(days=first_day), datetime.min.time(), tzinfo=UTC)
    posts = pl.from_arrow(batch.posts).filter(pl.col("published_at") >= first).to_arrow()
    empty = pl.from_arrow(batch.followers).clear().to_arrow()
    no_changes = pl.from_arrow(batch.follower_changes).clear().to_arrow()
    return Batch(
        run_id=batch.run_id,
        followers=batch.followers if followers else empty,
        posts=posts,
        accounts=batch.accounts,
        rejected=batch.rejected,
        files=batch.files,
        follower_changes=batch.follower_changes if followers else no_changes,
    )


def test_a_night_after_a_gap_counts_the_gaps_posts_and_rolls_the_weeks_before_as_full():
    """A night reads the weeks before its first rebuilt week summed (read_earlier_weeks.sql) and
    one by one only the posts it counts again (read_earlier_posts.sql). Here the follower counts
    stop for 17 days (days 20-36) while posts go on: the night of day 37 rebuilds from day 36
    (its export restates day 36's exact gains; the posts of the gap are no longer tracked),
    counts the posts of days 21 and 27 on day 37 (its first snapshot after them: older than its
    week, and a's seed, day 19, is older than the day before that week, so every post of the 7
    weeks is read one by one) and rolls the weeks of day 21 and day 27 as sums, day 27's post
    without an ER (no follower count in the 7 days before it: counted in no rate)."""
    steady = [10_000 + 40 * day for day in range(DAYS)]
    world = _world({"a": steady, "b": steady}, {"a": [3, 10, 21, 27, 38], "b": [5, 12, 38]})
    gap, resumed = range(20, 37), 37
    con = connect(":memory:")
    apply_ddl(con)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for day in range(DAYS):
        batch = _export(day, world, 0)
        if day in gap:
            batch = _posts_from(batch, 0, followers=False)
        elif day >= resumed:
            batch = _posts_from(batch, resumed)
        load_batch(con, batch, now)
        summary = rebuild(con, "incremental", None, DEFAULT, 3, f"n{day}", scorecard_rules=SCORES)
        if day == resumed:
            assert summary.first_day == D0 + timedelta(days=resumed - 1)
    incremental = _marts(con)
    rebuild(con, "full", None, DEFAULT, 3, "full", scorecard_rules=SCORES)
    full = _marts(con)
    for name, frame in full.items():
        assert_frame_equal(incremental[name], frame, check_exact=False, rel_tol=1e-9)
    # What the night had to get right: the gap's posts counted on day 37, the rolling ER of the
    # week of day 38's post over the posts of days 21 (measured) and 38, not day 27's.
    a = pl.col("account_id") == "a"
    daily = full["fct_account_daily"].filter(a & (pl.col("date") == D0 + timedelta(days=37)))
    assert daily["posts_published"].to_list() == [2]
    posts = full["fct_post_metrics"].filter(a).sort("published_date")
    er = dict(zip(posts["post_id"], posts["er_followers_lc_d7"], strict=True))
    assert er["a27"] is None and er["a21"] is not None and er["a38"] is not None
    week = full["fct_engagement_weekly"].filter(a & (pl.col("week_start") == date(2026, 2, 2)))
    assert week["er_rolling_4w"].to_list() == [pytest.approx((er["a21"] + er["a38"]) / 2)]
    con.close()


def _recapture(batch: Batch, world, post_id: str, published: int, day: int) -> Batch:
    """The batch with one more snapshot of an older post, captured on `day` (an export that
    re-captures posts at 30 days): the post's row of its day-10 export, aged."""
    older = pl.from_arrow(_export(published + 10, world, 0).posts)
    row = older.filter(pl.col("post_id") == post_id).with_columns(
        pl.lit(D0 + timedelta(days=day)).alias("snapshot_date"),
        pl.col("captured_at") + timedelta(days=day - published - 10),
        pl.col("likes") + 120,
        pl.lit(f"{day:03d}0").alias("source_sha256"),
        pl.lit(999).cast(pl.Int64).alias("source_row"),
        pl.lit(batch.run_id).alias("ingest_run_id"),
    )
    posts = pl.concat([pl.from_arrow(batch.posts), row], how="vertical_relaxed")
    return replace(batch, posts=posts.to_arrow())


def test_a_post_recaptured_weeks_later_rebuilds_its_weeks_and_only_the_new_follower_day():
    """A night whose export re-captures a 35-day-old post changes that post's metrics and its
    weeks (emit_from: its publication day) but no follower day before the new one (no post is
    added: chain_from, pending_scope.sql). The night rebuilds the post from day 5, reading its
    followers at publication from the marts' days before the chain's window (earlier_from),
    and the follower days from day 40 only; every mart equals the full rebuild's."""
    steady = [10_000 + 40 * day for day in range(DAYS)]
    # a crosses into micro (10,000) on day 15: a migration between its emit_from and chain_from.
    rising = [9_400 + 40 * day for day in range(DAYS)]
    world = _world({"a": rising, "b": steady}, {"a": [5, 12, 30], "b": [6, 33]})
    con = connect(":memory:")
    apply_ddl(con)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for day in range(40):
        load_batch(con, _export(day, world, 0), now)
        rebuild(con, "incremental", None, DEFAULT, 3, f"n{day}", scorecard_rules=SCORES)
    load_batch(con, _recapture(_export(40, world, 0), world, "a5", 5, 40), now)
    ((emit_from, chain_from),) = con.execute(
        "select emit_from, chain_from from (" + sql_text("sql", "pending_scope.sql") + ") "
        "where account_id = 'a'"
    ).fetchall()
    assert (emit_from, chain_from) == (D0 + timedelta(days=5), D0 + timedelta(days=40))
    night = rebuild(con, "incremental", None, DEFAULT, 3, "n40", scorecard_rules=SCORES)
    # The follower days rebuilt: a's day 40, b's days 39 and 40 (its export restates day 39's
    # exact gains), not a's from day 5 (36 days) nor b's from day 33 (its post b33, 7 days old,
    # is captured again). The posts: a's from day 5 (a5, a12, a30), b's from day 33 (b33).
    assert night.rows["fct_account_daily"] == 1 + 2
    assert night.rows["fct_post_metrics"] == 3 + 1
    incremental = _marts(con)
    rebuild(con, "full", None, DEFAULT, 3, "full", scorecard_rules=SCORES)
    full = _marts(con)
    for name, frame in full.items():
        assert_frame_equal(incremental[name], frame, check_exact=False, rel_tol=1e-9)
    post = full["fct_post_metrics"].filter(pl.col("post_id") == "a5")
    assert post["latest_snapshot_date"].to_list() == [D0 + timedelta(days=40)]
    assert post["followers_at_publish"].to_list() == [rising[5]]
    migrated = full["fct_tier_migrations"].filter(pl.col("account_id") == "a")["migrated_on"]
    assert migrated.to_list() and D0 + timedelta(days=5) < migrated[0] < D0 + timedelta(days=40)
    con.close()


@pytest.mark.parametrize("block_accounts", [250_000, 1])
def test_brand_mentions_count_the_latest_tags_of_every_post_naming_a_brand(
    monkeypatch, block_accounts
):
    """The account-month marts are built a month of posts at a time (and a block of accounts
    at a time: here both accounts in one, or each in its own), and read with their tags
    only the posts whose latest snapshot names a brand (read_brand_posts.sql): a brand in the
    hashtags alone or in the mentions alone counts, a brand only an older snapshot named does
    not, and the rows equal brand_mentions and sponsored_vs_organic over every post of the
    history at once, with its latest tags (read_posts_with_tags.sql)."""
    import flows.transform as ft
    from flows.transform import CampaignSettings
    from transforms.campaigns import BRAND_POST_INPUT, brand_mentions, sponsored_vs_organic
    from warehouse import marts as wm

    steady = [10_000 + 40 * day for day in range(DAYS)]
    # Published on days 1-4, 6, 9 (January) and 33 (February 3). _export tags #brandxcollab on
    # even days (2, 4, 6) and mentions @brandx on days divisible by 3 (3, 6, 9, 33).
    days = [1, 2, 3, 4, 6, 9, 33]
    world = _world({"a": steady, "b": steady}, {"a": days, "b": days})
    con = connect(":memory:")
    apply_ddl(con)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for day in range(DAYS):
        load_batch(con, _export(day, world, 0), now)
    # a4's latest snapshot (day 14: posts are exported up to 10 days old) drops its hashtag;
    # a1's older snapshots mention @brandx, its latest does not.
    con.execute(
        "update staging.post_snapshots set hashtags = [] "
        "where post_id = 'a4' and snapshot_date = (select max(snapshot_date) "
        "from staging.post_snapshots where post_id = 'a4')"
    )
    con.execute(
        "update staging.post_snapshots set mentions = ['brandx'] "
        "where post_id = 'a1' and snapshot_date < (select max(snapshot_date) "
        "from staging.post_snapshots where post_id = 'a1')"
    )
    handles = ("brandx", "brandxcollab", "nobody")
    monkeypatch.setattr(ft, "MONTH_POSTS_ACCOUNTS", block_accounts)
    rebuild(
        con,
        "full",
        None,
        DEFAULT,
        3,
        "full",
        campaign_settings=CampaignSettings(brand_handles=handles),
    )
    built = _marts(con)
    counts = {
        (r["brand_handle"], r["account_id"], r["month"].month): r["posts"]
        for r in built["agg_brand_mentions"].to_dicts()
    }
    # @brandx: posts 3, 6, 9 of each in January, 33 in February; #brandxcollab: 2, 4, 6 of b,
    # 2 and 6 of a (a4 dropped it).
    assert counts == {
        ("brandx", "a", 1): 3,
        ("brandx", "b", 1): 3,
        ("brandx", "a", 2): 1,
        ("brandx", "b", 2): 1,
        ("brandxcollab", "a", 1): 2,
        ("brandxcollab", "b", 1): 3,
    }
    # Both months of sponsored rows: 6 posts in January, 1 in February, per account.
    sponsored = built["agg_sponsored_monthly"].sort("account_id", "month")
    assert sponsored.select("account_id", "posts").rows() == [
        ("a", 6),
        ("a", 1),
        ("b", 6),
        ("b", 1),
    ]
    every_post = wm.posts_with_tags(
        con,
        pl.DataFrame(
            {"platform": ["instagram"] * 2, "account_id": ["a", "b"], "from_date": [D0] * 2}
        ),
        BRAND_POST_INPUT,
    ).lazy()
    for name, expected in (
        ("agg_brand_mentions", brand_mentions(every_post, list(handles))),
        ("agg_sponsored_monthly", sponsored_vs_organic(every_post)),
    ):
        rows = expected.collect()
        assert_frame_equal(built[name], rows.sort(rows.columns), check_dtypes=False)
    con.close()


def test_a_rebuild_of_an_empty_warehouse_writes_nothing_and_records_the_build():
    """No account and no post (a first night before any export): every step runs over nothing,
    the account-month marts too (a month of posts at a time: no month at all)."""
    con = connect(":memory:")
    apply_ddl(con)
    for mode in ("incremental", "full"):
        summary = rebuild(con, mode, None, DEFAULT, 3, f"empty-{mode}")
        assert summary.accounts == 0 and not any(summary.rows.values())
    # Every mart empty but the tier dimension (the scheme's tiers, whatever the data).
    heights = {name: frame.height for name, frame in _marts(con).items()}
    assert heights.pop("dim_tier") > 0 and not any(heights.values()), heights
    ((builds,),) = con.execute("select count(*) from meta.mart_build").fetchall()
    assert builds == 1
    con.close()
