"""Transforms at scale: a full mart rebuild versus one incremental night, same warehouse, same run.

    python -m bench.transform_scale --accounts 50000 --days 200 --post-window 3

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
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

START = date(2025, 1, 1)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(warehouse: Path, accounts: int, days: int, post_window: int) -> dict:
    import polars as pl

    from flows.generator.simulate import simulate
    from schemas.tables import FOLLOWER_SNAPSHOT, POST_SNAPSHOT
    from warehouse.connect import connect
    from warehouse.schema import apply_ddl

    began = time.perf_counter()
    world = simulate(accounts, days, seed=3, start=START, post_window_days=post_window)
    simulated = time.perf_counter() - began
    capture = pl.col("snapshot_date").cast(pl.Datetime("us")).dt.replace_time_zone(
        "UTC"
    ) + pl.duration(hours=3)
    lineage = [
        pl.lit("bench").alias("source_file"),
        pl.lit("0").alias("source_sha256"),
        pl.lit(1, pl.Int64).alias("source_row"),
        pl.lit("bench").alias("ingest_run_id"),
    ]
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
        *lineage,
    )
    posts = posts.with_columns(pl.col("media_type").str.to_lowercase())
    last_day = START.fromordinal(START.toordinal() + days - 1)
    con = connect(warehouse)
    apply_ddl(con)
    for table, frame, schema in (
        ("follower_snapshots", followers, FOLLOWER_SNAPSHOT),
        ("post_snapshots", posts, POST_SNAPSHOT),
    ):
        columns = [*schema.names, "source_file", "source_sha256", "source_row", "ingest_run_id"]
        history = frame.filter(pl.col("snapshot_date") < last_day).select(columns)
        con.register("history", history.to_arrow())
        con.execute(f"insert into staging.{table} by name select * from history")
        con.unregister("history")
        frame.filter(pl.col("snapshot_date") == last_day).select(columns).write_parquet(
            warehouse.with_suffix(f".{table}.parquet")
        )
    counts = dict(
        con.execute(
            "select 'followers', count(*) from staging.follower_snapshots union all select 'posts', count(*) from staging.post_snapshots"
        ).fetchall()
    )
    con.execute("checkpoint")
    con.close()
    return {
        "simulate_s": round(simulated, 1),
        "load_s": round(time.perf_counter() - began - simulated, 1),
        "rows": counts,
    }


def full(warehouse: Path) -> dict:
    from flows.transform import rebuild
    from warehouse.connect import connect

    con = connect(warehouse)
    began = time.perf_counter()
    summary = rebuild(con, "full", None, "default", 7, "bench-full")
    seconds = time.perf_counter() - began
    con.execute("checkpoint")
    con.close()
    return {"seconds": round(seconds, 1), "rows": summary.rows}


def night(warehouse: Path) -> dict:
    import polars as pl
    import pyarrow as pa

    from flows.batch import REJECTED_SCHEMA
    from flows.transform import rebuild
    from schemas.tables import ACCOUNT
    from warehouse.connect import connect
    from warehouse.load import Batch, load_batch

    followers = pl.read_parquet(warehouse.with_suffix(".follower_snapshots.parquet")).with_columns(
        pl.lit("night").alias("ingest_run_id")
    )
    posts = pl.read_parquet(warehouse.with_suffix(".post_snapshots.parquet")).with_columns(
        pl.lit("night").alias("ingest_run_id")
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
        "night",
        followers.to_arrow(),
        posts.to_arrow(),
        ACCOUNT.empty_table(),
        REJECTED_SCHEMA.empty_table(),
        files,
    )
    con = connect(warehouse)
    began = time.perf_counter()
    load_batch(con, batch, datetime.now(UTC))
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    summary = rebuild(con, "incremental", None, "default", 7, "bench-night")
    seconds = time.perf_counter() - began
    con.close()
    return {
        "load_s": round(loaded, 1),
        "seconds": round(seconds, 1),
        "accounts": summary.accounts,
        "new_follower_rows": followers.height,
        "new_post_rows": posts.height,
    }


def _phase(name: str, warehouse: Path, extra: list[str]) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.transform_scale",
            "--phase",
            name,
            "--warehouse",
            str(warehouse),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--post-window", type=int, default=3)
    parser.add_argument("--phase", choices=["setup", "full", "night"])
    parser.add_argument("--warehouse", type=Path)
    args = parser.parse_args()
    if args.phase:
        result = {
            "setup": lambda: setup(args.warehouse, args.accounts, args.days, args.post_window),
            "full": lambda: full(args.warehouse),
            "night": lambda: night(args.warehouse),
        }[args.phase]()
        result["peak_rss_mb"] = round(_peak_rss_mb())
        print(json.dumps(result, default=str))
        return
    workdir = Path(tempfile.mkdtemp(prefix="inflow-transform-bench-"))
    warehouse = workdir / "bench.duckdb"
    extra = [
        "--accounts",
        str(args.accounts),
        "--days",
        str(args.days),
        "--post-window",
        str(args.post_window),
    ]
    print(
        f"machine: {os.cpu_count()} cores; {args.accounts:,} accounts x {args.days} days, posts tracked {args.post_window} days"
    )
    setup_result = _phase("setup", warehouse, extra)
    print(f"setup: {json.dumps(setup_result)}", flush=True)
    full_result = _phase("full", warehouse, extra)
    print(
        f"full rebuild over {args.days - 1} days: {full_result['seconds']} s, peak RSS {full_result['peak_rss_mb']} MB",
        flush=True,
    )
    night_result = _phase("night", warehouse, extra)
    print(
        f"incremental night (+1 day): load {night_result['load_s']} s, transform {night_result['seconds']} s, peak RSS {night_result['peak_rss_mb']} MB, {night_result['accounts']:,} accounts",
        flush=True,
    )
    baseline = _phase("full", warehouse, extra)
    print(
        f"full rebuild over {args.days} days (baseline): {baseline['seconds']} s, peak RSS {baseline['peak_rss_mb']} MB"
    )
    print(
        "| follower snapshots | post snapshots | full rebuild s | full peak RSS MB | nightly incremental s | nightly peak RSS MB | incremental / full |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rows = setup_result["rows"]
    print(
        f"| {rows['followers'] + night_result['new_follower_rows']:,} | {rows['posts'] + night_result['new_post_rows']:,} | {baseline['seconds']} | {baseline['peak_rss_mb']} | {night_result['seconds']} | {night_result['peak_rss_mb']} | {night_result['seconds'] / baseline['seconds']:.2f} |"
    )


if __name__ == "__main__":
    main()
