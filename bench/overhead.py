"""Framework overhead of a tiny nightly run: what it costs before any data is touched.

    python -m bench.harness --only overhead        (sizes in bench/harness.py)

Times, each in fresh processes and as the median of `repeat` runs: importing each library;
`inflow --help` (Python start and the CLI's imports); Prefect's temporary server start; and,
with the flows run directly (the default without a Prefect API) and through Prefect with its
temporary server, three commands: `inflow ingest` of an empty folder and `inflow transform`
with nothing pending (commands with nothing to do), and `inflow run` end to end on a tiny
landing folder (fresh warehouse and Prefect home each time).
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
# How the commands run their flows (flows.engine): directly (no Prefect API configured, the
# default) and through Prefect with its temporary server (`orchestration = "prefect"`).
MODES = ("direct", "prefect")
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
        commands: dict[str, dict[str, list[float]]] = {}
        for mode in MODES:
            times = commands.setdefault(
                mode, {"idle_ingest": [], "idle_transform": [], "tiny_run": []}
            )
            for number in range(repeat):
                run_dir = workdir / f"{mode}-{number}"
                (run_dir / "empty").mkdir(parents=True)
                environment = os.environ | {
                    "PREFECT_HOME": str(run_dir / "prefect-home"),
                    "INFLOW_PUBLISHED": str(run_dir / "published"),
                    "INFLOW_ORCHESTRATION": mode,
                }
                idle = [inflow, "ingest", "--landing", str(run_dir / "empty")]
                idle += ["--warehouse", str(run_dir / "idle.duckdb")]
                times["idle_ingest"].append(_timed(idle, cwd=run_dir, env=environment))
                again = [inflow, "transform", "--warehouse", str(run_dir / "idle.duckdb")]
                times["idle_transform"].append(_timed(again, cwd=run_dir, env=environment))
                nightly = [inflow, "run", "--landing", str(landing)]
                nightly += ["--warehouse", str(run_dir / "w.duckdb")]
                times["tiny_run"].append(_timed(nightly, cwd=run_dir, env=environment))
        files = sum(1 for p in landing.rglob("*") if p.is_file() and "_generator" not in p.parts)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "runs": repeat,
        "accounts": accounts,
        "days": days,
        "files": files,
        "imports_s": imports,
        "cli_help_s": cli_help,
        "prefect_server_start_s": median(server_runs),
        "commands_s": {
            mode: {name: median(values) for name, values in by_command.items()}
            for mode, by_command in commands.items()
        },
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
