"""`inflow export`: the published marts as Parquet files, for tools that prefer files.

Large facts are Hive-partitioned by platform and year (`platform=tiktok/year=2026/…`), so a
reader filtering on either prunes whole folders; the small marts are one file each. `platform`
and `year` then live in the folder names, not in the files: read with Hive partitioning on
(DuckDB `hive_partitioning = true`, Polars `scan_parquet(..., hive_partitioning=True)`,
pyarrow `partitioning="hive"`). `year` is derived from the column named below.

The export is written beside the target and swapped in mart by mart, so a failed export
leaves the previous one whole; it is a hand-off, not a live serving location (readers that
query while a run publishes should open the published DuckDB file).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from schemas.marts import MARTS
from warehouse.connect import connect
from warehouse.sql import sql_literal

# Mart -> the date column its `year` partition comes from.
PARTITIONED_BY_YEAR = {
    "fct_account_daily": "date",
    "fct_post_metrics": "published_date",
    "fct_engagement_weekly": "week_start",
}
MANIFEST = "_export.json"


def export_marts(published: Path, out: Path) -> dict[str, int]:
    """Write every published mart under `out`; returns rows per mart."""
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".export-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
    staging.mkdir()
    rows: dict[str, int] = {}
    try:
        with connect(published, read_only=True) as con:
            for mart in MARTS:
                rows[mart.name] = _copy_mart(con, mart.name, staging / mart.name)
        manifest = {
            "source": str(published.resolve()),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": rows,
            "hive_partitioning": {
                name: ["platform", f"year (of {column})"]
                for name, column in PARTITIONED_BY_YEAR.items()
            },
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for mart in MARTS:
            _swap_in(staging / mart.name, out / mart.name)
        os.replace(staging / MANIFEST, out / MANIFEST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows


def _copy_mart(con, name: str, target: Path) -> int:
    column = PARTITIONED_BY_YEAR.get(name)
    if column is None:
        target.mkdir()
        con.execute(
            f"copy marts.{name} to {sql_literal((target / 'data.parquet').as_posix())} "
            "(format parquet, compression zstd)"
        )
    else:
        # Sorted within partitions so that row-group statistics prune account and date filters.
        con.execute(
            f"copy (select *, year({column}) as year from marts.{name} "
            f"order by platform, year, account_id, {column}) "
            f"to {sql_literal(target.as_posix())} "
            "(format parquet, compression zstd, partition_by (platform, year))"
        )
    return con.execute(f"select count(*) from marts.{name}").fetchall()[0][0]


def _swap_in(new: Path, current: Path) -> None:
    # Directories cannot be replaced atomically: move the old one aside, move in, delete it.
    retired = current.with_name(f".{current.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    if current.exists():
        current.rename(retired)
    new.rename(current)
    shutil.rmtree(retired, ignore_errors=True)
