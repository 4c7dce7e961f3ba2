"""Data-quality suites: each planted violation fails its check with its severity; clean passes."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from flows.validate import quality_frames, record, run_suites
from schemas.quality import CRITICAL, WARNING
from tests.conftest import START, built_warehouse
from warehouse.connect import connect

DAYS = 40
LAST_DAY = START + timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def clean(tmp_path_factory, prefect_api) -> Path:
    return built_warehouse(tmp_path_factory, accounts=80, days=DAYS, seed=4)[1]


def validate_copy(
    clean: Path,
    tmp_path: Path,
    plant: str | None = None,
    today: date = LAST_DAY,
    record_first: bool = False,
):
    """Copy the warehouse, plant a violation with SQL, validate; returns {(suite, check): result}."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(clean, warehouse)
    con = connect(warehouse)
    try:
        if record_first:  # a previous validation, for the row-count comparison
            frames = quality_frames(con, today)
            record(con, run_suites(frames, tmp_path, 3, "before"), frames)
            con.execute("delete from meta.validated_runs")
        if plant:
            for statement in plant.split(";"):
                if statement.strip():
                    con.execute(statement)
        summary = run_suites(quality_frames(con, today), tmp_path, 3, "r")
    finally:
        con.close()
    return {(r.suite, r.check_name): r for r in summary.results}, summary


def test_a_clean_warehouse_passes_every_check_and_builds_data_docs(clean, tmp_path):
    results, summary = validate_copy(clean, tmp_path)
    assert [key for key, r in results.items() if not r.success] == []
    suites = {suite for suite, _ in results}
    assert suites == {
        "staging_follower_snapshots",
        "staging_post_snapshots",
        "staging_follower_changes",
        "fct_account_daily",
        "fct_post_metrics",
        "agg_campaign_creators",
        "agg_creator_scorecard",
        "fct_tier_migrations",
        "freshness",
        "mart_row_counts",
    }
    assert summary.data_docs and Path(summary.data_docs.removeprefix("file://")).exists()


PLANTED = [
    (
        "staging_follower_snapshots",
        "key_unique",
        CRITICAL,
        "insert into staging.follower_snapshots select * from staging.follower_snapshots limit 1",
    ),
    (
        "staging_follower_snapshots",
        "followers_not_negative",
        CRITICAL,
        "update staging.follower_snapshots set followers = -1 where rowid = 0",
    ),
    (
        "staging_follower_snapshots",
        "snapshot_date_not_in_future",
        CRITICAL,
        "update staging.follower_snapshots set snapshot_date = date '2030-01-01' where rowid = 0",
    ),
    (
        "staging_follower_snapshots",
        "snapshot_date_not_before_platform",
        CRITICAL,
        "update staging.follower_snapshots set snapshot_date = date '2001-01-01' where rowid = 0",
    ),
    (
        "staging_follower_changes",
        "followers_lost_not_negative",
        CRITICAL,
        "update staging.follower_changes set followers_lost = -1 where rowid = 0",
    ),
    (
        "staging_follower_changes",
        "key_unique",
        CRITICAL,
        "insert into staging.follower_changes select * from staging.follower_changes limit 1",
    ),
    (
        "staging_post_snapshots",
        "published_before_capture",
        CRITICAL,
        "update staging.post_snapshots set published_at = captured_at + interval 1 day where rowid = 0",
    ),
    (
        "staging_post_snapshots",
        "interactions_at_most_views",
        WARNING,
        "update staging.post_snapshots set views = 0 where rowid = 0 and likes > 0",
    ),
    (
        "agg_campaign_creators",
        "cpe_not_negative",
        CRITICAL,
        "update marts.agg_campaign_creators set cpe = -1 where rowid = 0",
    ),
    (
        "agg_creator_scorecard",
        "er_percentile_tier_within_0_100",
        CRITICAL,
        "update marts.agg_creator_scorecard set er_percentile_tier = 101 where rowid = 0",
    ),
    (
        "agg_creator_scorecard",
        "flags_explained",
        CRITICAL,
        "update marts.agg_creator_scorecard set flags = flags + 1 where rowid = 0",
    ),
    (
        "fct_account_daily",
        "key_unique",
        CRITICAL,
        "insert into marts.fct_account_daily select * from marts.fct_account_daily where date = (select max(date) from marts.fct_account_daily) limit 1",
    ),
    (
        "fct_account_daily",
        "tier_matches_followers",
        CRITICAL,
        "update marts.fct_account_daily set raw_tier = 'mega' where followers < 1000000 and date = (select max(date) from marts.fct_account_daily)",
    ),
    (
        "fct_account_daily",
        "daily_change_plausible",
        WARNING,
        "update marts.fct_account_daily set followers_change = cast(followers * 0.9 as bigint) where date = (select max(date) from marts.fct_account_daily)",
    ),
    (
        "fct_post_metrics",
        "er_not_negative",
        CRITICAL,
        "update marts.fct_post_metrics set er_followers = -0.5 where post_id = (select max(post_id) from marts.fct_post_metrics)",
    ),
    (
        "fct_post_metrics",
        "er_within_bound",
        WARNING,
        "update marts.fct_post_metrics set er_followers = 3.0 where hash(post_id) % 10 = 0",
    ),
    (
        "fct_post_metrics",
        "account_exists",
        CRITICAL,
        "delete from marts.dim_account where account_id = (select max(account_id) from marts.fct_post_metrics)",
    ),
    (
        "fct_tier_migrations",
        "spells_exist",
        CRITICAL,
        "delete from marts.fct_tier_history where (platform, account_id, valid_from) in (select platform, account_id, migrated_on from marts.fct_tier_migrations limit 1)",
    ),
    ("mart_row_counts", "marts_not_empty", CRITICAL, "delete from marts.agg_tier_benchmarks"),
]


