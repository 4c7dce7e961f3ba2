"""Transforms at scale: a full mart rebuild versus one incremental night, same warehouse, same run.

    python -m bench.harness --only transforms        (sizes in bench/harness.py)

Simulates the history (follower snapshots for every account and day, post snapshots for posts
up to `--post-window` days old), loads it straight into staging (this bench measures
transforms, not ingest), then in separate processes, each with its own peak RSS:
  1. full rebuild of every mart over days 1..D-1,
  2. one new day loaded through the ingest load path, then the incremental rebuild,
  3. a full rebuild over all D days (the baseline the incremental night is compared to).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.common import PeakDiskUse, median, print_result, run_phase
from transforms.tiers import DEFAULT
from warehouse.connect import DuckDBLimits

START = date(2025, 1, 1)
# Accounts simulated together for a week: about 2 GB; a million at once outgrew 18 GB.
SIMULATED_ACCOUNTS_AT_ONCE = 100_000


# What setup writes, for kept setups (see _kept_setup).
SETUP_VERSION = 2

# Published states kept by the bench's publishes (the deployment keeps 3): with two, every
# night's publish brings the older one up to date in place, as a deployment's does.
KEPT_STATES = 2


def setup(warehouse: Path, accounts: int, days: int, post_window: int) -> dict:
    """Days 1..D-1 straight into staging, a week at a time (the simulation is streamed, so
    memory follows a week, not the history); day D kept in Parquet files for the night."""
    import polars as pl

    from sample.simulate import simulate_chunks
    from schemas.tables import FOLLOWER_SNAPSHOT, POST_SNAPSHOT
    from warehouse.connect import connect
    from warehouse.schema import apply_ddl

    capture = pl.col("snapshot_date").cast(pl.Datetime("us")).dt.replace_time_zone(
        "UTC"
    ) + pl.duration(hours=3)
    lineage = [
        pl.lit("bench").alias("source_file"),
        pl.lit("0").alias("source_sha256"),
        pl.lit(1, pl.Int64).alias("source_row"),
        pl.lit("bench").alias("ingest_run_id"),
    ]
    last_day = START.fromordinal(START.toordinal() + days - 1)
    con = connect(warehouse, limits=phase_limits())
    apply_ddl(con)
    simulated = loaded = 0.0
    began = time.perf_counter()
    chunks = simulate_chunks(
        accounts,
        days,
        seed=3,
        start=START,
        post_window_days=post_window,
        account_block=SIMULATED_ACCOUNTS_AT_ONCE,
    )
    night_rows: dict[str, list[pl.DataFrame]] = {"follower_snapshots": [], "post_snapshots": []}
    for world in chunks:
        followers = world.followers.with_columns(
            capture.alias("captured_at"),
            pl.lit(None, pl.Int64).alias("posts_count"),
            pl.lit(False).alias("is_followers_rounded"),
            *lineage,
        )
        posts = world.post_snapshots.with_columns(
            pl.lit(None, pl.String).alias("caption"),
            pl.lit(None, pl.List(pl.String)).alias("hashtags"),
            pl.lit(None, pl.List(pl.String)).alias("mentions"),
            pl.col("media_type").str.to_lowercase(),
            pl.lit(None, pl.Int64).alias("impressions"),
            *lineage,
        )
        simulated += time.perf_counter() - began
        began = time.perf_counter()
        for table, frame, schema in (
            ("follower_snapshots", followers, FOLLOWER_SNAPSHOT),
            ("post_snapshots", posts, POST_SNAPSHOT),
        ):
            columns = [*schema.names, "source_file", "source_sha256", "source_row", "ingest_run_id"]
            history = frame.filter(pl.col("snapshot_date") < last_day).select(columns)
            con.register("history", history.to_arrow())
            con.execute(f"insert into staging.{table} by name select * from history")
            con.unregister("history")
            if (last_day - world.start).days < world.days:  # a chunk holding day D
                # One such chunk per block of accounts: the night is all of them.
                night_rows[table].append(
                    frame.filter(pl.col("snapshot_date") == last_day).select(columns)
                )
        loaded += time.perf_counter() - began
        began = time.perf_counter()
    for table, frames in night_rows.items():
        pl.concat(frames).write_parquet(warehouse.with_suffix(f".{table}.parquet"))
    counts = dict(
        con.execute(
            "select 'followers', count(*) from staging.follower_snapshots union all select 'posts', count(*) from staging.post_snapshots"
        ).fetchall()
    )
    con.execute("checkpoint")
    con.close()
    return {"simulate_s": round(simulated, 1), "load_s": round(loaded, 1), "rows": counts}


def phase_limits() -> DuckDBLimits:
    """DuckDB's limits for a phase's connections: the settings' (INFLOW_DUCKDB_* in the
    environment the harness passes to the phase's process), as a deployment would set them."""
    from flows.settings import Settings

    return Settings().duckdb_limits()


