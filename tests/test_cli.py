"""The `inflow` command line as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
INFLOW = Path(sys.executable).parent / "inflow"


def test_generate_writes_every_format(tmp_path):
    result = runner.invoke(
        app, ["generate", "--out", str(tmp_path), "--accounts", "30", "--days", "14", "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "snapshot rows" in result.output
    suffixes = {
        "".join(p.suffixes[-2:]) if p.suffix == ".gz" else p.suffix
        for p in tmp_path.rglob("*")
        if p.is_file()
    }
    assert {".jsonl", ".jsonl.gz", ".csv", ".csv.gz", ".parquet"} <= suffixes


def test_generate_rejects_bad_usage(tmp_path):
    bad_platform = runner.invoke(
        app, ["generate", "--out", str(tmp_path), "--platforms", "myspace"]
    )
    assert bad_platform.exit_code == 2
    bad_date = runner.invoke(app, ["generate", "--out", str(tmp_path), "--start", "yesterday"])
    assert bad_date.exit_code == 2
    too_short_for_faults = runner.invoke(
        app, ["generate", "--out", str(tmp_path), "--days", "5", "--faults"]
    )
    assert too_short_for_faults.exit_code == 2
    assert "12 days" in too_short_for_faults.output


def test_generate_one_platform(tmp_path):
    result = runner.invoke(
        app,
        [
            "generate",
            "--out",
            str(tmp_path),
            "--accounts",
            "20",
            "--days",
            "3",
            "--platforms",
            "tiktok",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "_generator" / "manifest.json").read_text())
    assert {f["platform"] for f in manifest["files"]} == {"tiktok"}


def test_bad_configuration_exits_2_naming_the_setting(tmp_path):
    (tmp_path / "inflow.toml").write_text('tier_scheme = "seven"\n')
    result = subprocess.run(
        [sys.executable, "-m", "cli.app", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "", "PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[1])},
    )
    assert result.returncode == 2
    assert "tier_scheme" in result.stderr


def test_environment_overrides_toml(tmp_path, monkeypatch):
    from flows.settings import Settings

    (tmp_path / "inflow.toml").write_text('landing = "from_toml"\nwarehouse = "toml.duckdb"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFLOW_LANDING", "from_env")
    settings = Settings()
    assert str(settings.landing) == "from_env"
    assert str(settings.warehouse) == "toml.duckdb"
    assert str(Settings(landing="from_flag").landing) == "from_flag"


def test_prefect_waits_longer_for_its_temporary_server_unless_told_otherwise():
    """Prefect's 20 s default failed nights on a busy machine; a user's own setting still wins."""
    import os

    probe = (
        "import flows\n"
        "from prefect.settings import get_current_settings\n"
        "print(get_current_settings().server.ephemeral.startup_timeout_seconds)\n"
    )
    setting = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    unset = {k: v for k, v in os.environ.items() if k != setting}
    for environment, expected in ((unset, "120"), (unset | {setting: "45"}, "45")):
        done = subprocess.run(
            [sys.executable, "-c", probe], env=environment, capture_output=True, text=True
        )
        assert done.stdout.strip() == expected, done.stderr[-500:]


def test_a_prefect_server_left_under_the_tests_temp_folders_is_found(tmp_path):
    """The session-end check (conftest.pytest_sessionfinish) finds a uvicorn process running
    from under the tests' temp folders, and not one running elsewhere."""
    from tests.conftest import leftover_servers

    sleeper = [sys.executable, "-c", "import time; time.sleep(120)", "uvicorn", "prefect"]
    inside = subprocess.Popen(sleeper, cwd=tmp_path)
    outside = subprocess.Popen(sleeper, cwd="/")
    plain = subprocess.Popen(sleeper[:3], cwd=tmp_path)  # not a server
    try:
        found = leftover_servers(tmp_path)
        assert inside.pid in found
        assert outside.pid not in found
        assert plain.pid not in found
    finally:
        for process in (inside, outside, plain):
            process.kill()
            process.wait()
    assert inside.pid not in leftover_servers(tmp_path)


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        (
            'tier_scheme = "mine"\n[tier_schemes.mine]\nnano = 1000\nmicro = 1000\n',
            "tier_schemes.mine: tier scheme 'mine': bounds must increase, smallest first "
            "(micro = 1,000 is not above nano = 1,000)",
        ),
        (
            'tier_scheme = "mine"\n[tier_schemes.mine]\nnano = 1000\n',
            "tier_schemes.mine: tier scheme 'mine' needs at least two tiers",
        ),
        (
            'tier_scheme = "mine"\n[tier_schemes.mine]\nnano = -5\nmicro = 10\n',
            "tier_schemes.mine: tier scheme 'mine': nano = -5 is not a whole number of followers >= 0",
        ),
        (
            'tier_scheme = "other"\n[tier_schemes.mine]\nnano = 1\nmicro = 10\n',
            "tier_scheme: unknown tier scheme 'other'; known: default, five_tier, industry, mine",
        ),
        (
            "[scorecard]\nwindows_days = 60\n",
            "scorecard: unknown rule(s) windows_days; known: window_days, min_peers, "
            "inactive_min_follower_growth, inactive_max_interaction_growth, inactive_min_posts, "
            "following_spike_min, following_spike_share, low_er_ratio, likes_comments_factor, "
            "likes_comments_min_comments, gain_min_followers, gain_min_share, loss_share, "
            "loss_within_days",
        ),
        (
            "[scorecard]\nwindow_days = 7\n",
            "scorecard: window_days must be at least 14 (two whole weeks)",
        ),
        (
            "emv_values = {hugs = 1}\n",
            "emv_values: unknown action(s) hugs; known: likes, comments, shares, saves, views",
        ),
        ("emv_values = {likes = -1}\n", "emv_values: a value per action is never negative"),
        (
            'orchestration = "sometimes"\n',
            "orchestration: unknown value 'sometimes'; known: auto, prefect, direct",
        ),
        ('task_runner = "spark"\n', "task_runner: unknown value 'spark'; known: local, dask"),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_the_problem(tmp_path, toml, problem):
    (tmp_path / "inflow.toml").write_text(toml)
    result = subprocess.run(
        [sys.executable, "-m", "cli.app", "status"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "PATH": "",
            "PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[1]),
            "COLUMNS": "400",
        },
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"configuration error: {problem}"


def test_a_scheme_the_user_defines_is_used_by_name(tmp_path, monkeypatch):
    from flows.settings import Settings
    from transforms.tiers import resolve_scheme

    monkeypatch.chdir(tmp_path)
    (tmp_path / "inflow.toml").write_text("[tier_schemes.mine]\nsmall = 0\nbig = 5000\n")
    monkeypatch.setenv("INFLOW_TIER_SCHEME", "mine")
    settings = Settings()
    scheme = resolve_scheme(settings.tier_scheme, settings.tier_schemes)
    assert scheme.tiers == (("small", 0), ("big", 5_000))
    monkeypatch.setenv("INFLOW_TIER_SCHEME", "industry")
    assert Settings().tier_scheme == "industry"


def test_version_help_and_completion_follow_cli_conventions():
    from importlib.metadata import version

    shown = runner.invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.output.strip() == f"inflow {version('inflow')}"
    helped = runner.invoke(app, ["generate", "--help"], env={"COLUMNS": "100"})
    faults = next(line for line in helped.output.splitlines() if "--faults" in line)
    assert faults.split()[:2] == ["--faults", "also"]  # a flag, no "<bool>" after it
    assert "<bool>" not in runner.invoke(app, ["--help"]).output
    # Typer's completion: the script a user sources for bash.
    completion = subprocess.run(
        [str(INFLOW), "--show-completion", "bash"], capture_output=True, text=True
    )
    assert completion.returncode == 0, completion.stderr[-2000:]
    assert "_INFLOW_COMPLETE" in completion.stdout and "complete " in completion.stdout


def test_commands_are_quiet_unless_verbose(tmp_path):
    """Run lines only with -v: the flow's own when it runs directly, Prefect's (its temporary
    server, its runs) when told to go through Prefect; inflow's own summary always."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "ig.csv").write_text(
        "platform,account_id,snapshot_date,captured_at,followers\n"
        "instagram,17841400000000001,2026-01-01,2026-01-01T03:00:00Z,1234\n"
    )
    environment = {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    command = [
        str(INFLOW),
        "ingest",
        "--landing",
        str(landing),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    ]
    quiet = subprocess.run(command, capture_output=True, text=True, env=os.environ | environment)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.startswith("files: 1 loaded")
    assert quiet.stderr == ""
    loud = subprocess.run(
        [command[0], "-v", *command[1:]],
        capture_output=True,
        text=True,
        env=os.environ | environment,
    )
    assert loud.returncode == 0
    # No Prefect API: the flow runs directly and -v shows its run's lines, no server starts.
    assert "inflow.ingest - run" in loud.stderr and "finished in" in loud.stderr
    assert "Starting temporary server" not in loud.stderr
    through_prefect = subprocess.run(
        [command[0], "-v", *command[1:]],
        capture_output=True,
        text=True,
        env=os.environ | environment | {"INFLOW_ORCHESTRATION": "prefect"},
    )
    assert through_prefect.returncode == 0
    assert "Starting temporary server" in through_prefect.stderr
    assert "Finished in state" in through_prefect.stderr


def test_every_writing_command_stops_at_once_while_another_process_holds_the_run_lock(
    tmp_path,
):
    """An ingest beside a run, two ingests: the second used to end in a DuckDB traceback."""
    from tests.conftest import reap_process_group

    warehouse = tmp_path / "w.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\nfrom flows.runs import run_lock\n"
            f"with run_lock(Path({str(warehouse)!r})):\n    print('held', flush=True)\n"
            "    time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        warehouse.touch()  # the commands check that a warehouse exists before locking
        environment = {"INFLOW_WAREHOUSE": str(warehouse), "INFLOW_LANDING": str(landing)}
        for command in (["ingest"], ["transform"], ["validate"], ["publish"], ["rollback"]):
            result = runner.invoke(app, command, env=environment)
            assert result.exit_code == 1, (command, result.output)
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("not started: another inflow run"), (
                command,
                result.output,
            )
            assert f"(process {holder.pid})" in " ".join(result.output.split())
    finally:
        reap_process_group(holder.pid)


def test_only_runs_whose_process_is_gone_are_marked_abandoned(tmp_path):
    import os
    from datetime import UTC, datetime

    from warehouse import meta
    from warehouse.connect import connect
    from warehouse.schema import apply_ddl

    with connect(tmp_path / "w.duckdb") as con:
        apply_ddl(con)
        now = datetime.now(UTC)
        meta.start_run(con, "killed", "ingest", now, pid=2**22 + 12345)
        meta.start_run(con, "outer", "nightly", now, pid=os.getpid())
        meta.start_run(con, "next", "ingest", now, pid=os.getpid())  # under the lock
        meta.start_run(con, "inner", "nightly", now, pid=os.getpid())
        statuses = dict(con.execute("select run_id, status from meta.runs").fetchall())
    assert statuses == {
        "killed": "abandoned",  # another process, and the lock was free: it is gone
        "outer": "running",  # this process's own run goes on
        "next": "running",
        "inner": "running",
    }
