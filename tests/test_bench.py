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
    again = _kept_setup(kept, 40, 4, 3)
    assert again.pop("reused") and "reused" not in first, "a reused setup says it was"
    assert again == first
    assert staged.stat().st_mtime_ns == written, "the same parameters must not simulate again"
    other = _kept_setup(kept, 50, 4, 3)
    assert other["rows"]["followers"] == 50 * 3
    assert staged.stat().st_mtime_ns != written

    # A history from the kept setup: its full rebuild and a night on copies, the last in place.
    workdir = tmp_path / "work"
    workdir.mkdir()
    history = prepared_history(50, 4, 3, workdir, keep_setup=kept)
    assert history["setup"] == {**other, "reused": True}
    night = nights(history, repeat=2)
    assert (night["runs"], night["accounts"], night["new_follower_rows"]) == (2, 50, 50)
    # The rebuild's steps, each the median of the runs'.
    assert "account partitions read and built" in night["steps"]
    assert night["publish_in_place"], "the night's publish must be the steady state's"
    assert staged.exists(), "the kept setup is copied, never used in place"


def test_the_night_publish_is_described_as_it_was_measured():
    """A result recorded before the in-place publish existed must not be described as in place."""
    from bench.harness import _night_publish

    assert "in place" in _night_publish({"publish_in_place": True})
    assert "in place" not in _night_publish({"publish_in_place": False})
    assert "copy of the current state" in _night_publish({})  # recorded before the flag


def test_the_scale_section_shows_the_nights_steps_when_they_were_recorded():
    """A row per step of the night's rebuild, in the order recorded; none for a result
    recorded before the rebuild timed its steps."""
    from bench.harness import scale_section

    night = {
        "new_follower_rows": 10,
        "new_post_rows": 20,
        "load_s": 0.1,
        "transform_s": 3.0,
        "publish_s": 0.5,
        "peak_rss_mb": 100,
        "publish_in_place": True,
    }
    history = {
        "follower_rows": 1,
        "post_rows": 2,
        "setup": {"simulate_s": 1.0, "load_s": 1.0, "peak_rss_mb": 10},
        "full_s": 9.0,
        "full_peak_rss_mb": 10,
        "warehouse_mb": 5,
        "published_mb": 4,
    }
    result = {"accounts": 10, "histories": {"100": {**history, "night": night}}}
    before = scale_section(result, "cmd")
    assert not any(line.startswith("| step |") for line in before)
    # The warehouse file's cell: with the scorecard rows kept beside it, when recorded.
    assert any("| 5 MB | 4 MB |" in line for line in before)
    kept = {"100": {**history, "scorecard_rows_mb": 800, "night": night}}
    assert any(
        "| 5 MB + 800 MB of scorecard rows kept | 4 MB |" in line
        for line in scale_section({"accounts": 10, "histories": kept}, "cmd")
    )
    steps = {"scope": 0.25, "account partitions read and built": 77.4, "commit": 7.7}
    result["histories"]["100"]["night"] = {**night, "steps": steps}
    after = scale_section(result, "cmd")
    assert after[: len(before)] == before
    table = after[after.index("| step | 100 days |") :]
    assert table[2:] == [
        "| scope | 0.25 s |",
        "| account partitions read and built | 77.4 s |",
        "| commit | 7.7 s |",
    ]
    # The month's first night, when measured: its own table after the steps.
    assert not any("The month's first night" in line for line in after)
    month = {"load_s": 1.5, "seconds": 112.25, "new_follower_rows": 7, "new_post_rows": 3}
    month |= {"peak_rss_mb": 5_632, "steps": {"monthly inputs spilled": 3.5}}
    month["steps"]["monthly partitions read and computed"] = 28.25
    result["histories"]["100"]["month_night"] = month
    with_month = scale_section(result, "cmd")
    assert with_month[: len(after)] == after
    assert with_month[-1] == "| 100 | 7 / 3 | 1.5 s | **112.2 s** | 5.5 GB | 3.5 s | 28.2 s |"
    del result["histories"]["100"]["month_night"]
    # A history whose night skipped a step (a full rebuild deletes nothing) shows none for it.
    deleted = {"scope": 0.2, "account rows deleted": 1.8, "commit": 7.0}
    result["histories"]["30"] = {**history, "night": {**night, "steps": deleted}}
    table = scale_section(result, "cmd")
    table = table[table.index("| step | 100 days | 30 days |") :]
    assert table[2:] == [
        "| scope | 0.25 s | 0.20 s |",
        "| account partitions read and built | 77.4 s | - |",
        "| commit | 7.7 s | 7.0 s |",
        "| account rows deleted | - | 1.8 s |",
    ]


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


