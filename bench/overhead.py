"""Framework overhead of a tiny nightly run: what it costs before any data is touched.

    python -m bench.harness --only overhead        (sizes in bench/harness.py)

Times, each in fresh processes and as the median of `repeat` runs: importing each library;
`inflow --help` (Python start and the CLI's imports); Prefect's temporary server start (what
`inflow run` pays when no PREFECT_API_URL is set); and `inflow run` end to end on a tiny
landing folder (fresh warehouse and Prefect home each time). What the tiny run spends beyond
the server start and the imports is the pipeline's own work plus Prefect's per-task cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import median, print_result

LIBRARIES = ("duckdb", "polars", "pyarrow", "prefect", "great_expectations")
SERVER_START = (
    "import time\n"
    "t = time.perf_counter()\n"
    "from prefect.testing.utilities import prefect_test_harness\n"
    "with prefect_test_harness(server_startup_timeout=120):\n"
    "    print(time.perf_counter() - t)\n"
)


def _python_seconds(code: str, env: dict | None = None) -> float:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return float(done.stdout.strip().splitlines()[-1])


def _timed(command: list[str], **kwargs) -> float:
    began = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, **kwargs)
    return time.perf_counter() - began


def run(accounts: int, days: int, repeat: int) -> dict:
    inflow = str(Path(sys.executable).parent / "inflow")
    workdir = Path(tempfile.mkdtemp(prefix="inflow-overhead-bench-"))
    try:
        imports = {
            library: median(
                [
                    _python_seconds(
                        f"import time; t = time.perf_counter(); import {library}; "
                        "print(time.perf_counter() - t)"
                    )
                    for _ in range(repeat)
                ]
            )
            for library in LIBRARIES
        }
        cli_help = median([_timed([inflow, "--help"]) for _ in range(repeat)])
        server_runs = []
        for number in range(repeat):
            home = workdir / f"prefect-home-{number}"
            server_runs.append(
                _python_seconds(SERVER_START, os.environ | {"PREFECT_HOME": str(home)})
            )
        landing = workdir / "landing"
        subprocess.run(
            [
                inflow,
                "generate",
                "--out",
                str(landing),
                "--accounts",
                str(accounts),
                "--days",
                str(days),
            ],
            capture_output=True,
            check=True,
        )
        nightly_runs = []
        for number in range(repeat):
            run_dir = workdir / f"run-{number}"
            run_dir.mkdir()
            environment = os.environ | {
                "PREFECT_HOME": str(run_dir / "prefect-home"),
                "INFLOW_PUBLISHED": str(run_dir / "published"),
            }
            nightly_runs.append(
                _timed(
                    [
                        inflow,
                        "run",
                        "--landing",
                        str(landing),
                        "--warehouse",
                        str(run_dir / "w.duckdb"),
                    ],
                    cwd=run_dir,
                    env=environment,
                )
            )
        files = sum(1 for p in landing.rglob("*") if p.is_file() and "_generator" not in p.parts)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    nightly = median(nightly_runs)
    server = median(server_runs)
    return {
        "runs": repeat,
        "accounts": accounts,
        "days": days,
        "files": files,
        "imports_s": imports,
        "cli_help_s": cli_help,
        "prefect_server_start_s": server,
        "tiny_nightly_s": nightly,
        "tiny_nightly_beyond_server_and_cli_s": round(nightly - server - cli_help, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_result(run(args.accounts, args.days, args.repeat))


if __name__ == "__main__":
    main()
