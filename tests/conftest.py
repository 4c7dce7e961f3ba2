"""Shared fixtures: an offline Prefect API, generated landing folders, warehouse readers."""

from __future__ import annotations

import contextlib
import os
import signal
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import flows  # noqa: F401  (first: it sets the environment in which nothing phones home)

# pytest-xdist's workers export COLUMNS=80, which the CLI honours as the terminal's width; a
# test that cares about the width sets it, the others get what a pipe gets.
os.environ.pop("COLUMNS", None)

START = date(2026, 1, 1)


@pytest.fixture(scope="session")
def prefect_api():
    """A temporary local Prefect server for flows run in-process (one per test worker)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def published_marts(tmp_path_factory, prefect_api) -> Path:
    """One published warehouse for the reader-side tests (BI, export, report).

    Modules using it share an xdist group, so that one worker builds it once.
    """
    return published_warehouse(tmp_path_factory, accounts=150, days=75, seed=21)


def read_table(warehouse: Path, sql: str) -> pl.DataFrame:
    """Run a read-only query on a warehouse file and return a Polars frame."""
    from warehouse.connect import connect

    con = connect(warehouse, read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def generated_landing(
    factory, *, accounts: int, days: int, seed: int, faults: bool = False
) -> Path:
    """A landing folder written by the generator, on every platform from START."""
    from sample import simulate as sim
    from sample.landing import generate_landing

    landing = factory.mktemp("landing")
    generate_landing(
        landing,
        accounts=accounts,
        days=days,
        seed=seed,
        start=START,
        platforms=sim.PLATFORMS_ALL,
        faults=faults,
    )
    return landing


def built_warehouse(
    factory, *, accounts: int, days: int, seed: int, faults: bool = False
) -> tuple[Path, Path]:
    """A generated landing folder ingested and transformed by the real flows: (landing, warehouse).

    Needs the `prefect_api` fixture active.
    """
    from flows.ingest import ingest
    from flows.transform import transform

    landing = generated_landing(factory, accounts=accounts, days=days, seed=seed, faults=faults)
    warehouse = factory.mktemp("wh") / "w.duckdb"
    ingest(landing=landing, warehouse=warehouse)
    transform(warehouse=warehouse)
    return landing, warehouse


def published_warehouse(factory, *, accounts: int, days: int, seed: int) -> Path:
    """A generated landing folder through the real nightly flow: the published file readers open.

    Needs the `prefect_api` fixture active.
    """
    from flows.nightly import nightly
    from warehouse.publish import PUBLISHED_NAME

    landing = generated_landing(factory, accounts=accounts, days=days, seed=seed)
    root = factory.mktemp("published_wh")
    nightly(landing=landing, warehouse=root / "w.duckdb", published_dir=root / "published")
    return root / "published" / PUBLISHED_NAME


def reap_process_group(pid: int) -> None:
    """Kill what is left of the process group `pid` leads (a process started with
    start_new_session=True): a killed or stopped `inflow` can leave its temporary Prefect
    server running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def owned_processes(owner: int) -> list[int]:
    """Processes carrying the mark of the `inflow` process `owner` (cli/watchdog.py): its
    children, its temporary Prefect server among them."""
    mark = f"INFLOW_OWNER_PID={owner}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == owner:
            continue
        try:
            if mark in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def leftover_servers(root: Path) -> list[int]:
    """Processes that run uvicorn (a Prefect server) from a folder under `root`: what a test's
    `inflow` process left behind when it was killed or stopped without stopping its server."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if b"uvicorn" in command and cwd.is_relative_to(root):
            found.append(int(proc.name))
    return found


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a test left a Prefect server running under the tests' temp folders
    (and stop it): after an xdist run, in the controller, once every worker has ended."""
    if hasattr(session.config, "workerinput"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    root = factory.getbasetemp()
    left = leftover_servers(root)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(
            f"tests left {len(left)} Prefect server(s) running under {root} "
            f"(pids {', '.join(map(str, left))}): stopped, and the run fails",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
