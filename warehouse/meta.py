"""Run records and the file manifest in the `meta` schema."""

from __future__ import annotations

from datetime import datetime

import duckdb


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str, now: datetime) -> None:
    """Record a run as running; runs a killed process left running are marked abandoned."""
    con.execute(
        "update meta.runs set status = 'abandoned', message = 'the process ended before the run finished' "
        "where status = 'running' and flow = $1",
        [flow],
    )
    con.execute(
        "insert into meta.runs (run_id, flow, started_at, status) values ($1, $2, $3, 'running')",
        [run_id, flow, now],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    counts: dict,
    message: str,
    now: datetime,
) -> None:
    columns = (
        "files_seen",
        "files_loaded",
        "files_failed",
        "files_skipped",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
    )
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=5))
    con.execute(
        f"update meta.runs set status = $2, message = $3, finished_at = $4, {assignments} where run_id = $1",
        [run_id, status, message, now, *(counts.get(c, 0) for c in columns)],
    )


def known_files(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """(path, sha256) pairs already handled, and for each loaded content hash its first path."""
    handled = set(con.execute("select path, sha256 from meta.ingested_files").fetchall())
    loaded = dict(
        con.execute(
            "select sha256, min(path) from meta.ingested_files where status = 'loaded' group by sha256"
        ).fetchall()
    )
    return handled, loaded
