"""A real SIGKILL in the middle of a load: nothing half-written, the next run finishes the job."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from flows.ingest import ingest
from sample import simulate as sim
from sample.landing import generate_landing
from tests.conftest import START, owned_processes, read_table, reap_process_group
from tests.test_ingest import content

pytestmark = pytest.mark.slow
STAGING = (
    "staging.follower_snapshots",
    "staging.post_snapshots",
    "staging.accounts",
    "quarantine.rejected_rows",
)


def _inflow(args: list[str], tmp_path: Path, **env: str) -> subprocess.Popen:
    environment = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect-home"), **env}
    # -v: the test reads the flow's log lines ("loading batch 1/3") to time its kill.
    command = [str(Path(sys.executable).parent / "inflow"), "-v", *args]
    # A session of its own: the killed process's children (its temporary Prefect server) are
    # reaped with its group afterwards instead of outliving the test.
    return subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,
    )


# Run directly (the default without a Prefect API: batches commit to a WAL that one checkpoint
# writes at the end, warehouse.connect.kept_open) and through Prefect with its temporary
# server, which must die with the command (cli/watchdog.py).
@pytest.mark.parametrize("orchestration", ["direct", "prefect"])
def test_sigkill_mid_batch_leaves_no_partial_batch(tmp_path, prefect_api, orchestration):
    landing = tmp_path / "landing"
    generate_landing(
        landing,
        accounts=1500,
        days=24,
        seed=9,
        start=START,
        platforms=sim.PLATFORMS_ALL,
        faults=True,
    )
    warehouse = tmp_path / "killed.duckdb"
    process = _inflow(
        ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)],
        tmp_path,
        INFLOW_BATCH_MEGABYTES="6",
        INFLOW_ORCHESTRATION=orchestration,
    )
    batch_files: dict[int, int] = {}
    deadline = time.monotonic() + 240
    for line in process.stderr:
        match = re.search(r"loading batch (\d+)/(\d+): (\d+) files", line)
        if match:
            batch_files[int(match.group(1))] = int(match.group(3))
            assert int(match.group(2)) >= 3, "the landing must make several batches"
        if match and match.group(1) == "2":
            started = owned_processes(process.pid)  # its temporary Prefect server, running
            time.sleep(0.1)  # batch 2's transaction is under way (it takes a few hundred ms)
            process.send_signal(signal.SIGKILL)  # the command alone, not its process group
            break
        assert time.monotonic() < deadline
    process.wait(timeout=60)
    # What the command started dies with it (cli/watchdog.py), the server included.
    if orchestration == "prefect":
        assert started, "the command's temporary server carries its mark"
    else:
        assert not started, "run directly, the command starts no server"
    gone = time.monotonic() + 20
    while owned_processes(process.pid) and time.monotonic() < gone:
        time.sleep(0.2)
    assert owned_processes(process.pid) == []
    reap_process_group(process.pid)
    assert process.returncode == -signal.SIGKILL

    # The file opens and holds whole batches only: batch 1, and batch 2 only if it committed
    # before the kill landed.
    files = read_table(warehouse, "select path, status from meta.ingested_files")
    # (Duplicates found while planning are recorded with batch 1 but not counted in its line.)
    assert files.filter(pl.col("status") != "duplicate").height in {
        batch_files[1],
        batch_files[1] + batch_files[2],
    }
    loaded = set(files["path"])
    for table in ("staging.follower_snapshots", "staging.post_snapshots"):
        sources = set(
            read_table(warehouse, f"select distinct source_file from {table}")["source_file"]
        )
        assert sources <= loaded, table
    assert read_table(warehouse, "select status from meta.runs")["status"].to_list() == ["running"]

    # The next run finishes the job: the same contents as an uninterrupted run.
    rerun = _inflow(
        ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)],
        tmp_path,
        INFLOW_BATCH_MEGABYTES="6",
    )
    rerun.communicate(timeout=600)
    assert rerun.returncode in {0, 1}  # 1 when the planted unreadable files were not yet recorded
    reference = tmp_path / "reference.duckdb"
    ingest(landing=landing, warehouse=reference)
    for table in STAGING:
        assert content(warehouse, table).equals(content(reference, table)), table
    statuses = read_table(warehouse, "select status from meta.runs order by started_at")[
        "status"
    ].to_list()
    assert statuses == ["abandoned", "completed_with_errors"]
