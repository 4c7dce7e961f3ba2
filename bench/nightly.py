"""The nightly run's cost as history grows: it must stay flat, and small next to a rebuild.

    python -m bench.harness --only nightly        (sizes in bench/harness.py)

For each history length D: simulate D days, load days 1..D-1 straight into staging and build
their marts with a full rebuild (timed: the baseline), then run one new day `repeat` times on
copies of that warehouse: the day's load through the ingest load path, the incremental
transform (every account is touched: each gets a snapshot every day) and the publish, each in
a fresh process with its own peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from bench.common import print_result, run_phase
from bench.transforms import nights, prepared_history


def run(
    accounts: int,
    history_days: list[int],
    post_window: int,
    repeat: int,
    duckdb_memory_limit: str | None = None,
    keep_setup: Path | None = None,
    month_night: bool = False,
) -> dict:
    results: dict = {"accounts": accounts, "post_window": post_window, "histories": {}}
    if duckdb_memory_limit:
        # Every phase's connections (bench.transforms.phase_limits reads it from the settings),
        # as a deployment would set it.
        os.environ["INFLOW_DUCKDB_MEMORY_LIMIT"] = duckdb_memory_limit
        results["duckdb_memory_limit"] = duckdb_memory_limit
    for days in history_days:
        workdir = Path(tempfile.mkdtemp(prefix=f"inflow-nightly-bench-{days}-"))
        try:
            kept = keep_setup / f"{accounts}-{days}" if keep_setup else None
            history = prepared_history(accounts, days, post_window, workdir, kept)
            night = nights(history, repeat)
            # After the last night, on the history it left: the next month's first night.
            first_of_month = (
                run_phase("bench.transforms", "--phase", "month-night", *history["args"])
                if month_night
                else None
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        rows = history["setup"]["rows"]
        results["histories"][days] = {
            "follower_rows": rows["followers"],
            "post_rows": rows["posts"],
            "full_s": history["full"]["seconds"],
            "full_publish_s": history["full"]["publish_s"],
            "full_peak_rss_mb": history["full"]["peak_rss_mb"],
            "full_spill_mb": history["full"]["spill_mb"],
            "setup": history["setup"],
            "warehouse_mb": history["full"]["warehouse_mb"],
            "scorecard_rows_mb": history["full"].get("scorecard_rows_mb"),
            "published_mb": history["full"]["published_mb"],
            "night": night,
        }
        if first_of_month is not None:
            results["histories"][days]["month_night"] = first_of_month
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--history-days", default="30,90,180,365")
    parser.add_argument("--post-window", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--duckdb-memory-limit",
        help="DuckDB memory_limit of every phase, e.g. 4GB (default: DuckDB's)",
    )
    parser.add_argument(
        "--keep-setup",
        type=Path,
        help="folder keeping the simulated staging between runs (reused when parameters match)",
    )
    parser.add_argument(
        "--month-night",
        action="store_true",
        help="after the nights, time the first night of the next month too",
    )
    args = parser.parse_args()
    days = [int(d) for d in args.history_days.split(",")]
    print_result(
        run(
            args.accounts,
            days,
            args.post_window,
            args.repeat,
            args.duckdb_memory_limit,
            args.keep_setup,
            args.month_night,
        )
    )


if __name__ == "__main__":
    main()