def test_the_nights_load_writes_its_day_into_the_file_as_an_ingest_run_does(tmp_path):
    """An ingest run ends with a checkpoint (its connections close: warehouse.connect.kept_open),
    so a transform after it starts with no WAL. The bench's load must leave the same, or the
    night's transform commit writes the day's staged rows and is timed for them."""
    from bench.transforms import full, load_new_day, setup
    from warehouse.connect import connect

    warehouse = tmp_path / "w.duckdb"
    setup(warehouse, accounts=40, days=4, post_window=3)
    full(warehouse)
    wal = warehouse.with_name(warehouse.name + ".wal")
    con = connect(warehouse)
    try:
        _, followers, _ = load_new_day(con, warehouse)
        assert followers == 40
        # Still open: only a checkpoint empties the WAL now (a close would too).
        assert not wal.exists() or wal.stat().st_size == 0
        ((staged,),) = con.execute("select count(*) from staging.follower_snapshots").fetchall()
        assert staged == 40 * 4
    finally:
        con.close()


def test_the_month_night_is_day_d_moved_into_the_next_month(tmp_path):
    """bench.transforms.month_night after the night (as bench.nightly runs it): day D's rows
    moved so that its earliest post was published on the first day of the next month (under ids
    of their own), a night whose first day (and month) is that day, with every follower and
    post row of day D and every account in its scope."""
    from datetime import date, timedelta

    import polars as pl

    from bench.transforms import full, month_night, night, setup
    from warehouse.connect import connect

    warehouse = tmp_path / "w.duckdb"
    setup(warehouse, accounts=40, days=4, post_window=3)  # day D: January 4, 2025
    full(warehouse)
    assert night(warehouse)["accounts"] == 40
    day_d = pl.read_parquet(warehouse.with_suffix(".post_snapshots.parquet"))
    shift = date(2025, 2, 1) - day_d["published_at"].dt.date().min()
    moved = month_night(warehouse)
    assert (moved["first_day"], moved["accounts"]) == ("2025-02-01", 40)
    assert (moved["new_follower_rows"], moved["new_post_rows"]) == (40, day_d.height)
    moved_day = date(2025, 1, 4) + shift
    assert moved_day > date(2025, 2, 1)  # posts are snapshot from the day after publication
    con = connect(warehouse)
    followers = con.execute(
        "select count(*) from staging.follower_snapshots where snapshot_date = ?", [moved_day]
    ).fetchall()
    posts = con.execute(
        "select count(*), bool_and(post_id like 'm%'), min(published_at)::date "
        "from staging.post_snapshots where snapshot_date = ?",
        [moved_day],
    ).fetchall()
    con.close()
    assert followers == [(40,)]
    assert posts == [(day_d.height, True, date(2025, 2, 1))]
    assert shift > timedelta(0)


def test_storage_projection_scales_history_tables_by_accounts_times_days():
    """Snapshot and fact tables grow with accounts x days, dim_account with accounts, the rest
    stays; the disk is the warehouse, the kept states and the spill (values by hand)."""
    from bench.storage import projection

    gb = 2**30
    measured = {
        "tables": {
            "staging.follower_snapshots": {
                "rows": 100,
                "duckdb_bytes": gb,
                "parquet_bytes": gb // 4,
            },
            "staging.post_snapshots": {"rows": 300, "duckdb_bytes": 2 * gb, "parquet_bytes": gb},
            "marts.fct_account_daily": {"rows": 100, "duckdb_bytes": gb, "parquet_bytes": gb},
            "marts.dim_account": {"rows": 10, "duckdb_bytes": gb, "parquet_bytes": gb},
            "marts.agg_tier_benchmarks": {"rows": 5, "duckdb_bytes": gb, "parquet_bytes": gb},
        },
        "warehouse_bytes": 10 * gb,  # its 6 GB of tables, and 4 GB more
        "published_bytes": 4 * gb,  # its 3 GB of marts, and 1 GB more
        "full_spill_bytes": gb,
    }
    # 10 accounts x 10 days -> 20 x 30: history tables x6, account tables x2.
    p = projection(measured, 10, 10, 20, 30)
    assert (p["follower_rows"], p["post_rows"]) == (600, 1800)
    assert p["staging_gb"] == 18.0  # (1 + 2) x 6
    assert p["staging_parquet_gb"] == 7.5  # (0.25 + 1) x 6
    assert p["marts_gb"] == 9.0  # 1 x 6 + 1 x 2 + 1
    assert p["warehouse_gb"] == 45.0  # 10 x (18 + 9) / 6
    assert p["published_state_gb"] == 12.0  # 4 x 9 / 3
    assert p["full_spill_gb"] == 6.0
    assert p["disk_gb"] == 45.0 + 2 * 12.0 + 6.0  # two kept states in the bench


