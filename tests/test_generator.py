"""`inflow generate`: determinism, realism within the stated bands, every format and fault."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ingestion.campaigns import read_campaigns
from ingestion.discover import discover
from ingestion.readers import FileRejected, file_context, read_export
from sample import simulate as sim
from sample.landing import FAULT_KINDS, MANIFEST_DIR, generate_landing
from schemas import registry
from schemas.contract import ROW_NUMBER, RULE, normalise
from schemas.tables import CATEGORIES

START = date(2026, 1, 1)
# Weekly downloads that restate days the nightly exports already hold.
REPEATING_FORMATS = ("creator_csv", "tiktok_studio")


def _generate(
    out: Path, seed: int = 3, faults: bool = True, accounts: int = 60, days: int = 20
) -> dict:
    generate_landing(
        out,
        accounts=accounts,
        days=days,
        seed=seed,
        start=START,
        platforms=sim.PLATFORMS_ALL,
        faults=faults,
    )
    return json.loads((out / MANIFEST_DIR / "manifest.json").read_text())


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("landing")
    return out, _generate(out)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, landing):
    out, _ = landing
    _generate(tmp_path / "again")
    assert _tree(tmp_path / "again") == _tree(out)
    _generate(tmp_path / "other", seed=4)
    assert _tree(tmp_path / "other") != _tree(out)


def test_every_format_and_compression_is_written(landing):
    _, manifest = landing
    written = {(f["format"], f["gzipped"]) for f in manifest["files"]}
    for expected in [
        ("native.jsonl", False),
        ("native.jsonl", True),
        ("canonical.csv", False),
        ("canonical.csv", True),
        ("canonical.parquet", False),
        ("canonical.jsonl", True),
        ("creator_csv.csv", False),
        ("envelope.json", False),
        ("meta_business_suite.csv", False),
        ("tiktok_studio.csv", False),
        ("youtube_reporting.csv", False),
        ("youtube_studio.csv", False),
        ("campaigns.yaml", False),
        ("campaigns.csv", False),
        ("campaigns.json", False),
    ]:
        assert expected in written
    assert {f["platform"] for f in manifest["files"] if f["kind"] != "campaigns"} == set(
        sim.PLATFORMS_ALL
    )


def test_every_file_reads_through_its_contract_as_the_manifest_says(landing):
    """Round trip: each file is detected, parsed, and rejects exactly the planted bad rows."""
    out, manifest = landing
    contracts_seen = set()
    campaigns_seen: list[str] = []
    for entry in manifest["files"]:
        path = out / entry["path"]
        if entry["kind"] == "campaigns":
            campaigns_seen.append(entry["path"])
            continue
        context = file_context(path, entry["path"])
        if entry["expect"] == "fail":
            with pytest.raises(FileRejected):
                read_export(path, context=context)
            continue
        raw = read_export(path, context=context)
        contracts_seen.add(raw.contract.name)
        assert raw.contract.kind == entry["kind"], entry["path"]
        rows = normalise(
            raw.rows, raw.contract, captured_at=registry.capture_time_from_name(path.name)
        ).collect()
        assert rows.height == entry["rows"], entry["path"]
        rejected = rows.filter(pl.col(RULE).is_not_null()).select(ROW_NUMBER, RULE).rows()
        assert sorted(rejected) == sorted((b["row"], b["rule"]) for b in entry["bad_rows"]), entry[
            "path"
        ]
        if entry["kind"] == "followers":
            kept_hidden = rows.filter(pl.col(RULE).is_null() & pl.col("followers_hidden"))
            assert kept_hidden.height == entry["hidden_rows"], entry["path"]
    assert contracts_seen == {c.name for c in registry.CONTRACTS}
    # Every campaign file is valid and every campaign format is written.
    found = discover(out)[0]
    loaded = read_campaigns([f for f in found if f.relative in campaigns_seen])
    assert loaded.campaigns.rejected == [] and len(loaded.campaigns.campaigns) == 3
    assert {p.rsplit(".", 1)[1] for p in campaigns_seen} == {"yaml", "csv", "json"}


def test_each_fault_kind_is_planted(landing):
    out, manifest = landing
    assert {f["kind"] for f in manifest["faults"]} == set(FAULT_KINDS)
    faults = {f["kind"]: f["path"] for f in manifest["faults"]}
    assert (out / faults["empty_file"]).stat().st_size == 0
    assert (out / faults["utf8_bom"]).read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"favourite_emoji" in (out / faults["unknown_extra_columns"]).read_bytes()
    duplicate = next(f for f in manifest["files"] if f["expect"] == "duplicate")
    assert (out / duplicate["path"]).read_bytes() == (
        out / duplicate["note"].split()[-1]
    ).read_bytes()
    assert faults["late_file"].startswith("late/")


def test_without_faults_nothing_bad_is_planted(tmp_path):
    manifest = _generate(tmp_path, faults=False)
    assert manifest["faults"] == []
    assert all(f["expect"] == "load" for f in manifest["files"])
    # Clean data rejects nothing; hidden YouTube subscriber counts (a real-world case) are
    # counted apart, on YouTube follower files only.
    assert [b for f in manifest["files"] for b in f["bad_rows"]] == []
    hidden = {(f["platform"], f["kind"]) for f in manifest["files"] if f["hidden_rows"]}
    assert hidden <= {("youtube", "followers")}


@pytest.fixture(scope="module")
def world() -> sim.World:
    return sim.simulate(4000, 120, seed=11, start=START)


def test_follower_counts_spread_over_tiers_as_stated(world):
    first_day = world.followers.filter(pl.col("day_index") == 0)["followers"].to_numpy()
    shares = np.bincount(sim.tier_index(first_day), minlength=5) / first_day.size
    # Stated bands: about 7% emerging, 33% nano, 45% micro, 14% macro, 1% mega (log-normal).
    assert 0.03 < shares[0] < 0.12
    assert 0.25 < shares[1] < 0.42
    assert 0.35 < shares[2] < 0.52
    assert 0.08 < shares[3] < 0.20
    assert 0.002 < shares[4] < 0.03


def test_accounts_cross_tiers_and_some_hover(world):
    tiers = world.followers.with_columns(
        pl.Series("tier", sim.tier_index(world.followers["followers"].to_numpy()))
    )
    changes = (
        tiers.sort("account_index", "day_index")
        .with_columns(
            (pl.col("tier").diff().over("account_index").fill_null(0) != 0).alias("changed")
        )
        .group_by("account_index")
        .agg(pl.col("changed").sum().alias("tier_changes"))
    )
    crossing = changes.filter(pl.col("tier_changes") > 0).height
    hovering = changes.filter(pl.col("tier_changes") >= 4).height  # back and forth across a bound
    assert crossing > 0.05 * world.accounts.height
    assert hovering > 0.01 * world.accounts.height


def test_growth_has_jumps_and_purges(world):
    f = world.followers.sort("account_index", "day_index").with_columns(
        (pl.col("followers") / pl.col("followers").shift().over("account_index") - 1).alias(
            "change"
        )
    )
    assert f.filter(pl.col("change") > 0.09).height > 0  # viral jumps
    assert f.filter(pl.col("change") < -0.045).height > 0  # purges


def test_post_metrics_grow_then_saturate(world):
    snaps = world.post_snapshots.sort("post_index", "captured_at")
    steps = snaps.with_columns(pl.col("likes").diff().over("post_index").alias("step")).drop_nulls(
        "step"
    )
    assert steps["step"].min() >= 0  # never decreasing
    by_age = (
        snaps.with_columns(
            ((pl.col("captured_at") - pl.col("published_at")).dt.total_hours() // 24).alias(
                "age_days"
            )
        )
        .group_by("post_index")
        .agg(
            pl.col("likes").filter(pl.col("age_days") == 1).first().alias("d1"),
            pl.col("likes").filter(pl.col("age_days") == 7).first().alias("d7"),
            pl.col("likes").filter(pl.col("age_days") == 13).first().alias("d13"),
        )
        .drop_nulls()
        .filter(pl.col("d13") > 100)
    )
    assert (by_age["d7"] > by_age["d1"]).mean() > 0.9  # still growing in the first week
    growth_late = ((by_age["d13"] - by_age["d7"]) / by_age["d13"]).median()
    assert growth_late < 0.1  # saturated in the second week


def test_engagement_rate_falls_with_tier_near_reference_figures(world):
    posts = world.posts.join(
        world.followers.select("account_index", "day_index", "followers"),
        on=["account_index", "day_index"],
    ).with_columns(
        pl.Series(
            "tier",
            sim.tier_index(
                world.posts.join(
                    world.followers.select("account_index", "day_index", "followers"),
                    on=["account_index", "day_index"],
                )["followers"].to_numpy()
            ),
        ),
        (
            pl.sum_horizontal("final_likes", "final_comments", "final_shares", "final_saves")
            / pl.col("followers")
        ).alias("er"),
    )
    medians = posts.group_by("platform", "tier").agg(pl.col("er").median()).sort("platform", "tier")
    ig = dict(medians.filter(pl.col("platform") == "instagram").select("tier", "er").rows())
    # Reference: IG micro 3-8% (one study 4%), macro about 2.4%, mega 1.2-1.7%; nano higher.
    assert 0.03 < ig[2] < 0.06
    assert 0.015 < ig[3] < 0.035
    assert ig[1] > ig[2] > ig[3]
    tiktok = dict(medians.filter(pl.col("platform") == "tiktok").select("tier", "er").rows())
    assert 0.08 < tiktok[2] < 0.18  # TikTok micro 8-18%


def test_categories_are_the_stated_ten(world):
    assert set(world.accounts["category"].unique()) <= set(CATEGORIES)
    assert world.accounts["category"].n_unique() == 10


def _chunked(chunk_days: int, **kwargs) -> list[sim.World]:
    arguments = {"seed": 4, "start": date(2026, 1, 1), "post_window_days": 5} | kwargs
    return list(sim.simulate_chunks(300, 30, chunk_days=chunk_days, **arguments))


def test_streamed_chunks_cover_every_day_once_and_carry_posts_over():
    chunks = _chunked(7)
    assert [c.days for c in chunks] == [7, 7, 7, 7, 2]
    followers = pl.concat([c.followers for c in chunks])
    assert followers.height == 300 * 30
    assert followers.select("account_id", "snapshot_date").is_duplicated().sum() == 0
    posts = pl.concat([c.posts for c in chunks])
    assert posts["post_id"].is_duplicated().sum() == 0
    assert posts["post_index"].to_list() == list(range(posts.height))
    snapshots = pl.concat([c.post_snapshots for c in chunks])
    assert snapshots.select("post_id", "snapshot_date").is_duplicated().sum() == 0
    # Posts published late in a chunk are captured again in the next one, up to 5 days old.
    age = (snapshots["snapshot_date"] - snapshots["published_at"].dt.date()).dt.total_days()
    assert age.min() == 1 and age.max() == 5  # captured overnight, so from the next day on
    crossing = snapshots.join(posts.select("post_id", "day_index"), on="post_id").filter(
        pl.col("day_index") // 7 != pl.col("snapshot_day_index") // 7
    )
    assert crossing.height > 0
    # Each chunk's snapshots are of its own days only.
    for chunk in chunks:
        first = (chunk.start - date(2026, 1, 1)).days
        assert (
            chunk.post_snapshots["snapshot_day_index"]
            .is_between(first, first + chunk.days - 1)
            .all()
        )


def test_streamed_chunks_are_deterministic_and_start_like_the_whole_simulation():
    again = _chunked(7)
    for one, other in zip(_chunked(7), again, strict=True):
        assert one.followers.equals(other.followers)
        assert one.post_snapshots.equals(other.post_snapshots)
    whole = sim.simulate(300, 30, seed=4, start=date(2026, 1, 1), post_window_days=5)
    day_one = pl.concat([c.followers for c in again]).filter(pl.col("day_index") == 0)
    assert (
        day_one.select("account_id", "followers")
        .sort("account_id")
        .equals(
            whole.followers.filter(pl.col("day_index") == 0)
            .select("account_id", "followers")
            .sort("account_id")
        )
    )
    # Followers move on from the level the previous chunk ended at: no jump at a boundary
    # beyond what a day of the model can do (viral jumps stay under +45%, purges over -25%).
    daily = pl.concat([c.followers for c in again]).sort("account_id", "day_index")
    change = daily.with_columns(
        (pl.col("followers") / pl.col("followers").shift(1).over("account_id")).alias("ratio")
    ).filter(pl.col("day_index") == 7, pl.col("followers") > 1000)
    assert change["ratio"].is_between(0.7, 1.6).all()


def test_account_blocks_simulate_the_same_accounts_in_date_order_with_consistent_indexes():
    blocks = _chunked(7, account_block=70)  # 300 accounts: blocks of 70, 70, 70, 70 and 20
    whole = _chunked(7)
    assert len(blocks) == 5 * len(whole)
    starts = [world.start for world in blocks]
    assert starts == sorted(starts)  # every block of a week before the next week
    assert [w.accounts.height for w in blocks[:5]] == [70, 70, 70, 70, 20]
    accounts = pl.concat([w.accounts for w in blocks[:5]])
    assert accounts.equals(whole[0].accounts)
    followers = pl.concat([w.followers for w in blocks])
    assert followers.height == 300 * 30
    assert followers.select("account_id", "snapshot_date").is_duplicated().sum() == 0
    # Each row's account_index is its account's in the whole simulation, not in its block.
    for frame in (followers, pl.concat([w.post_snapshots for w in blocks])):
        named = frame.join(accounts.select("account_index", "account_id"), on="account_index")
        assert named.height == frame.height
        assert (named["account_id"] == named["account_id_right"]).all()
    posts = pl.concat([w.posts for w in blocks])
    assert posts["post_index"].to_list() == list(range(posts.height))
    assert posts["post_id"].is_duplicated().sum() == 0
    # Day one is the accounts' starting followers, whatever the blocks.
    first_day = pl.col("day_index") == 0
    assert (
        followers.filter(first_day)
        .select("account_id", "followers")
        .sort("account_id")
        .equals(
            pl.concat([w.followers for w in whole])
            .filter(first_day)
            .select("account_id", "followers")
            .sort("account_id")
        )
    )


def test_a_streamed_landing_reads_through_its_contracts_and_is_deterministic(tmp_path):
    def streamed(out: Path) -> dict:
        generate_landing(
            out,
            accounts=80,
            days=17,
            seed=6,
            start=START,
            platforms=sim.PLATFORMS_ALL,
            stream=True,
        )
        return json.loads((out / MANIFEST_DIR / "manifest.json").read_text())

    manifest = streamed(tmp_path / "a")
    assert manifest["parameters"]["stream"] is True
    assert _tree(tmp_path / "a") == (streamed(tmp_path / "b") and _tree(tmp_path / "b"))
    follower_rows = 0
    for entry in manifest["files"]:
        path = tmp_path / "a" / entry["path"]
        raw = read_export(path, context=file_context(path, entry["path"]))
        rows = normalise(
            raw.rows, raw.contract, captured_at=registry.capture_time_from_name(path.name)
        ).collect()
        assert rows.height == entry["rows"], entry["path"]
        assert entry["bad_rows"] == [] or entry["kind"] == "followers", entry["path"]
        if entry["kind"] == "followers" and raw.contract.format not in REPEATING_FORMATS:
            follower_rows += rows.height
    # Every account on every day, once (creator-tool and Studio files repeat some days: not
    # counted).
    assert follower_rows == 80 * 17
    with pytest.raises(ValueError, match="faults"):
        generate_landing(
            tmp_path / "c",
            accounts=5,
            days=3,
            seed=1,
            start=START,
            platforms=sim.PLATFORMS_ALL,
            faults=True,
            stream=True,
        )


def test_cli_generate_stream_and_its_refusal_with_faults(tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    runner = CliRunner()
    out = tmp_path / "streamed"
    result = runner.invoke(
        app, ["generate", "--out", str(out), "--accounts", "10", "--days", "9", "--stream"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / MANIFEST_DIR / "manifest.json").read_text())
    assert manifest["parameters"]["stream"] is True
    refused = runner.invoke(app, ["generate", "--out", str(tmp_path / "x"), "--stream", "--faults"])
    assert refused.exit_code == 2
