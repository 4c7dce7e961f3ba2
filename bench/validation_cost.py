"""Validation cost of a nightly batch next to the cost of ingesting it, in the same run.

    python -m bench.validation_cost --accounts 20000 --days 30

Ingests days 1..D-1 and transforms, then lands day D and times: its ingest, its transform and
its validation (new staged rows + recent marts), each as the flow a nightly run calls.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from flows.generator.landing import generate_landing
    from flows.generator.simulate import PLATFORMS_ALL
    from flows.ingest import ingest
    from flows.transform import transform
    from flows.validate import validate

    workdir = Path(tempfile.mkdtemp(prefix="inflow-validation-bench-"))
    start = date(2026, 1, 1)
    last_day = (start + timedelta(days=args.days - 1)).isoformat()
    generated = workdir / "generated"
    generate_landing(
        generated,
        accounts=args.accounts,
        days=args.days,
        seed=5,
        start=start,
        platforms=PLATFORMS_ALL,
    )
    history, night = workdir / "landing", workdir / "night"
    for path in generated.rglob("*.*"):
        relative = path.relative_to(generated)
        target = (night if last_day in str(relative) else history) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    warehouse = workdir / "w.duckdb"
    with prefect_test_harness(server_startup_timeout=120):
        ingest(landing=history, warehouse=warehouse)
        transform(warehouse=warehouse)
        validate(warehouse=warehouse, today=date.fromisoformat(last_day))
        shutil.copytree(night, history, dirs_exist_ok=True)
        timings = {}
        began = time.perf_counter()
        summary = ingest(landing=history, warehouse=warehouse)
        timings["ingest"] = time.perf_counter() - began
        began = time.perf_counter()
        transform(warehouse=warehouse)
        timings["transform"] = time.perf_counter() - began
        began = time.perf_counter()
        quality = validate(warehouse=warehouse, today=date.fromisoformat(last_day))
        timings["validate"] = time.perf_counter() - began
    print(
        f"nightly batch: {summary.files_loaded} files, {summary.rows_read:,} rows; {len(quality.results)} checks"
    )
    print("| step | seconds | vs ingest |")
    print("| --- | --- | --- |")
    for step, seconds in timings.items():
        print(f"| {step} | {seconds:.1f} | {seconds / timings['ingest']:.2f}x |")


if __name__ == "__main__":
    main()
