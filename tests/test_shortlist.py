"""The scorecard marts of a generated landing recomputed by hand from the daily and post marts,
and `inflow shortlist` reading them from the published state."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli.app import app
from tests.conftest import read_table
from transforms.scorecard import ScorecardRules

pytestmark = pytest.mark.xdist_group("published_marts")
RULES = ScorecardRules()  # the defaults the nightly flow ran with


@pytest.fixture(scope="module")
def marts(published_marts) -> dict[str, list[dict]]:
    names = (
        "agg_creator_scorecard",
        "fct_creator_monthly",
        "fct_account_daily",
        "fct_post_metrics",
        "dim_account",
    )
    return {n: read_table(published_marts, f"select * from marts.{n}").to_dicts() for n in names}


def _by_account(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[(row["platform"], row["account_id"])].append(row)
    return grouped


def _percent_rank(values: dict, key) -> float | None:
    """PERCENT_RANK by its definition: 100 x (values strictly below) / (values - 1)."""
    present = [v for v in values.values() if v is not None]
    if values[key] is None or len(present) < RULES.min_peers:
        return None
    return 100 * sum(v < values[key] for v in present) / (len(present) - 1)


def test_scorecard_equals_a_recomputation_from_the_daily_and_post_marts(marts):
    daily, posts = _by_account(marts["fct_account_daily"]), _by_account(marts["fct_post_metrics"])
    category = {
        (a["platform"], a["account_id"]): a["category"] or "(unknown)" for a in marts["dim_account"]
    }
    scorecards = marts["agg_creator_scorecard"]
    assert len(scorecards) == len(daily)  # every account with a follower day has one
    latest_month = max(r["month"] for r in scorecards)
    expected: dict[tuple[str, str], dict] = {}
    for key, days in daily.items():
        in_month = [d for d in days if d["date"].replace(day=1) == latest_month]
        if not in_month:
            continue
        as_of = max(d["date"] for d in in_month)
        start = as_of - timedelta(days=RULES.window_days - 1)
        window_days = [d for d in days if start <= d["date"] <= as_of]
        window_posts = [p for p in posts.get(key, []) if start <= p["published_date"] <= as_of]
        measured = [
            p["er_followers_lc_d7"]
            for p in window_posts
            if not p["is_d7_pending"] and p["er_followers_lc_d7"] is not None
        ]
        weeks = {(as_of - p["published_date"]).days // 7 for p in window_posts}
        on_day = next(d for d in days if d["date"] == as_of)
        expected[key] = {
            "as_of_date": as_of,
            "snapshot_days": len(window_days),
            "posts": len(window_posts),
            "weeks_with_posts": len(weeks & set(range(RULES.window_days // 7))),
            "posts_measured": len(measured),
            "er_median": statistics.median(measured) if measured else None,
            "growth_rate_30d": on_day["growth_rate_30d"],
            "followers": on_day["followers"],
            "tier": on_day["tier"],
            "category": category[key],
            "sponsored_posts": sum(p["is_sponsored"] is True for p in window_posts),
        }
    # Peers of the latest month: percentiles by their definition, group by group.
    groups: dict[tuple, dict] = defaultdict(dict)
    for key, row in expected.items():
        groups[(key[0], row["tier"], row["category"])][key] = row["er_median"]
    for members in groups.values():
        for key in members:
            expected[key]["er_percentile_category"] = _percent_rank(members, key)
    checked = 0
    for card in scorecards:
        key = (card["platform"], card["account_id"])
        if card["month"] != latest_month:
            continue
        want = expected[key]
        for column, value in want.items():
            got = card[column]
            if isinstance(value, float):
                assert got == pytest.approx(value, rel=1e-9), (key, column)
            else:
                assert got == value, (key, column)
        checked += 1
    assert checked >= 100  # 150 generated accounts, nearly all seen in the last month
    assert any(c["er_percentile_category"] is not None for c in scorecards)


def test_the_scorecard_is_the_latest_creator_month(marts):
    monthly = _by_account(marts["fct_creator_monthly"])
    for card in marts["agg_creator_scorecard"]:
        months = monthly[(card["platform"], card["account_id"])]
        latest = max(months, key=lambda m: m["month"])
        assert {k: card[k] for k in latest} == latest
    assert len(marts["fct_creator_monthly"]) > len(marts["agg_creator_scorecard"])


def _shortlist(published: Path, *args: str) -> Result:
    runner = CliRunner(env={"INFLOW_PUBLISHED": str(published.parent), "COLUMNS": "250"})
    return runner.invoke(app, ["shortlist", *args])


def test_shortlist_ranks_by_er_percentile_and_filters(published_marts, tmp_path):
    cards = read_table(published_marts, "select * from marts.agg_creator_scorecard")
    platform, tier = (
        cards.filter(pl.col("er_percentile_tier").is_not_null())
        .group_by("platform", "tier")
        .len()
        .sort("len", descending=True)
        .row(0)[:2]
    )
    out = tmp_path / "list.json"
    done = _shortlist(
        published_marts,
        *("--platform", platform, "--tier", tier, "--format", "json", "--out", str(out)),
    )
    assert done.exit_code == 0, done.output
    listed = json.loads(out.read_text())
    peers = cards.filter((pl.col("platform") == platform) & (pl.col("tier") == tier))
    assert len(listed) == min(20, peers.height)
    percentiles = [r["er_percentile"] for r in listed if r["er_percentile"] is not None]
    assert percentiles == sorted(percentiles, reverse=True) and percentiles
    assert [r["rank"] for r in listed] == list(range(1, len(listed) + 1))
    top = peers.sort("er_percentile_tier", descending=True, nulls_last=True).row(0, named=True)
    assert listed[0]["account_id"] == top["account_id"]

    # Filters: a minimum percentile and at most 0 flags, as CSV.
    done = _shortlist(
        published_marts,
        *("--platform", platform, "--tier", tier, "--min-er-percentile", "50"),
        *("--max-flags", "0", "--limit", "5", "--format", "csv"),
    )
    assert done.exit_code == 0, done.output
    rows = pl.read_csv(done.stdout.encode()) if done.stdout.strip() else pl.DataFrame()
    wanted = peers.filter((pl.col("er_percentile_tier") >= 50) & (pl.col("flags") == 0))
    assert rows.height == min(5, wanted.height) > 0
    assert rows["er_percentile"].min() >= 50 and rows["flags"].max() == 0

    # A category: percentiles within it.
    category = peers["category"][0]
    done = _shortlist(
        published_marts,
        *("--platform", platform, "--tier", tier, "--category", category),
        *("--limit", "1000", "--format", "json"),
    )
    assert done.exit_code == 0, done.output
    in_category = json.loads(done.stdout)
    assert {r["category"] for r in in_category} == {category}
    within = dict(
        peers.filter(pl.col("category") == category)
        .select("account_id", "er_percentile_category")
        .iter_rows()
    )
    shown = {r["account_id"]: r["er_percentile"] for r in in_category}
    assert shown.keys() == within.keys()
    for account, percentile in within.items():  # shown rounded to 0.1
        assert shown[account] == (
            None if percentile is None else pytest.approx(percentile, abs=0.051)
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--platform", "myspace", "--tier", "micro"), "unknown platform 'myspace'; known: "),
        (("--platform", "tiktok", "--tier", "giga"), "unknown tier 'giga'; known: "),
        (
            ("--platform", "tiktok", "--tier", "micro", "--category", "astrology"),
            "unknown category on tiktok 'astrology'; known: ",
        ),
    ],
)
def test_shortlist_refuses_unknown_values_listing_the_known_ones(published_marts, args, message):
    done = _shortlist(published_marts, *args)
    assert done.exit_code == 2
    text = " ".join(done.stderr.split())
    assert message in text  # one line on standard error, no traceback (exit 2, not 1)
    known = text.split("known: ", 1)[1]
    if "platform" in message:
        assert "instagram" in known and "tiktok" in known
    if "tier" in message:
        assert "micro" in known and "nano" in known


@pytest.mark.parametrize(
    "command", [["shortlist", "--platform", "tiktok", "--tier", "micro"], ["report"]]
)
def test_a_state_published_before_the_scorecards_exits_2_saying_so(
    published_marts, tmp_path, command
):
    """An older inflow's published state has no scorecard mart: the readers say what to run."""
    import shutil

    import duckdb

    older = tmp_path / "published" / published_marts.name
    older.parent.mkdir()
    shutil.copyfile(published_marts, older)
    con = duckdb.connect(str(older))
    con.execute("drop table marts.agg_creator_scorecard")
    con.close()
    runner = CliRunner(
        env={"INFLOW_PUBLISHED": str(older.parent), "INFLOW_REPORT": str(tmp_path / "r.html")}
    )
    done = runner.invoke(app, command)
    assert done.exit_code == 2, done.output
    text = " ".join(done.stderr.split())
    assert "the published state lacks what this inflow reads" in text
    assert "agg_creator_scorecard" in text and "run `inflow run` or `inflow publish`" in text
    assert not (tmp_path / "r.html").exists()
