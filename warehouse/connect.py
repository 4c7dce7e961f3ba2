"""The one place that opens the DuckDB warehouse, with the settings every connection needs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# Files must open in the DuckDB 1.x CLI that users have (PyPI duckdb-cli 1.5): DuckDB 2.0
# otherwise writes a storage format 1.x cannot read.
STORAGE_COMPATIBILITY = "v1.4.0"

# DuckDB's own limits for the pipeline's connections: by default it may take 80% of RAM and
# every core. Settings (`duckdb_memory_limit`, `duckdb_threads`, `duckdb_temp_directory`) or
# the INFLOW_DUCKDB_* variables cap them, e.g. to keep a nightly run under a memory budget
# next to the Polars partitions; beyond the limit DuckDB spills to the temp directory.
LIMITS: dict[str, str | None] = {
    "memory_limit": os.environ.get("INFLOW_DUCKDB_MEMORY_LIMIT"),
    "threads": os.environ.get("INFLOW_DUCKDB_THREADS"),
    "temp_directory": os.environ.get("INFLOW_DUCKDB_TEMP_DIRECTORY"),
}


def configure(**limits: str | int | None) -> None:
    """Set the DuckDB limits every later connection of this process gets (None: DuckDB's)."""
    unknown = set(limits) - set(LIMITS)
    if unknown:
        raise ValueError(f"unknown DuckDB limits: {sorted(unknown)}")
    LIMITS.update({k: None if v is None else str(v) for k, v in limits.items()})


@contextmanager
def limits_applied(**limits: str | int | Path | None) -> Iterator[None]:
    """`configure` for the length of a run (a flow's parameters), then the limits before it."""
    saved = dict(LIMITS)
    configure(**limits)
    try:
        yield
    finally:
        LIMITS.clear()
        LIMITS.update(saved)


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection in UTC; writers create the file in the 1.x-compatible storage format."""
    config: dict[str, str | bool | int] = {"preserve_insertion_order": False}
    config |= {name: value for name, value in LIMITS.items() if value}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    if read_only:
        config["access_mode"] = "READ_ONLY"
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        config["storage_compatibility_version"] = STORAGE_COMPATIBILITY
    con = duckdb.connect(str(path), config=config)
    # TimeZone needs the ICU extension, which loads after connect: set it here, not in config.
    con.execute("SET TimeZone = 'UTC'")
    return con


def connect_for_readers(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection for ad hoc SQL that cannot write, read files or URLs, or attach.

    Read-only refuses writes and DDL; no external access refuses file and URL reads, COPY,
    ATTACH and INSTALL; the locked configuration stops a query from turning either back on.
    """
    con = duckdb.connect(
        str(path), config={"access_mode": "READ_ONLY", "enable_external_access": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET lock_configuration = true")
    return con