def test_storage_measures_a_table_by_its_own_bytes(tmp_path):
    """A million random 64-bit integers hardly compress: their table is about 8 MB alone."""
    from bench.storage import table_sizes
    from warehouse.connect import connect

    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema staging")
    con.execute("create table staging.numbers as select hash(i) as n from range(1000000) r(i)")
    con.execute("create table staging.nothing (n bigint)")
    con.close()
    (tmp_path / "scratch").mkdir()
    sizes = table_sizes(tmp_path / "w.duckdb", tmp_path / "scratch")
    assert set(sizes) == {"staging.numbers"}  # empty tables are left out
    numbers = sizes["staging.numbers"]
    assert numbers["rows"] == 1_000_000
    assert 7.0 * 2**20 <= numbers["duckdb_bytes"] <= 9.5 * 2**20
    assert 7.0 * 2**20 <= numbers["parquet_bytes"] <= 9.5 * 2**20


def test_each_suite_names_the_processor_it_was_measured_on():
    """Suites are rerun one at a time on lent machines: the header's processor is only the
    last run's, so each suite's own must be shown with it."""
    results = json.loads((DOCS / "benchmarks.json").read_text())
    text = render(results)
    for suite in results["suites"].values():
        assert f"min on {suite['machine']}._" in text
    del results["suites"]["storage"]["machine"]  # recorded before suites carried it
    assert "min._" in render(results)


def test_the_floor_counts_what_the_night_reads_and_leaves_its_rows_alone(tmp_path):
    """bench.floor counts each input the night reads (every account-day once among them) and
    the rows it writes; counting must not change the night's rows, and the floor is
    those bytes and rows at the measured rates."""
    import shutil

    from bench.floor import floor
    from bench.transforms import full, load_new_day, setup
    from flows.transform import rebuild
    from transforms.tiers import DEFAULT
    from warehouse.connect import connect

    history = tmp_path / "history" / "h.duckdb"
    history.parent.mkdir()
    setup(history, accounts=40, days=4, post_window=3)
    full(history)
    copies = {}
    for name in ("counted", "plain"):
        folder = tmp_path / name
        folder.mkdir()
        for path in history.parent.glob("h.*"):
            if path.is_file():
                shutil.copy(path, folder / path.name)
        copies[name] = folder / history.name

    measured = floor(copies["counted"])
    con = connect(copies["plain"])
    load_new_day(con, copies["plain"])
    plain = rebuild(con, "incremental", None, DEFAULT, 7, "plain")
    con.close()

    assert measured["written"] == plain.rows
    assert measured["written_rows"] == sum(plain.rows.values()) > 40
    reads = {r["read"]: r["rows"] for r in measured["reads"]}
    # Each account-day once: staging from emit_from on (the new day at least), the marts'
    # rows before it (all three earlier days lie in the 29-day window).
    assert reads["follower_snapshots"] >= 40
    assert reads["follower_snapshots"] + reads["earlier_daily"] == 40 * 4
    assert {"seed", "earlier_posts", "daily", "posts", "month_posts", "brand_posts"} <= set(reads)
    assert measured["read_rows"] == sum(r["rows"] for r in measured["reads"])
    expected = measured["read_mb"] / measured["scan_mb_s"] + (
        measured["written_rows"] / measured["insert_rows_s"]
    )
    assert abs(measured["floor_s"] - expected) < 0.01 + 0.01 * expected
