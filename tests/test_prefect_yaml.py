"""prefect.yaml: every entrypoint loads and every declared parameter exists on its flow."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]


def _deployments() -> list[dict]:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


def test_entrypoints_load_and_parameters_exist():
    names = set()
    for deployment in _deployments():
        names.add(deployment["name"])
        path, function = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, function)
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(deployment.get("parameters", {})) <= accepted, deployment["name"]
        assert deployment["work_pool"]["name"] == "inflow-local"
    assert names == {"nightly", "backfill"}


def test_nightly_schedule_is_explicit():
    nightly = next(d for d in _deployments() if d["name"] == "nightly")
    (schedule,) = nightly["schedules"]
    assert schedule["cron"] == "30 4 * * *" and schedule["timezone"] == "UTC" and schedule["slug"]


@pytest.mark.slow
def test_prefect_deploy_all_against_a_local_server(tmp_path):
    """A real Prefect server on localhost, a process work pool, `prefect deploy --all`."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    prefect = str(Path(sys.executable).parent / "prefect")
    api = f"http://127.0.0.1:{port}/api"
    environment = os.environ | {"PREFECT_HOME": str(tmp_path / "home"), "PREFECT_API_URL": api}
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the local Prefect server did not start"
                time.sleep(1)

        def prefect_cli(*args: str) -> str:
            done = subprocess.run(
                [prefect, *args],
                cwd=ROOT,
                env=environment,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            return done.stdout

        prefect_cli("work-pool", "create", "inflow-local", "--type", "process")
        prefect_cli("--no-prompt", "deploy", "--all")
        listed = prefect_cli("deployment", "ls")
        assert "nightly/nightly" in listed and "transform/backfill" in listed
    finally:
        server.terminate()
        server.wait(timeout=60)
