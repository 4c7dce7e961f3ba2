"""`inflow demo` as a new user runs it: every stage, in a fresh folder, twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import read_table

pytestmark = pytest.mark.slow


def _demo(tmp_path: Path) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).parent / "inflow"),
        "demo",
        "--accounts",
        "60",
        "--days",
        "20",
    ]
    environment = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect-home"), "COLUMNS": "200"}
    return subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600
    )


def test_demo_builds_validates_and_publishes(tmp_path):
    result = _demo(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in (
        "planted faults",
        "rows quarantined",
        "transform (incremental)",
        "0 critical failures",
        "published for readers",
        "accounts per tier",
        "top risers micro",
        "data docs: file://",
        "report: ",
    ):
        assert expected in result.stdout, expected
    published = tmp_path / "data" / "published" / "inflow.duckdb"
    assert read_table(published, "select count(*) as n from marts.dim_account")["n"].item() == 60
    assert (
        tmp_path / "data" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    ).exists()
    report = (tmp_path / "data" / "report.html").read_text()
    assert "vegaEmbed" in report and "inflow report" in report
    again = _demo(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "ingested 0 files" in again.stdout
