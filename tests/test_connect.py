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
