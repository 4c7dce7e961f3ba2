"""Publishing from the lake: a state is a manifest of table versions, read through DuckDB views.

A publish on the lake copies no rows. It pins each mart's current Delta version and writes
`states/<stamp>.duckdb`: views over exactly that version's Parquet files (the manifest: table,
version and file list, also kept in the file as `meta.lake_manifest`), the reader tables
`inflow status` reads, and the marts' descriptions. The published path is pointed at it with a
hard link and `os.replace`, as in the default path (warehouse/publish.py), so `rollback` and
every reader work unchanged: the DuckDB CLI, duckdb-engine, BI tools and `inflow sql` open a
DuckDB file and need no Delta extension.

Vacuum deletes the data files that neither a kept state nor a table's current version reads;
states beyond `keep` are pruned first, so every kept state stays readable. A reader still
holding a pruned state loses its files (in the default path it keeps its unlinked copy): the
`keep` states are the promise. Compaction of closed months (`compact_months`) rewrites them
into fewer files as new versions; published states keep reading the old files until vacuumed.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from warehouse.connect import NO_LIMITS, DuckDBLimits, connect, transaction
from warehouse.lake import (
    MART_TABLES,
    Lake,
    LakeError,
    create_mart_views,
    point_views,
    writer,
)
from warehouse.publish import (
    READER_META,
    STATES,
    PublishRefused,
    _copy_comments,
    _latest_change,
    _point_published_at,
    _prune,
    _write_state_info,
    critical_failures,
    published_states,
)
from warehouse.schema import apply_ddl
from warehouse.sql import sql_literal


def publish_lake(
    working: Path,
    lake: Lake,
    published_dir: Path,
    keep: int = 3,
    limits: DuckDBLimits = NO_LIMITS,
) -> Path:
    """Publish the lake's current mart versions; refuses while the latest validation failed
    critically, or while a transform on the lake is unfinished (its commits are not a state)."""
    for leftover in (published_dir / STATES).glob("*.building*"):
        leftover.unlink(missing_ok=True)
    if lake.running():
        raise LakeError(
            f"a transform on the lake at {lake.root} did not finish: run `inflow transform` "
            "(it restores the tables first) before publishing"
        )
    with connect(working, limits=limits) as con:
        apply_ddl(con)
        failures = critical_failures(con)
        if failures:
            named = ", ".join(f"{suite}.{check}" for suite, check in failures)
            raise PublishRefused(f"critical quality failures block publishing: {named}")
        database = con.execute("select current_database()").fetchall()[0][0]
        watermark = _latest_change(con, database)
    manifest = {name: lake.open(spec).version() for name, spec in MART_TABLES.items()}
    files = {name: lake.files(MART_TABLES[name], version) for name, version in manifest.items()}
    states = published_dir / STATES
    states.mkdir(parents=True, exist_ok=True)
    state = states / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.duckdb"
    building = state.with_suffix(".building")
    building.unlink(missing_ok=True)
    with connect(building, limits=limits) as con:
        con.execute("create schema if not exists meta")
        create_mart_views(con, files)
        con.execute(f"attach {sql_literal(working.resolve().as_posix())} as working (read_only)")
        with transaction(con):
            for table in READER_META:
                con.execute(f"create table {table} as select * from working.{table}")
                _copy_comments(con, table)
            _write_state_info(con, watermark, "lake")
            con.execute(
                "create table meta.lake_manifest "
                "(table_name varchar, version bigint, file varchar, lake varchar)"
            )
            con.executemany(
                "insert into meta.lake_manifest values (?, ?, ?, ?)",
                [
                    (name, manifest[name], file, lake.root)
                    for name, listed in files.items()
                    for file in _or_none(listed)
                ],
            )
            con.execute(
                "comment on table meta.lake_manifest is 'The Delta table versions this published "
                'state reads (storage = "delta"), with their Parquet files.\''
            )
        con.execute("detach working")
        con.execute("checkpoint")
    os.replace(building, state)
    _point_published_at(state, published_dir)
    _prune(states, keep)
    vacuum(lake, published_dir)
    return state


def _or_none(files: list[str]) -> list[str | None]:
    """A version's files, or one null row: an empty table is in the manifest all the same."""
    return list(files) if files else [None]


def manifest_of(state: Path) -> dict[str, int]:
    """{mart: Delta version} a published state reads."""
    with connect(state, read_only=True) as con:
        return dict(
            con.execute("select distinct table_name, version from meta.lake_manifest").fetchall()
        )


def _kept_files(lake: Lake, published_dir: Path) -> set[str]:
    kept = set()
    for state in published_states(published_dir):
        with connect(state, read_only=True) as con:
            kept |= {
                os.path.realpath(file)
                for (file,) in con.execute(
                    "select file from meta.lake_manifest where file is not null"
                ).fetchall()
            }
    for spec in lake.tables():
        kept |= {os.path.realpath(file) for file in lake.files(spec)}
    return kept


def vacuum(lake: Lake, published_dir: Path) -> int:
    """Delete the lake's data files that no kept state and no current version reads; returns
    how many. Skipped while a transform is unfinished (its start versions may be restored)."""
    if lake.running():
        return 0
    kept = _kept_files(lake, published_dir)
    removed = 0
    for spec in lake.tables():
        for path in Path(lake.uri(spec)).rglob("*.parquet"):
            if os.path.realpath(path) not in kept:
                path.unlink()
                removed += 1
    return removed


def compact_months(lake: Lake, warehouse: Path, before: date) -> dict[str, int]:
    """Rewrite the month partitions before `before` (closed months: no night rewrites them any
    more unless data arrives very late) into few large files, each table as one new version;
    returns files removed per table. The warehouse's views follow the new versions."""
    removed: dict[str, int] = {}
    for spec in lake.tables():
        if not spec.month_of:
            continue
        metrics = lake.open(spec).optimize.compact(
            partition_filters=[("month", "<", before.isoformat())],
            writer_properties=writer(),
        )
        removed[spec.key] = int(metrics.get("numFilesRemoved", 0))
    with connect(warehouse) as con:
        point_views(con, lake)
    return removed
