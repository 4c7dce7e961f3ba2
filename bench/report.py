"""`inflow report` at the issue's size: time to write it, its size, and time to draw it.

    python -m bench.harness --only report        (sizes in bench/harness.py)

Generates N creators × D days, runs the nightly flow once (ingest, validate, transform,
validate, publish), then times `write_report` on the published file (median of `repeat`) and
the page's load until every chart has drawn in headless Chromium (when /usr/bin/chromium is
there; `make browser` installs it).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import median, print_result

CHROMIUM = Path("/usr/bin/chromium")


def draw_seconds(page: Path) -> float | None:
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            tab = browser.new_page()
            began = time.perf_counter()
            tab.goto(page.resolve().as_uri())
            tab.wait_for_function(
                "window.inflowReport && window.inflowReport.rendered === window.inflowReport.expected",
                timeout=120_000,
            )
            return time.perf_counter() - began
        finally:
            browser.close()


def run(accounts: int, days: int, repeat: int) -> dict:
    from prefect.testing.utilities import prefect_test_harness

    from flows.nightly import nightly
    from report.render import write_report
    from sample.landing import generate_landing
    from sample.simulate import PLATFORMS_ALL
    from warehouse.publish import PUBLISHED_NAME

    workdir = Path(tempfile.mkdtemp(prefix="inflow-report-bench-"))
    try:
        landing = workdir / "landing"
        generate_landing(
            landing,
            accounts=accounts,
            days=days,
            seed=7,
            start=date(2026, 1, 1),
            platforms=PLATFORMS_ALL,
        )
        with prefect_test_harness(server_startup_timeout=120):
            nightly(
                landing=landing,
                warehouse=workdir / "w.duckdb",
                published_dir=workdir / "published",
            )
        published = workdir / "published" / PUBLISHED_NAME
        page = workdir / "report.html"
        writes = []
        for _ in range(repeat):
            began = time.perf_counter()
            write_report(published, page)
            writes.append(time.perf_counter() - began)
        draws = [draw_seconds(page) for _ in range(repeat)]
        size = page.stat().st_size
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "accounts": accounts,
        "days": days,
        "runs": repeat,
        "write_s": median(writes),
        "draw_s": None if draws[0] is None else median(draws),
        "megabytes": round(size / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_result(run(args.accounts, args.days, args.repeat))


if __name__ == "__main__":
    main()
