"""The lake path (storage = "delta") beside the DuckDB path: full rebuild and night, same run.

    python -m bench.harness --only lake           (sizes in bench/harness.py)

For each history length D: the nightly suite's setup (days 1..D-1 staged, day D kept for the
night), then, on copies of that staged warehouse, each path's full rebuild with its publish,
and `repeat` nights (day D loaded through ingest's load path, the incremental transform, the
publish), every phase a fresh process with its own peak RSS. The lake phases run their
partitions in the flow's process (task_runner = "local"): on this 2-core machine a 2-worker
Dask cluster has no cores to add; what the lake path costs here is its commits and its
bridging of staging rows, which is what this suite measures.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import median, print_result, run_phase
from bench.transforms import (
    KEPT_STATES,
    _args,
    _kept_setup,
    copy_staged,
    load_new_day,
    nights,
    phase_limits,
    prepared_history,
)

BUCKETS = 256  # the default of lake_buckets


def _tree_mb(folder: Path) -> int:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20)


def full(warehouse: Path) -> dict:
    from flows.transform import rebuild
    from transforms.tiers import DEFAULT
    from warehouse.connect import connect
    from warehouse.lake import Lake
    from warehouse.lake_publish import publish_lake
    from warehouse.storage import LakeMarts

    lake = Lake(str(warehouse.parent / "lake"), BUCKETS)
    limits = phase_limits()
    con = connect(warehouse, limits=limits)
    began = time.perf_counter()
    summary = rebuild(con, "full", None, DEFAULT, 7, "bench-full", store=LakeMarts(lake))
    seconds = time.perf_counter() - began
    con.execute("checkpoint")
    con.close()
    began = time.perf_counter()
    publish_lake(warehouse, lake, warehouse.parent / "published", keep=KEPT_STATES, limits=limits)
    return {
        "seconds": round(seconds, 1),
        "rows": summary.rows,
        "publish_s": round(time.perf_counter() - began, 2),
        "lake_mb": _tree_mb(Path(lake.root)),
    }


def night(warehouse: Path) -> dict:
    from flows.transform import rebuild
    from transforms.tiers import DEFAULT
    from warehouse.connect import connect
    from warehouse.lake import Lake
    from warehouse.lake_publish import publish_lake
    from warehouse.storage import LakeMarts

    lake = Lake(str(warehouse.parent / "lake"), BUCKETS)
    limits = phase_limits()
    con = connect(warehouse, limits=limits)
    loaded, follower_rows, post_rows = load_new_day(con, warehouse)
    began = time.perf_counter()
    summary = rebuild(con, "incremental", None, DEFAULT, 7, "bench-night", store=LakeMarts(lake))
    seconds = time.perf_counter() - began
    con.close()
    began = time.perf_counter()
    publish_lake(warehouse, lake, warehouse.parent / "published", keep=KEPT_STATES, limits=limits)
    return {
        "load_s": round(loaded, 2),
        "seconds": round(seconds, 2),
        "publish_s": round(time.perf_counter() - began, 2),
        "accounts": summary.accounts,
        "new_follower_rows": follower_rows,
        "new_post_rows": post_rows,
    }


def _lake_history(staged: Path, workdir: Path, args: list[str]) -> dict:
    """The staged history copied to `workdir` and rebuilt onto a new lake (timed)."""
    warehouse = workdir / "history.duckdb"
    copy_staged(staged.parent, warehouse)
    result = run_phase("bench.lake", "--phase", "full", *args[:-1], str(warehouse))
    return {"warehouse": warehouse, "full": result, "args": [*args[:-1], str(warehouse)]}


def _lake_nights(history: dict, repeat: int) -> dict:
    """`repeat` nights, each on a copy of the history's warehouse, lake and published states."""
    runs = []
    source = history["warehouse"].parent
    for number in range(repeat):
        copy = source.parent / f"lake-night-{number}"
        shutil.copytree(source, copy)
        args = [*history["args"][:-1], str(copy / "history.duckdb")]
        try:
            runs.append(run_phase("bench.lake", "--phase", "night", *args))
        finally:
            shutil.rmtree(copy)
    return {
        "runs": repeat,
        "load_s": median([r["load_s"] for r in runs]),
        "transform_s": median([r["seconds"] for r in runs]),
        "publish_s": median([r["publish_s"] for r in runs]),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "accounts": runs[0]["accounts"],
    }


def run(accounts: int, history_days: list[int], post_window: int, repeat: int) -> dict:
    results: dict = {"accounts": accounts, "buckets": BUCKETS, "histories": {}}
    for days in history_days:
        workdir = Path(tempfile.mkdtemp(prefix=f"inflow-lake-bench-{days}-"))
        try:
            kept = workdir / "setup"
            setup = _kept_setup(kept, accounts, days, post_window)
            duckdb_dir = workdir / "duckdb"
            duckdb_dir.mkdir()
            history = prepared_history(accounts, days, post_window, duckdb_dir, kept)
            duckdb_night = nights(history, repeat)
            lake_dir = workdir / "lake-path"
            lake_dir.mkdir()
            args = _args(accounts, days, post_window, kept / "staged.duckdb")
            lake_history = _lake_history(kept / "staged.duckdb", lake_dir, args)
            lake_night = _lake_nights(lake_history, repeat)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        results["histories"][days] = {
            "follower_rows": setup["rows"]["followers"],
            "post_rows": setup["rows"]["posts"],
            "duckdb": {
                "full_s": history["full"]["seconds"],
                "full_publish_s": history["full"]["publish_s"],
                "full_peak_rss_mb": history["full"]["peak_rss_mb"],
                "night_s": duckdb_night["transform_s"],
                "night_publish_s": duckdb_night["publish_s"],
                "night_peak_rss_mb": duckdb_night["peak_rss_mb"],
            },
            "lake": {
                "full_s": lake_history["full"]["seconds"],
                "full_publish_s": lake_history["full"]["publish_s"],
                "full_peak_rss_mb": lake_history["full"]["peak_rss_mb"],
                "lake_mb": lake_history["full"]["lake_mb"],
                "night_s": lake_night["transform_s"],
                "night_publish_s": lake_night["publish_s"],
                "night_peak_rss_mb": lake_night["peak_rss_mb"],
            },
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--history-days", default="30,90,180,365")
    parser.add_argument("--post-window", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, help="(a phase's) history length")
    parser.add_argument("--phase", choices=["full", "night"], help="one phase of the lake path")
    parser.add_argument("--warehouse", type=Path, help="the phase's warehouse")
    args = parser.parse_args()
    if args.phase is None:
        days = [int(d) for d in args.history_days.split(",")]
        print_result(run(args.accounts, days, args.post_window, args.repeat))
        return
    if args.warehouse is None:
        parser.error("--phase needs --warehouse")
    print_result({"full": full, "night": night}[args.phase](args.warehouse))


if __name__ == "__main__":
    main()
