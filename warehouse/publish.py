"""Publishing for readers: the marts copied into a fresh file, swapped in atomically.

The working warehouse is written by one process at a time and locked while it is; readers
(BI tools, ad hoc SQL, the DuckDB CLI) open the published file instead, read-only. A publish
builds `states/<stamp>.duckdb` from the working file (marts with their comments, and the run
and quality records `inflow status` reads), checkpoints and closes it, then points the
published path at it with a hard link and `os.replace`: a reader sees the old state or the
new one, never a mix, and readers holding the old file keep reading it. The last few states
stay on disk so that `rollback` can point the published path back at the previous one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from schemas.marts import MARTS
from warehouse.connect import connect
from warehouse.marts import apply_mart_ddl

PUBLISHED_NAME = "inflow.duckdb"
STATES = "states"
# Tables readers get besides the marts (status, freshness and quality for dashboards).
READER_META = ("meta.runs", "meta.quality_results")


class PublishRefused(Exception):
    """The latest validation found critical failures: the published state stays as it was."""


def critical_failures(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(suite, check) of the critical checks that failed in the latest validation run."""
    return con.execute(
        "with latest as (select run_id from meta.quality_results order by checked_at desc limit 1) "
        "select suite, check_name from meta.quality_results semi join latest using (run_id) "
        "where not success and severity = 'critical' order by all"
    ).fetchall()


def publish(working: Path, published_dir: Path, keep: int = 3) -> Path:
    """Publish the working warehouse's marts; refuses while the latest validation failed critically."""
    con = connect(working)
    try:
        failures = critical_failures(con)
        if failures:
            named = ", ".join(f"{suite}.{check}" for suite, check in failures)
            raise PublishRefused(f"critical quality failures block publishing: {named}")
        con.execute("checkpoint")
    finally:
        con.close()
    states = published_dir / STATES
    states.mkdir(parents=True, exist_ok=True)
    state = states / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.duckdb"
    build_state(working, state)
    _point_published_at(state, published_dir)
    _prune(states, keep)
    return state


def build_state(working: Path, state: Path) -> None:
    """A new file with the working warehouse's marts and reader tables, descriptions included."""
    building = state.with_suffix(".building")
    building.unlink(missing_ok=True)
    con = connect(building)
    try:
        con.execute("create schema if not exists meta")
        apply_mart_ddl(con)  # tables and their COMMENT ON descriptions
        con.execute(f"attach '{working.resolve().as_posix()}' as working (read_only)")
        con.execute("begin transaction")
        for mart in MARTS:
            con.execute(f"insert into marts.{mart.name} select * from working.marts.{mart.name}")
        for table in READER_META:
            con.execute(f"create table {table} as select * from working.{table}")
            _copy_comments(con, table)
        con.execute("commit")
        con.execute("detach working")
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(building, state)


def _copy_comments(con: duckdb.DuckDBPyConnection, table: str) -> None:
    # CREATE TABLE AS drops descriptions: carry the working table's over for BI tools.
    schema, name = table.split(".")
    for (comment,) in con.execute(
        "select comment from duckdb_tables() where database_name = 'working' "
        "and schema_name = $1 and table_name = $2 and comment is not null",
        [schema, name],
    ).fetchall():
        con.execute(f"comment on table {table} is {_literal(comment)}")
    for column, comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'working' "
        "and schema_name = $1 and table_name = $2 and comment is not null",
        [schema, name],
    ).fetchall():
        con.execute(f'comment on column {table}."{column}" is {_literal(comment)}')


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _point_published_at(state: Path, published_dir: Path) -> None:
    # A hard link under a temporary name, then an atomic rename over the published path.
    link = published_dir / f".{PUBLISHED_NAME}.next"
    link.unlink(missing_ok=True)
    os.link(state, link)
    os.replace(link, published_dir / PUBLISHED_NAME)


def published_states(published_dir: Path) -> list[Path]:
    """The kept states, oldest first."""
    return sorted((published_dir / STATES).glob("*.duckdb"))


def current_state(published_dir: Path) -> Path | None:
    published = published_dir / PUBLISHED_NAME
    if not published.exists():
        return None
    inode = published.stat().st_ino
    return next((s for s in published_states(published_dir) if s.stat().st_ino == inode), None)


def rollback(published_dir: Path) -> Path:
    """Point the published path at the state before the current one; returns it."""
    states = published_states(published_dir)
    current = current_state(published_dir)
    if current is None or states.index(current) == 0:
        raise ValueError("no earlier published state to roll back to")
    previous = states[states.index(current) - 1]
    _point_published_at(previous, published_dir)
    # The rolled-back state is dropped, so that the next rollback goes further back.
    current.unlink()
    return previous


def _prune(states: Path, keep: int) -> None:
    # Readers holding an old state keep reading it: unlinking does not close their file.
    for old in sorted(states.glob("*.duckdb"))[:-keep]:
        old.unlink()
