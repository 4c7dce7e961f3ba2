"""Run records and the file manifest in the `meta` schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypedDict

import duckdb

from warehouse.sql import sql_text

# A run in meta.runs: running until it finishes; failed when it raised (a refused publish, a
# critical check); abandoned when its process ended first.
RunStatus = Literal["running", "succeeded", "completed_with_errors", "failed", "abandoned"]


class RunCounts(TypedDict, total=False):
    """The counts a run records in meta.runs: each flow fills the ones it has."""

    files_seen: int
    files_loaded: int
    files_failed: int
    files_skipped: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_count_hidden: int
    accounts_rebuilt: int
    checks: int
    checks_failed: int
    published_state: str


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, flow: str, now: datetime, pid: int
) -> None:
    """Record a run as running. Called under the run lock, which a live writer would hold:
    runs of this flow still `running` from another process belong to one that is gone, and
    are marked abandoned (this process's own, e.g. a nightly run's, are left alone)."""
    con.execute(
        "update meta.runs set status = 'abandoned', message = 'the process ended before the run finished' "
        "where status = 'running' and flow = $1 and pid is distinct from $2",
        [flow, pid],
    )
    con.execute(
        "insert into meta.runs (run_id, flow, started_at, status, pid) "
        "values ($1, $2, $3, 'running', $4)",
        [run_id, flow, now, pid],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: RunStatus,
    counts: RunCounts,
    message: str,
    now: datetime,
) -> None:
    """Record a run's end: its status, message and counts (column names: RunCounts' keys)."""
    unknown = set(counts) - set(RunCounts.__annotations__)
    if unknown:
        raise ValueError(f"meta.runs has no column {', '.join(sorted(unknown))}")
    assignments = "".join(f", {c} = ${i}" for i, c in enumerate(counts, start=5))
    con.execute(
        f"update meta.runs set status = $2, message = $3, finished_at = $4{assignments} where run_id = $1",
        [run_id, status, message, now, *counts.values()],
    )


def known_files(
    con: duckdb.DuckDBPyConnection,
) -> tuple[set[tuple[str, str]], list[tuple[str, str]]]:
    """(path, sha256) pairs already handled, and the (sha256, path) of every loaded file."""
    handled = set(con.execute("select path, sha256 from meta.ingested_files").fetchall())
    loaded = con.execute(
        "select sha256, path from meta.ingested_files where status = 'loaded' order by path"
    ).fetchall()
    return handled, loaded


def campaign_files(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """The (path, sha256) of the campaign files the staged campaigns were read from."""
    return set(con.execute("select path, sha256 from meta.campaign_files").fetchall())


def mark_transformed(con: duckdb.DuckDBPyConnection, transform_run_id: str, now: datetime) -> None:
    """Record every ingest run not transformed yet as transformed by this run, and prune the
    touched accounts no step needs any more (inside the rebuild's transaction)."""
    con.execute(
        "insert into meta.transformed_runs select distinct run_id, $1, $2 from meta.touched_accounts "
        "where run_id not in (select run_id from meta.transformed_runs)",
        [transform_run_id, now],
    )
    con.execute(sql_text("sql", "prune_touched_accounts.sql"))


@dataclass(frozen=True)
class MartBuild:
    """The definitions marts are built with (meta.mart_build)."""

    tier_scheme: str
    tier_bounds: dict[str, int]
    confirmation_days: int
    contract_version: str


def recorded_build(con: duckdb.DuckDBPyConnection) -> MartBuild | None:
    """What the marts were last fully built with; None before the first build."""
    rows = con.execute(
        "select tier_scheme, tier_bounds, confirmation_days, contract_version "
        "from meta.mart_build order by built_at desc limit 1"
    ).fetchall()
    if not rows:
        return None
    scheme, bounds, days, version = rows[0]
    return MartBuild(scheme, json.loads(bounds), days, version)


def record_build(
    con: duckdb.DuckDBPyConnection, build: MartBuild, run_id: str, now: datetime
) -> None:
    """Record the definitions of a build (inside its transaction): the one row of the table."""
    con.execute("delete from meta.mart_build")
    con.execute(
        "insert into meta.mart_build values ($1, $2, $3, $4, $5, $6)",
        [
            build.tier_scheme,
            json.dumps(build.tier_bounds),
            build.confirmation_days,
            build.contract_version,
            run_id,
            now,
        ],
    )
