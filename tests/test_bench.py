"""The benchmark document is generated from its recorded results, never edited by hand."""

import json
from pathlib import Path

from bench.harness import SUITES, render

DOCS = Path(__file__).parents[1] / "docs"


def test_docs_benchmarks_is_rendered_from_the_recorded_results():
    results = json.loads((DOCS / "benchmarks.json").read_text())
    assert set(SUITES) <= set(results["suites"])
    assert (DOCS / "benchmarks.md").read_text() == render(results) + "\n"


def test_a_kept_setup_is_reused_only_for_the_same_parameters(tmp_path):
    """--keep-setup: the staged history is simulated once, then reused while the parameters match."""
    from bench.transforms import _kept_setup, nights, prepared_history

    kept = tmp_path / "kept"
    first = _kept_setup(kept, 40, 4, 3)
    staged = kept / "staged.duckdb"
    written = staged.stat().st_mtime_ns
    assert first["rows"]["followers"] == 40 * 3  # days 1..D-1; day D is the night's
    assert _kept_setup(kept, 40, 4, 3) == first
    assert staged.stat().st_mtime_ns == written, "the same parameters must not simulate again"
    other = _kept_setup(kept, 50, 4, 3)
    assert other["rows"]["followers"] == 50 * 3
    assert staged.stat().st_mtime_ns != written

    # A history from the kept setup: its full rebuild and a night on copies, the last in place.
    workdir = tmp_path / "work"
    workdir.mkdir()
    history = prepared_history(50, 4, 3, workdir, keep_setup=kept)
    assert history["setup"] == other
    night = nights(history, repeat=2)
    assert (night["runs"], night["accounts"], night["new_follower_rows"]) == (2, 50, 50)
    assert night["publish_in_place"], "the night's publish must be the steady state's"
    assert staged.exists(), "the kept setup is copied, never used in place"


def test_the_night_publish_is_described_as_it_was_measured():
    """A result recorded before the in-place publish existed must not be described as in place."""
    from bench.harness import _night_publish

    assert "in place" in _night_publish({"publish_in_place": True})
    assert "in place" not in _night_publish({"publish_in_place": False})
    assert "copy of the current state" in _night_publish({})  # recorded before the flag


def test_the_nights_day_holds_every_block_of_accounts(tmp_path, monkeypatch):
    """Setup simulates accounts in blocks: day D (the night's input) must hold every block's
    accounts, not only the last block's."""
    import polars as pl

    import bench.transforms as bench_transforms

    monkeypatch.setattr(bench_transforms, "SIMULATED_ACCOUNTS_AT_ONCE", 16)
    warehouse = tmp_path / "w.duckdb"
    result = bench_transforms.setup(warehouse, accounts=40, days=4, post_window=3)
    assert result["rows"]["followers"] == 40 * 3  # days 1..D-1 of all 40 accounts
    night = pl.read_parquet(warehouse.with_suffix(".follower_snapshots.parquet"))
    assert night["account_id"].n_unique() == 40  # three blocks: 16 + 16 + 8
    assert night["snapshot_date"].n_unique() == 1
    posts = pl.read_parquet(warehouse.with_suffix(".post_snapshots.parquet"))
    assert posts["snapshot_date"].unique().to_list() == night["snapshot_date"].unique().to_list()
