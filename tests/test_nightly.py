"""The nightly run as a scheduler starts it: real processes, one at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sample import simulate as sim
from sample.landing import generate_landing
from tests.conftest import START, read_table, reap_process_group
from warehouse.connect import connect

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
        start_new_session=True,  # its group is reaped below
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
        # Its temporary Prefect server was seen outliving it here (not when run by hand):
        # whatever is left of its process group goes with it.
        reap_process_group(server.pid)


READER = """
import sys, time, json
from warehouse.connect import connect_for_readers
path, seconds = sys.argv[1], float(sys.argv[2])
seen, errors, end = set(), [], time.monotonic() + seconds
while time.monotonic() < end:
    try:
        con = connect_for_readers(path)
        daily = con.execute("select count(*), max(date) from marts.fct_account_daily").fetchall()[0]
        accounts = con.execute("select count(*) from marts.dim_account").fetchall()[0][0]
        con.close()
        seen.add((daily[0], str(daily[1]), accounts))
    except Exception as error:
        errors.append(type(error).__name__ + ': ' + str(error)[:200])
    time.sleep(0.05)
print(json.dumps({"seen": sorted(seen), "errors": errors}))
"""


def test_readers_keep_reading_consistent_states_during_a_nightly_run(tmp_path):
    import json
    import shutil

    generated = tmp_path / "generated"
    generate_landing(
        generated, accounts=1200, days=30, seed=6, start=START, platforms=sim.PLATFORMS_ALL
    )
    landing = tmp_path / "data" / "landing"
    # First night: days 1-20 published. Second night: the rest lands while a reader reads.
    for path in sorted(generated.rglob("*.*")):
        day = next((part for part in path.parts if part.startswith("2026-")), None)
        if day is None or day <= "2026-01-20":
            target = landing / path.relative_to(generated)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    first = _start_run(tmp_path, "first")
    assert first.wait(timeout=600) == 0, first.stderr.read()[-2000:]
    published = tmp_path / "data" / "published" / "inflow.duckdb"
    before = read_table(
        published, "select count(*) as n, max(date) as d from marts.fct_account_daily"
    ).row(0)
    shutil.copytree(generated, landing, dirs_exist_ok=True)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), "45"],
        cwd=Path(__file__).parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    second = _start_run(tmp_path, "second")
    second.wait(timeout=600)
    result = json.loads(reader.communicate(timeout=120)[0])
    after = read_table(
        published, "select count(*) as n, max(date) as d from marts.fct_account_daily"
    ).row(0)
    assert result["errors"] == []  # never a lock error, never a broken file
    seen = {(n, d) for n, d, _ in result["seen"]}
    # Every read saw the whole previous state or the whole new one, never a mix.
    assert seen <= {(before[0], str(before[1])), (after[0], str(after[1]))}
    assert (before[0], str(before[1])) in seen  # the reader was reading while the run wrote
    assert after[0] > before[0]
    assert {accounts for _, _, accounts in result["seen"]} == {1200}


def test_poison_rows_are_quarantined_and_a_critical_failure_stops_the_night(tmp_path):
    landing = tmp_path / "data" / "landing"
    generate_landing(
        landing, accounts=50, days=15, seed=3, start=START, platforms=sim.PLATFORMS_ALL
    )
    first = _start_run(tmp_path, "first")
    assert first.wait(timeout=600) == 0, first.stderr.read()[-2000:]
    published = tmp_path / "data" / "published" / "inflow.duckdb"
    working = tmp_path / "data" / "inflow.duckdb"
    before = read_table(published, "select count(*) as n from marts.fct_account_daily")["n"].item()
    # A night transformed and validated leaves nothing in the touched log (it would grow by
    # every account every night).
    touched = "select count(*) as n from meta.touched_accounts"
    assert read_table(working, touched)["n"].item() == 0
    assert read_table(working, "select count(*) as n from meta.transformed_runs")["n"].item() > 0
    # A file describing a day that has not happened yet: its row is quarantined at ingest
    # with the reason, and the night goes on (staged, it blocked every later night).
    (landing / "future_2099-01-01.csv").write_text(
        "platform,account_id,snapshot_date,captured_at,followers\n"
        "instagram,17841400000000001,2099-01-01,2099-01-01T03:00:00Z,1234\n"
    )
    second = _start_run(tmp_path, "second")
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err[-2000:]
    rejected = read_table(
        working,
        "select rule, reason from quarantine.rejected_rows where source_file = 'future_2099-01-01.csv'",
    )
    assert rejected["rule"].to_list() == ["date_in_future"]
    before = read_table(published, "select count(*) as n from marts.fct_account_daily")["n"].item()
    # A critical failure (a mart's post whose account is gone) stops the night before publishing.
    con = connect(working)
    con.execute(
        "delete from marts.dim_account where account_id = "
        "(select max(account_id) from marts.fct_post_metrics)"
    )
    con.close()
    third = _start_run(tmp_path, "third")
    out, err = third.communicate(timeout=600)
    assert third.returncode == 1
    # The failure names its check and the platform whose rows failed it.
    assert "fct_post_metrics.account_exists: " in " ".join((out + err).split())
    # The blocked night and its failed validation are recorded as failed, with why.
    runs = read_table(
        working,
        "select flow, status, message from meta.runs where started_at > "
        "(select max(finished_at) from meta.runs where flow = 'nightly' and status = 'succeeded')",
    )
    by_flow = {flow: (status, message) for flow, status, message in runs.rows()}
    assert by_flow["nightly"][0] == "failed"
    assert by_flow["nightly"][1].startswith("QualityBlocked: critical quality failures")
    assert by_flow["validate"][0] == "failed"
    assert "fct_post_metrics.account_exists: " in by_flow["validate"][1]
    assert "publish" not in by_flow
    assert (
        read_table(published, "select count(*) as n from marts.fct_account_daily")["n"].item()
        == before
    )
    assert (
        read_table(published, "select max(date) as d from marts.fct_account_daily")["d"].item().year
        == 2026
    )