@pytest.mark.parametrize(
    ("suite", "check", "severity", "plant"), PLANTED, ids=[f"{s}.{c}" for s, c, _, _ in PLANTED]
)
def test_each_planted_violation_fails_its_check_with_its_severity(
    clean, tmp_path, suite, check, severity, plant
):
    results, summary = validate_copy(clean, tmp_path, plant)
    failed = {key for key, r in results.items() if not r.success}
    assert (suite, check) in failed
    assert results[(suite, check)].severity == severity
    if severity == CRITICAL:
        assert summary.critical_failures
    else:
        assert not summary.critical_failures


def test_stale_data_is_a_freshness_warning(clean, tmp_path):
    results, summary = validate_copy(clean, tmp_path, today=LAST_DAY + timedelta(days=10))
    assert not results[("freshness", "latest_snapshot_recent")].success
    assert not summary.critical_failures


def test_data_stale_for_years_still_warns(clean, tmp_path):
    """A platform last seen 914 days ago warns (the check once looked at 400 days only)."""
    results, _ = validate_copy(clean, tmp_path, today=LAST_DAY + timedelta(days=914))
    freshness = results[("freshness", "latest_snapshot_recent")]
    assert not freshness.success
    assert freshness.unexpected_count == 3  # instagram, tiktok, youtube


def test_row_counts_that_collapse_since_the_last_validation_warn(clean, tmp_path):
    plant = "delete from marts.fct_account_daily where hash(account_id) % 4 <> 0"
    results, _ = validate_copy(clean, tmp_path, plant, record_first=True)
    assert not results[("mart_row_counts", "row_counts_move_plausibly")].success
    assert results[("mart_row_counts", "row_counts_move_plausibly")].severity == WARNING


def test_cli_validate_names_the_critical_failure_and_exits_1(clean, tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(clean, warehouse)
    con = connect(warehouse)
    con.execute(
        "update marts.fct_post_metrics set er_followers = -1 where post_id = (select min(post_id) from marts.fct_post_metrics)"
    )
    con.close()
    runner = CliRunner(env={"INFLOW_FRESHNESS_DAYS": "100000"})
    result = runner.invoke(app, ["validate", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "fct_post_metrics.er_not_negative" in result.output
    status = runner.invoke(app, ["status", "--warehouse", str(warehouse)], env={"COLUMNS": "250"})
    assert "er_not_negative" in status.output and "data docs:" in status.output


def test_a_mart_that_may_be_empty_fails_only_once_it_had_rows(clean, tmp_path):
    # Few accounts or a short history can have no tier migration at all: not an error...
    check = ("mart_row_counts", "marts_not_empty")
    plant = "delete from marts.fct_tier_migrations"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    never_filled, _ = validate_copy(clean, tmp_path / "a", plant)
    assert never_filled[check].success
    # ...but a run that empties it after a validation saw rows is.
    emptied, summary = validate_copy(clean, tmp_path / "b", plant, record_first=True)
    assert not emptied[check].success
    assert check in {(r.suite, r.check_name) for r in summary.critical_failures}


def test_a_failed_check_names_what_it_concerns_and_no_progress_bar_is_drawn(clean, tmp_path, capfd):
    plant = (
        "update staging.follower_snapshots set followers = -1 where platform = 'tiktok';"
        "delete from marts.agg_tier_benchmarks"
    )
    results, _ = validate_copy(clean, tmp_path, plant, today=LAST_DAY + timedelta(days=914))
    negative = results[("staging_follower_snapshots", "followers_not_negative")]
    assert negative.concerns == "tiktok"
    assert negative.message == f"tiktok {negative.unexpected_count} unexpected"
    assert negative.unexpected_count and negative.unexpected_count > 1
    stale = results[("freshness", "latest_snapshot_recent")]
    assert (
        stale.line()
        == "freshness.latest_snapshot_recent: instagram, tiktok, youtube stale (914 days)"
    )
    emptied = results[("mart_row_counts", "marts_not_empty")]
    assert emptied.concerns == "agg_tier_benchmarks"
    assert results[("fct_account_daily", "key_unique")].message is None  # passed: no message
    # great-expectations draws a "Calculating Metrics" bar per expectation unless told not to.
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out
