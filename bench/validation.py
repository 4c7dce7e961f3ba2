"""great-expectations cost of a nightly batch next to the cost of ingesting it, in the same run.

    python -m bench.harness --only validation        (sizes in bench/harness.py)

Ingests days 1..D-1, transforms and validates them, then lands day D and times, as the flows a
nightly run calls: its ingest, its transform and its validation (the new staged rows and the
recent marts: 38 checks and Data Docs). Validation is repeated on copies of the warehouse
(a validated batch is not validated again) and the median taken.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import median, print_result


def run(accounts: int, days: int, repeat: int) -> dict:
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import ingest
    from flows.transform import transform
    from flows.validate import validate
    from sample.landing import generate_landing
    from sample.simulate import PLATFORMS_ALL

    workdir = Path(tempfile.mkdtemp(prefix="inflow-validation-bench-"))
    try:
        start = date(2026, 1, 1)
        last_day = start + timedelta(days=days - 1)
        generated = workdir / "generated"
        generate_landing(
            generated, accounts=accounts, days=days, seed=5, start=start, platforms=PLATFORMS_ALL
        )
        history, night = workdir / "landing", workdir / "night"
        for path in generated.rglob("*.*"):
            relative = path.relative_to(generated)
            target = (night if last_day.isoformat() in str(relative) else history) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
        warehouse = workdir / "w.duckdb"
        with prefect_test_harness(server_startup_timeout=120):
            ingest(landing=history, warehouse=warehouse)
            transform(warehouse=warehouse)
            validate(warehouse=warehouse, today=last_day)
            shutil.copytree(night, history, dirs_exist_ok=True)
            began = time.perf_counter()
            summary = ingest(landing=history, warehouse=warehouse)
            ingest_s = time.perf_counter() - began
            began = time.perf_counter()
            transform(warehouse=warehouse)
            transform_s = time.perf_counter() - began
            validate_runs, checks = [], 0
            for number in range(repeat):
                copy = workdir / f"copy-{number}" / "w.duckdb"
                copy.parent.mkdir()
                shutil.copy(warehouse, copy)
                began = time.perf_counter()
                quality = validate(warehouse=copy, today=last_day)
                validate_runs.append(time.perf_counter() - began)
                checks = len(quality.results)
                shutil.rmtree(copy.parent)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    validate_s = median(validate_runs)
    return {
        "accounts": accounts,
        "days": days,
        "runs": repeat,
        "batch_files": summary.files_loaded,
        "batch_rows": summary.rows_read,
        "checks": checks,
        "ingest_s": round(ingest_s, 2),
        "transform_s": round(transform_s, 2),
        "validate_s": validate_s,
        "validate_vs_ingest": round(validate_s / ingest_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_result(run(args.accounts, args.days, args.repeat))


if __name__ == "__main__":
    main()
