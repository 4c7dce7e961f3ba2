"""The nightly run as a scheduler starts it: real processes, one at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.generator import simulate as sim
from flows.generator.landing import generate_landing
from tests.conftest import START, read_table

pytestmark = pytest.mark.slow


def _start_run(tmp_path: Path, name: str) -> subprocess.Popen:
    environment = os.environ | {"PREFECT_HOME": str(tmp_path / f"prefect-{name}")}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "inflow"), "run"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_nightly_runs_at_once_one_runs_the_other_refuses(tmp_path):
    generate_landing(
        tmp_path / "data" / "landing",
        accounts=1500,
        days=25,
        seed=2,
        start=START,
        platforms=sim.PLATFORMS_ALL,
    )
    runs = [_start_run(tmp_path, "a"), _start_run(tmp_path, "b")]
    outputs = [run.communicate(timeout=600) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 1], outputs
    refused = next(out for run, out in zip(runs, outputs, strict=True) if run.returncode == 1)
    assert "another inflow run holds" in refused[0] + refused[1]
    warehouse = tmp_path / "data" / "inflow.duckdb"
    ingests = read_table(warehouse, "select status from meta.runs where flow = 'ingest'")[
        "status"
    ].to_list()
    assert ingests == ["succeeded"]  # exactly one run did the work
    published = tmp_path / "data" / "published" / "inflow.duckdb"
    assert read_table(published, "select count(*) as n from marts.dim_account")["n"].item() == 1500


def test_inflow_serve_starts_the_nightly_schedule_without_setup(tmp_path):
    import time

    environment = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect-serve")}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "inflow"), "serve", "--cron", "0 5 * * *"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        for line in server.stdout:
            if "deployment run 'nightly/inflow-nightly'" in line:
                break
            assert time.monotonic() < deadline, "inflow serve did not come up"
        else:
            pytest.fail("inflow serve exited before serving")
    finally:
        server.terminate()
        server.wait(timeout=60)
