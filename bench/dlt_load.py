"""The peer a data engineer would pick instead of inflow's ingest: dlt, as its docs show it.

    python -m bench.dlt_load --landing DIR --format csv|parquet|jsonl --target FILE

Run as a whole process by bench/ingest.py, beside `inflow ingest` on the same files. Each file
is read with pyarrow (dlt's fast path for arrow tables: no row-by-row normalisation), tagged
with its file name, and yielded to a resource per table with `write_disposition="merge"` on
the natural keys and the latest capture kept (`dedup_sort` on captured_at), into a DuckDB
destination. What dlt does not do and inflow does: parse each value against a contract and
quarantine the rows that fail with a reason, read the platforms' own shapes into one model,
a manifest that skips files already loaded, lineage per row. For native JSON lines (API
responses saved as one record per line: a users table and a media table per platform, no
date in the record) the capture day comes from the file name, as a user would add it.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

# Canonical exports: one table per kind, keyed as inflow's staging tables are.
CANONICAL_KEYS = {
    "followers": ("platform", "account_id", "snapshot_date"),
    "posts": ("platform", "post_id", "snapshot_date"),
}
# Native exports: the record's own id and the capture day (from the file name).
NATIVE_ID = {"instagram": "id", "tiktok": "open_id", "youtube": "id"}
CAPTURE_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _read(path: Path, file_format: str) -> pa.Table:
    if file_format == "parquet":
        return pq.read_table(path)
    if file_format == "csv":
        # pyarrow infers the types; ids are text (a YouTube channel id is not a number, and an
        # id column inferred int64 in one file and string in the next stops dlt's extract).
        ids = pcsv.ConvertOptions(column_types={"account_id": pa.string(), "post_id": pa.string()})
        return pcsv.read_csv(path, convert_options=ids)
    return pjson.read_json(pa.input_stream(str(path), compression="detect"))


def _kind(path: Path, table: pa.Table) -> str:
    if "post_id" in table.column_names:
        return "posts"
    if "followers" in table.column_names:
        return "followers"
    # Native: users or media/videos, told apart by a column only media have.
    media = {"timestamp", "create_time", "snippet", "like_count"} & set(table.column_names)
    platform = next(p for p in NATIVE_ID if p in path.as_posix())
    is_media = bool(media) and not {"followers_count", "follower_count", "statistics"} & set(
        table.column_names
    )
    if platform == "youtube":
        is_media = table.column("kind")[0].as_py() == "youtube#video"
    return f"{platform}_{'media' if is_media else 'users'}"


def tables(landing: Path, file_format: str) -> Iterator[tuple[str, pa.Table]]:
    pattern = {"csv": "*.csv", "parquet": "*.parquet", "jsonl": "*.jsonl*"}[file_format]
    for path in sorted(landing.rglob(pattern)):
        if "_generator" in path.parts:
            continue
        table = _read(path, file_format)
        kind = _kind(path, table)
        table = table.append_column("source_file", pa.array([path.name] * table.num_rows))
        if kind not in CANONICAL_KEYS:
            day = date.fromisoformat(CAPTURE_DAY.search(path.name).group(1))  # type: ignore[union-attr]
            table = table.append_column("snapshot_date", pa.array([day] * table.num_rows))
        yield kind, table


def load(landing: Path, file_format: str, target: Path, workdir: Path) -> int:
    by_kind: dict[str, list[pa.Table]] = {}
    for kind, table in tables(landing, file_format):
        by_kind.setdefault(kind, []).append(table)
    resources = []
    for kind, parts in by_kind.items():
        if kind in CANONICAL_KEYS:
            keys: tuple[str, ...] = CANONICAL_KEYS[kind]
        else:
            keys = (NATIVE_ID[kind.split("_")[0]], "snapshot_date")
        sort = "captured_at" if kind in CANONICAL_KEYS else "source_file"
        resources.append(
            dlt.resource(
                iter(parts),
                name=kind,
                write_disposition="merge",
                primary_key=list(keys),
                columns={sort: {"dedup_sort": "desc"}},
            )
        )
    pipeline = dlt.pipeline(
        pipeline_name="bench_ingest",
        destination=dlt.destinations.duckdb(str(target)),
        dataset_name="landed",
        pipelines_dir=str(workdir),
        progress=None,
    )
    pipeline.run(resources)
    return sum(int(pc.sum(pa.array([t.num_rows for t in p])).as_py()) for p in by_kind.values())


def main() -> None:
    # dlt warns once per file that arrow's column hints differ from its schema's: noise here.
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--format", choices=("csv", "parquet", "jsonl"), required=True)
    parser.add_argument("--target", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    print(load(args.landing, args.format, args.target, args.workdir))


if __name__ == "__main__":
    main()