def spill_paths(warehouse: Path, limits: DuckDBLimits) -> list[Path]:
    """Where a phase's spill goes: DuckDB's temporary directory (`<file>.tmp` unless set) and
    the rebuild's spilled inputs (inflow-* folders in the same place, else next to the file)."""
    from warehouse.marts import spill_folder_of

    folder = spill_folder_of(warehouse, limits.temp_directory)
    duckdb_temp = folder if limits.temp_directory else warehouse.with_name(warehouse.name + ".tmp")
    return [duckdb_temp, *folder.glob("inflow-*")]


def full(warehouse: Path) -> dict:
    from flows.transform import rebuild
    from warehouse.connect import connect

    limits = phase_limits()
    con = connect(warehouse, limits=limits)
    began = time.perf_counter()
    with PeakDiskUse(lambda: spill_paths(warehouse, limits)) as spill:
        summary = rebuild(con, "full", None, DEFAULT, 7, "bench-full")
    seconds = time.perf_counter() - began
    con.execute("checkpoint")
    con.close()
    from warehouse.publish import publish

    # The history's published state, as readers had it before the night (a full copy).
    began = time.perf_counter()
    publish(warehouse, warehouse.parent / "published", keep=KEPT_STATES, limits=limits)
    published = time.perf_counter() - began
    # A second state (nothing changed: a copy of the first), so that the night's publish runs
    # as every night after the first few does: it brings the state due for deletion up to date.
    # (A publish with unchanged marts replaces the current state rather than adding one, so
    # the copy is made as a later state file and pointed at, as a real second night leaves it.)
    from warehouse.publish import _point_published_at, current_state

    published_dir = warehouse.parent / "published"
    first = current_state(published_dir)
    assert first is not None
    second = first.with_name(f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.duckdb")
    shutil.copyfile(first, second)
    _point_published_at(second, published_dir)
    return {
        "seconds": round(seconds, 1),
        "rows": summary.rows,
        "steps": summary.steps,
        "publish_s": round(published, 2),
        "spill_mb": spill.peak_mb,
    }


def _copy_published(source: Path, target: Path) -> None:
    """The published folder's states, with the hard link that says which is current."""
    from warehouse.publish import PUBLISHED_NAME, STATES, current_state, published_states

    current = current_state(source)
    (target / STATES).mkdir(parents=True)
    for state in published_states(source):
        shutil.copy(state, target / STATES / state.name)
    os.link(target / STATES / current.name, target / PUBLISHED_NAME)


def load_new_day(con, warehouse: Path, *, next_month: bool = False) -> tuple[float, int, int]:
    """The setup's day D through ingest's load path: (seconds, follower rows, post rows).

    `next_month`: day D's rows moved so that the earliest post they snapshot was published on
    the first day of the month after D (posts under ids of their own; with a post window of 3,
    the follower day is the 4th): the first night of that month whose export holds no post of
    the month before, whose first month is the new one (it makes that month's set of kept
    scorecard rows: warehouse.marts.KeptRows)."""
    import polars as pl
    import pyarrow as pa

    from ingestion.batch import REJECTED_SCHEMA
    from schemas.tables import ACCOUNT
    from warehouse.load import Batch, load_batch

    # An ingest run of its own for each: a run already transformed is not pending any more.
    run_id = "month-night" if next_month else "night"
    followers = pl.read_parquet(warehouse.with_suffix(".follower_snapshots.parquet")).with_columns(
        pl.lit(run_id).alias("ingest_run_id")
    )
    posts = pl.read_parquet(warehouse.with_suffix(".post_snapshots.parquet")).with_columns(
        pl.lit(run_id).alias("ingest_run_id")
    )
    if next_month:
        day = followers["snapshot_date"].max()
        first = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        earliest = posts["published_at"].dt.date().min() if posts.height else day
        shift = first - earliest
        moved = [pl.col(c) + shift for c in ("snapshot_date", "captured_at")]
        followers = followers.with_columns(moved)
        posts = posts.with_columns(
            *moved, pl.col("published_at") + shift, ("m" + pl.col("post_id")).alias("post_id")
        )
    files = pa.table(
        {
            "path": pa.array([], pa.string()),
            "sha256": pa.array([], pa.string()),
            "bytes": pa.array([], pa.int64()),
            "status": pa.array([], pa.string()),
            "rows_read": pa.array([], pa.int64()),
            "rows_loaded": pa.array([], pa.int64()),
            "rows_quarantined": pa.array([], pa.int64()),
        }
    )
    batch = Batch(
        run_id,
        followers.to_arrow(),
        posts.to_arrow(),
        ACCOUNT.empty_table(),
        REJECTED_SCHEMA.empty_table(),
        files,
    )
    began = time.perf_counter()
    load_batch(con, batch, datetime.now(UTC))
    # Written into the file, as an ingest run's end does (warehouse.connect.kept_open, closed):
    # else the transform's commit would write the day's staged rows and count them as its own.
    con.execute("checkpoint")
    return time.perf_counter() - began, followers.height, posts.height


def night(warehouse: Path) -> dict:
    from flows.transform import rebuild
    from warehouse.connect import connect

    limits = phase_limits()
    con = connect(warehouse, limits=limits)
    loaded, follower_rows, post_rows = load_new_day(con, warehouse)
    began = time.perf_counter()
    with PeakDiskUse(lambda: spill_paths(warehouse, limits)) as spill:
        summary = rebuild(con, "incremental", None, DEFAULT, 7, "bench-night")
    seconds = time.perf_counter() - began
    con.close()
    from warehouse.publish import PUBLISHED_NAME, publish, published_states

    oldest = published_states(warehouse.parent / "published")[0].stat().st_ino
    began = time.perf_counter()
    publish(warehouse, warehouse.parent / "published", keep=KEPT_STATES, limits=limits)
    published = time.perf_counter() - began
    in_place = (warehouse.parent / "published" / PUBLISHED_NAME).stat().st_ino == oldest
    return {
        "publish_in_place": in_place,
        "load_s": round(loaded, 2),
        "seconds": round(seconds, 2),
        "publish_s": round(published, 2),
        "spill_mb": spill.peak_mb,
        "accounts": summary.accounts,
        "steps": summary.steps,
        "new_follower_rows": follower_rows,
        "new_post_rows": post_rows,
    }


def month_night(warehouse: Path) -> dict:
    """The first night of the next month after a night (load_new_day's `next_month`): its load
    and incremental transform, on the warehouse as the night left it."""
    from flows.transform import rebuild
    from warehouse.connect import connect

    con = connect(warehouse, limits=phase_limits())
    loaded, follower_rows, post_rows = load_new_day(con, warehouse, next_month=True)
    began = time.perf_counter()
    summary = rebuild(con, "incremental", None, DEFAULT, 7, "bench-month-night")
    seconds = time.perf_counter() - began
    con.close()
    return {
        "load_s": round(loaded, 2),
        "seconds": round(seconds, 2),
        "first_day": str(summary.first_day),
        "accounts": summary.accounts,
        "steps": summary.steps,
        "new_follower_rows": follower_rows,
        "new_post_rows": post_rows,
    }


def _args(accounts: int, days: int, post_window: int, warehouse: Path) -> list[str]:
    return [
        "--accounts",
        str(accounts),
        "--days",
        str(days),
        "--post-window",
        str(post_window),
        "--warehouse",
        str(warehouse),
    ]


def prepared_history(
    accounts: int, days: int, post_window: int, workdir: Path, keep_setup: Path | None = None
) -> dict:
    """Days 1..D-1 in staging and their marts built (a full rebuild, timed): the night's start.

    `keep_setup`: a folder keeping the staged history between runs (a million accounts take a
    quarter of an hour to simulate): reused when its parameters match, else written there.
    """
    warehouse = workdir / "history.duckdb"
    extra = _args(accounts, days, post_window, warehouse)
    if keep_setup is None:
        setup_result = run_phase("bench.transforms", "--phase", "setup", *extra)
    else:
        setup_result = _kept_setup(keep_setup, accounts, days, post_window)
        copy_staged(keep_setup, warehouse)
    full_result = run_phase("bench.transforms", "--phase", "full", *extra)
    full_result["warehouse_mb"] = round(warehouse.stat().st_size / 2**20)
    # The scorecard rows kept beside the file for the nights (warehouse.marts.KeptRows).
    kept = warehouse.with_name(warehouse.name + ".scorecard-rows")
    full_result["scorecard_rows_mb"] = round(
        sum(f.stat().st_size for f in kept.rglob("*") if f.is_file()) / 2**20
    )
    full_result["published_mb"] = round(
        (workdir / "published" / "inflow.duckdb").stat().st_size / 2**20
    )
    return {"warehouse": warehouse, "setup": setup_result, "full": full_result, "args": extra}


def copy_staged(folder: Path, warehouse: Path) -> None:
    """A kept setup's staged warehouse and its night's files, copied as `warehouse`."""
    for kept in folder.glob("staged.*"):
        shutil.copy(kept, warehouse.with_name(kept.name.replace("staged", warehouse.stem, 1)))


def _kept_setup(folder: Path, accounts: int, days: int, post_window: int) -> dict:
    """The staged history kept in `folder` for these parameters, set up there if it is not."""
    record = folder / "setup.json"
    parameters = {
        "accounts": accounts,
        "days": days,
        "post_window": post_window,
        # Raised when what setup writes changes, so a kept setup of an older one is redone
        # (2: day D of every block of accounts, where 1 kept only the last block's).
        "setup_version": SETUP_VERSION,
    }
    if record.exists():
        kept = json.loads(record.read_text())
        if kept["parameters"] == parameters:
            # Measured when the kept setup was written, not in this run: say so.
            return {**kept["result"], "reused": True}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    staged = folder / "staged.duckdb"
    result = run_phase(
        "bench.transforms", "--phase", "setup", *_args(accounts, days, post_window, staged)
    )
    record.write_text(json.dumps({"parameters": parameters, "result": result}))
    return result


def nights(history: dict, repeat: int) -> dict:
    """One new day (load + incremental transform + publish), `repeat` times: on copies, and the
    last on the history itself (at a million accounts a copy is tens of GB of disk)."""
    runs = []
    for number in range(repeat - 1):
        copy = history["warehouse"].parent / f"night-{number}" / "w.duckdb"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(history["warehouse"], copy)
        _copy_published(history["warehouse"].parent / "published", copy.parent / "published")
        for table in ("follower_snapshots", "post_snapshots"):
            shutil.copy(
                history["warehouse"].with_suffix(f".{table}.parquet"),
                copy.with_suffix(f".{table}.parquet"),
            )
        args = [*history["args"][:-1], str(copy)]
        runs.append(run_phase("bench.transforms", "--phase", "night", *args))
        shutil.rmtree(copy.parent)
    runs.append(run_phase("bench.transforms", "--phase", "night", *history["args"]))
    return {
        "runs": repeat,
        "load_s": median([r["load_s"] for r in runs]),
        "transform_s": median([r["seconds"] for r in runs]),
        "publish_s": median([r["publish_s"] for r in runs]),
        "publish_in_place": all(r["publish_in_place"] for r in runs),
        "spill_mb": max(r["spill_mb"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        # Each step's median over the runs (TransformSummary.steps).
        "steps": {name: median([r["steps"][name] for r in runs]) for name in runs[0]["steps"]},
        "accounts": runs[0]["accounts"],
        "new_follower_rows": runs[0]["new_follower_rows"],
        "new_post_rows": runs[0]["new_post_rows"],
    }


def run(accounts: int, days: int, post_window: int, repeat: int) -> dict:
    """Full rebuild of D days (baseline) versus an incremental night on D-1 days."""
    workdir = Path(tempfile.mkdtemp(prefix="inflow-transform-bench-"))
    try:
        history = prepared_history(accounts, days, post_window, workdir)
        night = nights(history, repeat)
        rows = history["setup"]["rows"]
        return {
            "accounts": accounts,
            "days": days,
            "post_window": post_window,
            "follower_rows": rows["followers"] + night["new_follower_rows"],
            "post_rows": rows["posts"] + night["new_post_rows"],
            "setup": history["setup"],
            "full_s": history["full"]["seconds"],
            "full_publish_s": history["full"]["publish_s"],
            "full_peak_rss_mb": history["full"]["peak_rss_mb"],
            "full_spill_mb": history["full"]["spill_mb"],
            "night": night,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--post-window", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--phase",
        choices=["setup", "full", "night", "month-night"],
        help="one phase (default: the whole suite)",
    )
    parser.add_argument("--warehouse", type=Path, help="the phase's warehouse")
    args = parser.parse_args()
    if args.phase is None:
        print_result(run(args.accounts, args.days, args.post_window, args.repeat))
        return
    if args.warehouse is None:
        parser.error("--phase needs --warehouse")
    result = {
        "setup": lambda: setup(args.warehouse, args.accounts, args.days, args.post_window),
        "full": lambda: full(args.warehouse),
        "night": lambda: night(args.warehouse),
        "month-night": lambda: month_night(args.warehouse),
    }[args.phase]()
    print_result(result)


if __name__ == "__main__":
    main()
