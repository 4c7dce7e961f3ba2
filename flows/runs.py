"""Run identity, record and lock: every flow run's id (the same in meta.runs, lineage columns
and Prefect), its row in meta.runs whatever its outcome, and the warehouse's run lock.

Every flow writes, and every flow takes the run lock (`<warehouse>.lock`, an exclusive
flock): a second writer (an ingest beside a nightly run, two ingests) stops at once with
RunLocked instead of meeting DuckDB's lock error mid-way. The lock is re-entrant within a
process, so a nightly run's own ingest, validations, transform and publish run under it.
The kernel releases it when the process dies, `kill -9` included, so a run still `running`
in meta.runs while its flow's lock is free belongs to a process that is gone: only such runs
are marked abandoned.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.engine import flow_run_id
from ingestion.batch import safe_message
from warehouse import meta
from warehouse.connect import DuckDBLimits, connect, kept_open
from warehouse.meta import RunCounts, RunStatus
from warehouse.schema import apply_ddl


class RunLocked(Exception):
    """Another process holds the warehouse's run lock."""


# Lock files this process holds, and how many times over (re-entrant).
_HELD: dict[Path, int] = {}


@contextmanager
def run_lock(warehouse: Path) -> Iterator[bool]:
    """Hold `<warehouse>.lock`; raise RunLocked at once if another process holds it. Yields
    True when this call took the lock, False when this process already held it."""
    path = warehouse.resolve().with_name(warehouse.name + ".lock")
    if _HELD.get(path):
        _HELD[path] += 1
        try:
            yield False
        finally:
            _HELD[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunLocked(
                f"another inflow run holds {warehouse} (process {holder}); try again when it ends"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _HELD[path] = 1
        try:
            yield True
        finally:
            _HELD.pop(path, None)
    finally:
        handle.close()  # closing releases the lock, also when the process dies


@dataclass
class RunRecord:
    """What a flow reports about its run before it ends: status, counts, message."""

    run_id: str
    status: RunStatus = "succeeded"
    counts: RunCounts = field(default_factory=lambda: RunCounts())
    message: str = ""


@contextmanager
def recorded_run(
    warehouse: Path, flow: str, limits: DuckDBLimits, *, keep_open: bool = False
) -> Iterator[RunRecord]:
    """meta.runs holds this run from its start: `running`, then the status the flow set, or
    `failed` with the error's first line when it raised (the error still propagates).

    `keep_open`: the database is held open from the run's start until its record is finished
    (warehouse.connect.kept_open): the run's commits, its record's included, only append to the
    WAL and one checkpoint follows (an ingest's writer adds checkpoints only while it would
    otherwise wait for its reader: flows.ingest.ingest). An ingest of many batches wants
    that; recorded apart, the record's own write reopened the database just checkpointed and
    checkpointed it again, 0.4-0.7 s of a 10-17 s ingest of the bench's 1.93M rows. Taken after
    the run lock, so a second writer still meets RunLocked, not DuckDB's lock error."""
    with run_lock(warehouse) as outermost:
        record = RunRecord(flow_run_id())
        with connect(warehouse, limits=limits) as con:
            if outermost:  # a nightly run's steps find the DDL its own start applied
                apply_ddl(con)
            meta.start_run(con, record.run_id, flow, datetime.now(UTC), os.getpid())
        with kept_open(warehouse, limits) if keep_open else nullcontext():
            try:
                yield record
            except BaseException as error:
                message = safe_message(f"{type(error).__name__}: {error}")
                _finish(warehouse, limits, record, "failed", message)
                raise
            _finish(warehouse, limits, record, record.status, record.message)


def _finish(
    warehouse: Path, limits: DuckDBLimits, record: RunRecord, status: RunStatus, message: str
) -> None:
    try:
        with connect(warehouse, limits=limits) as con:
            meta.finish_run(con, record.run_id, status, record.counts, message, datetime.now(UTC))
    except duckdb.Error:
        # Recording a failure must not hide it: the run stays `running` and the next run of
        # this flow marks it abandoned.
        if status != "failed":
            raise
