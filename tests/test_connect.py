"""DuckDB limits: configured once, applied to every pipeline connection."""

import os

import pytest

from warehouse import connect as wc


@pytest.fixture
def limits():
    saved = dict(wc.LIMITS)
    yield
    wc.LIMITS.clear()
    wc.LIMITS.update(saved)


def _setting(con, name: str) -> str:
    return con.execute("select current_setting($1)::varchar", [name]).fetchall()[0][0]


def test_configured_limits_apply_to_every_connection(tmp_path, limits):
    wc.configure(memory_limit="512MB", threads=1, temp_directory=str(tmp_path / "spill"))
    con = wc.connect(tmp_path / "w.duckdb")
    try:
        assert _setting(con, "threads") == "1"
        assert _setting(con, "memory_limit") in {"488.2 MiB", "512.0 MB", "488.2MiB"}
        assert _setting(con, "temp_directory").endswith("spill")
    finally:
        con.close()
    wc.configure(memory_limit=None, threads=None, temp_directory=None)
    con = wc.connect(tmp_path / "w.duckdb")
    try:
        assert _setting(con, "threads") == str(os.cpu_count())
    finally:
        con.close()


def test_unknown_limits_are_refused(limits):
    with pytest.raises(ValueError, match="unknown DuckDB limits"):
        wc.configure(cache_size="1GB")


def test_limits_applied_last_as_long_as_the_run(tmp_path, limits):
    wc.configure(memory_limit="1GB", threads=None, temp_directory=None)
    with wc.limits_applied(threads=1):
        assert wc.LIMITS == {"memory_limit": "1GB", "threads": "1", "temp_directory": None}
    assert wc.LIMITS == {"memory_limit": "1GB", "threads": None, "temp_directory": None}
    with pytest.raises(RuntimeError), wc.limits_applied(memory_limit="300MB"):
        raise RuntimeError("a failed run")
    assert wc.LIMITS["memory_limit"] == "1GB"


def test_the_nightly_flow_opens_every_connection_with_its_duckdb_limits(
    tmp_path_factory, prefect_api, limits, monkeypatch
):
    """What a deployment's parameters do: prefect.yaml sets duckdb_memory_limit for the night."""
    from flows.nightly import nightly
    from tests.conftest import generated_landing

    opened: list[dict] = []
    real_connect = wc.duckdb.connect

    def recording_connect(database, *args, config=None, **kwargs):
        opened.append(dict(config or {}))
        return real_connect(database, *args, config=config, **kwargs)

    monkeypatch.setattr(wc.duckdb, "connect", recording_connect)
    before = dict(wc.LIMITS)
    landing = generated_landing(tmp_path_factory, accounts=40, days=10, seed=8)
    root = tmp_path_factory.mktemp("limited")
    nightly(
        landing=landing,
        warehouse=root / "w.duckdb",
        published_dir=root / "published",
        duckdb_memory_limit="300MB",
        duckdb_threads=1,
    )
    pipeline = [config for config in opened if "preserve_insertion_order" in config]
    assert len(pipeline) >= 4  # ingest, validate, transform, publish at least
    assert all(c["memory_limit"] == "300MB" and c["threads"] == "1" for c in pipeline)
    assert before == wc.LIMITS
