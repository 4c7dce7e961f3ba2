"""Settings reach the flows through one mapping, and every setting a flow takes is mapped."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from flows.nightly import nightly
from flows.publish import publish
from flows.settings import Settings
from flows.transform import transform
from warehouse.connect import DuckDBLimits


def _parameters(flow) -> set[str]:
    return set(inspect.signature(flow.fn).parameters)


def test_every_nightly_parameter_but_the_clock_comes_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no inflow.toml
    mapped = Settings().nightly_parameters()
    assert set(mapped) == _parameters(nightly) - {"today"}


def test_the_nightly_parameters_carry_the_settings_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFLOW_MAX_FILE_MEGABYTES", "7")
    monkeypatch.setenv("INFLOW_BATCH_MEGABYTES", "9")
    monkeypatch.setenv("INFLOW_DUCKDB_MEMORY_LIMIT", "1GB")
    (tmp_path / "inflow.toml").write_text('published = "elsewhere"\ntask_runner = "dask"\n')
    mapped = Settings().nightly_parameters()
    assert mapped["max_file_megabytes"] == 7
    assert mapped["batch_megabytes"] == 9
    assert mapped["duckdb_memory_limit"] == "1GB"
    assert mapped["published_dir"] == Path("elsewhere")
    assert mapped["task_runner"] == "dask"


def test_every_transform_parameter_but_the_mode_comes_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFLOW_DUCKDB_THREADS", "1")
    mapped = Settings().transform_parameters()
    command_given = {"full_refresh", "backfill_from", "partitions_in_flight"}
    assert set(mapped) == _parameters(transform) - command_given
    assert mapped["duckdb_limits"] == DuckDBLimits(threads=1)


def test_every_publish_parameter_comes_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFLOW_STORAGE", "delta")
    monkeypatch.setenv("INFLOW_LAKE_PATH", "/shared/lake")
    mapped = Settings().publish_parameters()
    assert set(mapped) == _parameters(publish)
    assert (mapped["storage"], mapped["lake_path"], mapped["lake_buckets"]) == (
        "delta",
        "/shared/lake",
        256,
    )


def test_a_flow_called_without_settings_defaults_to_what_the_settings_default_to(
    tmp_path, monkeypatch
):
    # A deployment or a test calling a flow directly gets the same defaults a command does
    # (a batch budget changed in one place only would split them).
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("INFLOW_"):
            monkeypatch.delenv(name)
    settings = Settings()
    for flow, mapped in (
        (nightly, settings.nightly_parameters()),
        (transform, settings.transform_parameters()),
        (publish, settings.publish_parameters()),
    ):
        signature = inspect.signature(flow.fn).parameters
        for name, value in mapped.items():
            default = signature[name].default
            # A mapping the flow takes as None means the settings' empty one.
            expected = None if value in ({}, []) else value
            assert default == expected, f"{flow.name}: {name}"
