"""Run identity and record: every flow run's id (the same in meta.runs, lineage columns and
Prefect) and its row in meta.runs, for every flow, whatever its outcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.batch import safe_message
from warehouse import meta
from warehouse.connect import DuckDBLimits, connect
from warehouse.meta import RunCounts, RunStatus
from warehouse.schema import apply_ddl


def current_run_id() -> str:
    """The current Prefect flow run's id, or a fresh UUID outside one (a flow function called
    directly, a test)."""
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4())


@dataclass
class RunRecord:
    """What a flow reports about its run before it ends: status, counts, message."""

    run_id: str
    status: RunStatus = "succeeded"
    counts: RunCounts = field(default_factory=lambda: RunCounts())
    message: str = ""


@contextmanager
def recorded_run(warehouse: Path, flow: str, limits: DuckDBLimits) -> Iterator[RunRecord]:
    """meta.runs holds this run from its start: `running`, then the status the flow set, or
    `failed` with the error's first line when it raised (the error still propagates)."""
    record = RunRecord(current_run_id())
    with connect(warehouse, limits=limits) as con:
        apply_ddl(con)
        meta.start_run(con, record.run_id, flow, datetime.now(UTC))
    try:
        yield record
    except BaseException as error:
        _finish(
            warehouse, limits, record, "failed", safe_message(f"{type(error).__name__}: {error}")
        )
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
