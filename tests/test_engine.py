"""How flows run (flows.engine): directly when no Prefect API is configured, through Prefect
when one is; the same warehouse either way, and an idle command never imports Prefect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from flows import engine
from schemas.marts import MARTS
from tests.conftest import generated_landing, read_table

ROOT = Path(__file__).parents[1]

# Run the CLI in-process, then say whether Prefect was ever imported.
PROBE = """
import sys
from cli.app import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    code = done.code
print("prefect imported" if "prefect" in sys.modules else "prefect never imported", code)
"""


def _without_prefect_api(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INFLOW_"))}
    return environment | {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PYTHONPATH": str(ROOT)}


def test_a_command_with_nothing_to_do_never_imports_prefect_and_still_records_its_run(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "w.duckdb"
    args = ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=_without_prefect_api(tmp_path),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "prefect never imported 0"
    assert done.stderr == ""
    runs = read_table(warehouse, "select flow, status, run_id from meta.runs")
    assert runs["flow"].to_list() == ["ingest"] and runs["status"].to_list() == ["succeeded"]
    assert len(runs["run_id"].item()) == 36  # a UUID, as Prefect's run ids are
    # The same command told to go through Prefect imports it (and starts its server).
    forced = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=_without_prefect_api(tmp_path) | {"INFLOW_ORCHESTRATION": "prefect"},
        capture_output=True,
        text=True,
    )
    assert forced.stdout.splitlines()[-1] == "prefect imported 0", forced.stderr[-2000:]


def test_a_prefect_api_in_the_environment_or_the_active_profile_means_prefect(
    tmp_path, monkeypatch
):
    home = tmp_path / "prefect-home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    for name in (
        "PREFECT_API_URL",
        "PREFECT_PROFILE",
        "PREFECT_PROFILES_PATH",
        "INFLOW_ORCHESTRATION",
    ):
        monkeypatch.delenv(name, raising=False)
    assert engine._profile_api_url() is None  # no profiles file
    (home / "profiles.toml").write_text(
        'active = "remote"\n\n[profiles.remote]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
        '\n[profiles.local]\nPREFECT_LOGGING_LEVEL = "INFO"\n'
    )
    assert engine._profile_api_url() == "http://prefect.internal:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "local")
    assert engine._profile_api_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert engine.uses_prefect() and not engine.starts_temporary_server()
    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    assert not engine.uses_prefect()
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.setenv("INFLOW_ORCHESTRATION", "prefect")
    if "prefect.settings" not in sys.modules or not engine.prefect_api_configured():
        assert engine.starts_temporary_server()
    monkeypatch.setenv("INFLOW_ORCHESTRATION", "sometimes")
    with pytest.raises(
        ValueError, match="INFLOW_ORCHESTRATION must be one of auto, prefect, direct"
    ):
        engine.uses_prefect()


def test_a_direct_task_retries_then_raises_and_submit_runs_it(monkeypatch):
    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    calls: list[int] = []

    @engine.task(name="flaky", retries=2)
    def flaky(fail_times: int) -> int:
        calls.append(1)
        if len(calls) <= fail_times:
            raise OSError("disk busy")
        return len(calls)

    assert flaky(2) == 3  # two failures, then the third attempt
    calls.clear()
    with pytest.raises(OSError, match="disk busy"):
        flaky(3)
    assert len(calls) == 3  # retries + 1 attempts, then the error

    @engine.flow(name="outer")
    def outer() -> tuple[int, str, str]:
        calls.clear()
        future = flaky.submit(0)
        return future.result(), engine.flow_run_id(), engine.flow_run_id()

    result, first, second = outer()
    assert result == 1 and first == second  # one id for the whole run
    assert outer()[1] != first  # and a new one for the next
    with pytest.raises(RuntimeError, match="submitted outside a flow"):
        flaky.submit(0)


def _retried(errors: list[Exception]) -> tuple[engine.Flow, list[int]]:
    """A flow whose one task fails with `errors` in turn (then succeeds), retried only on
    OSError, and the list of its attempts."""
    attempts: list[int] = []

    @engine.task(name="flaky-disk", retries=2, retry_on=(OSError,))
    def step() -> int:
        attempts.append(1)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return len(attempts)

    @engine.flow(name="retries")
    def run() -> int:
        return step()

    return run, attempts


@pytest.mark.parametrize("orchestration", ["direct", "auto"])
def test_a_task_retries_only_the_errors_it_is_told_to(orchestration, prefect_api, monkeypatch):
    """publish retries a disk error, never a refusal for quality: through Prefect (its retry
    condition) and directly alike. "auto" goes through the test's Prefect API."""
    monkeypatch.setenv("INFLOW_ORCHESTRATION", orchestration)
    flaky, attempts = _retried([OSError("NFS hiccup")])
    assert flaky() == 2 and len(attempts) == 2
    refused, attempts = _retried([ValueError("critical quality failures block publishing")])
    with pytest.raises(ValueError, match="critical quality"):
        refused()
    assert len(attempts) == 1


def _marts(warehouse: Path) -> dict[str, object]:
    return {m.name: read_table(warehouse, f"select * from marts.{m.name}") for m in MARTS}


def test_a_direct_run_builds_what_a_prefect_run_builds_and_prefect_sees_none_of_it(
    tmp_path_factory, prefect_api, monkeypatch
):
    from prefect.client.orchestration import get_client

    from flows.ingest import ingest
    from flows.transform import transform

    landing = generated_landing(tmp_path_factory, accounts=25, days=20, seed=5)
    through_prefect = tmp_path_factory.mktemp("prefect") / "w.duckdb"
    ingest(landing=landing, warehouse=through_prefect)
    transform(warehouse=through_prefect)

    with get_client(sync_client=True) as client:
        before = client.count_flow_runs()
    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    direct = tmp_path_factory.mktemp("direct") / "w.duckdb"
    loaded = ingest(landing=landing, warehouse=direct)
    built = transform(warehouse=direct)
    with get_client(sync_client=True) as client:
        assert client.count_flow_runs() == before  # nothing went through Prefect

    assert loaded.rows_loaded > 0 and built.accounts == 25
    runs = read_table(direct, "select run_id, flow, status from meta.runs order by started_at")
    assert runs["flow"].to_list() == ["ingest", "transform"]
    assert set(runs["status"]) == {"succeeded"}
    # Lineage names the direct run's id.
    staged = read_table(
        direct, "select distinct ingest_run_id as run_id from staging.follower_snapshots"
    )
    assert staged["run_id"].to_list() == [runs["run_id"][0]]
    prefect_marts, direct_marts = _marts(through_prefect), _marts(direct)
    for mart in MARTS:
        frame = direct_marts[mart.name]
        kept = [
            c for c in frame.columns if "run_id" not in c and c not in {"built_at", "loaded_at"}
        ]
        assert_frame_equal(
            frame.select(kept), prefect_marts[mart.name].select(kept), check_row_order=False
        )
