"""The one place that opens the DuckDB warehouse, and the one way to write in a transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Files must open in the DuckDB 1.x CLI that users have (PyPI duckdb-cli 1.5): DuckDB 2.0
# otherwise writes a storage format 1.x cannot read.
STORAGE_COMPATIBILITY = "v1.4.0"


@dataclass(frozen=True)
class DuckDBLimits:
    """DuckDB's own limits for the pipeline's connections (None: DuckDB's default).

    By default DuckDB may take 80% of RAM and every core. The settings `duckdb_memory_limit`,
    `duckdb_threads` and `duckdb_temp_directory` (or a deployment's flow parameters) cap them,
    e.g. to keep a nightly run under a memory budget next to the Polars partitions; beyond the
    limit DuckDB spills to the temp directory. Passed in by whoever opens the warehouse: nothing
    here reads the environment.
    """

    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: Path | None = None

    def config(self) -> dict[str, str]:
        """The limits that are set, as DuckDB configuration values."""
        values = {
            "memory_limit": self.memory_limit,
            "threads": self.threads,
            "temp_directory": self.temp_directory,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


NO_LIMITS = DuckDBLimits()


def connect(
    path: Path | str, *, read_only: bool = False, limits: DuckDBLimits = NO_LIMITS
) -> duckdb.DuckDBPyConnection:
    """A connection in UTC; writers create the file in the 1.x-compatible storage format.

    Use it as a context manager (`with connect(path) as con:`): leaving the block closes it.
    """
    config: dict[str, str | bool | int | float | list[str]] = {"preserve_insertion_order": False}
    config |= limits.config()
    if read_only:
        config["access_mode"] = "READ_ONLY"
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        config["storage_compatibility_version"] = STORAGE_COMPATIBILITY
    con = duckdb.connect(str(path), config=config)
    # TimeZone needs the ICU extension, which loads after connect: set it here, not in config.
    con.execute("SET TimeZone = 'UTC'")
    return con


@contextmanager
def kept_open(path: Path | str, limits: DuckDBLimits = NO_LIMITS) -> Iterator[None]:
    """Keep the database open across the connections opened meanwhile (a run's load batches).

    DuckDB checkpoints (writes its WAL into the file) when the last connection to a database
    closes, and at a commit once the WAL passes `checkpoint_threshold` (16 MB). An ingest of
    12 batches paid a checkpoint per batch, 0.27 s each for 30 MB of CSV. Held open here with a
    larger threshold, the batches' commits only append to the WAL and one checkpoint follows
    the last. Durability is the same: a commit is durable once in the WAL, and a process
    killed meanwhile leaves a WAL the next open replays up to the last commit.

    Its checkpoints skip DuckDB's vacuum unless one asks for it (`checkpoint(vacuum=True)`).
    A vacuum merges the row groups a checkpoint finds part full or holding deleted rows, and
    every batch appended leaves its last row group part full (a large insert writes its full
    row groups straight to the file): each checkpoint rewrote the table's growing tail again.
    The ingest bench's JSON lines writer alone (12 batches, 1.75M post snapshots): its
    checkpoints 1.7 s with the vacuum, 0.3 s without, the last one 0.45 s against 0.1 s, the
    file 68 MB against 71. Part-full row groups cost a little compression; deleted rows cost
    space until a vacuum, so a run that deletes asks for one (flows.ingest).
    """
    keeper = connect(path, limits=limits)
    try:
        keeper.execute("set checkpoint_threshold = '4GB'")
        keeper.execute("set max_vacuum_tasks = 0")
        yield
    finally:
        keeper.close()


def checkpoint(path: Path | str, limits: DuckDBLimits = NO_LIMITS, *, vacuum: bool = False) -> None:
    """Write the WAL's committed transactions into the database file now (while `kept_open`
    holds it, when the caller has idle time the checkpoint at the end would otherwise cost).

    `vacuum`: with DuckDB's vacuum (its default setting), which reclaims deleted rows and
    merges part-full row groups, whatever the database's setting (`kept_open` turns it off);
    the setting is put back after."""
    with connect(path, limits=limits) as con:
        if not vacuum:
            con.execute("checkpoint")
            return
        ((setting,),) = con.execute("select current_setting('max_vacuum_tasks')").fetchall()
        con.execute("reset max_vacuum_tasks")
        try:
            con.execute("checkpoint")
        finally:
            con.execute(f"set max_vacuum_tasks = {int(setting)}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All of the block's writes or none: commit at the end, roll back on any error or interrupt.

    A kill -9 needs nothing from here: DuckDB never makes an uncommitted transaction durable.
    """
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        # The connection may already be unusable (the error that got us here); the original
        # error is the one to report.
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    con.execute("commit")


def connect_for_readers(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection for ad hoc SQL that cannot write, read files or URLs, or attach.

    Read-only refuses writes and DDL; no external access refuses file and URL reads, COPY,
    ATTACH and INSTALL; the locked configuration stops a query from turning either back on.

    A state published from a Delta Lake (storage = "delta") is views over the lake's Parquet
    files: its connection may read files under the lake's folder and nowhere else (DuckDB's
    allowed_directories, which must be set before external access is turned off). DuckDB would
    also let COPY write there: callers running users' SQL check `only_reads` first.
    """
    con = duckdb.connect(
        str(path), config={"access_mode": "READ_ONLY", "enable_external_access": False}
    )
    lake = lake_root_of(con)
    if lake is not None:
        con.close()
        con = duckdb.connect(str(path), config={"access_mode": "READ_ONLY"})
        folder = "'" + (lake.rstrip("/") + "/").replace("'", "''") + "'"
        con.execute(f"SET allowed_directories = [{folder}]")
        con.execute("SET enable_external_access = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET lock_configuration = true")
    return con


def lake_root_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The lake a published state's views read (None: a state of the DuckDB path)."""
    ((exists,),) = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'meta' and table_name = 'lake_manifest'"
    ).fetchall()
    if not exists:
        return None
    rows = con.execute("select distinct lake from meta.lake_manifest").fetchall()
    return str(rows[0][0]) if rows else None


def only_reads(query: str) -> bool:
    """The query is one or more SELECTs (or EXPLAINs of them): nothing that writes a file."""
    kinds = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
    return all(s.type in kinds for s in duckdb.extract_statements(query))
