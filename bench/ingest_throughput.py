"""Ingest throughput versus a bare DuckDB load of the same files, measured in the same run.

    python -m bench.ingest_throughput --accounts 15000 --days 60

Writes one landing folder per format, then for each: (1) inflow's `ingest` flow (contract
parsing, quarantine, dedup and upsert, manifest) into a fresh warehouse, and (2) DuckDB's own
`CREATE TABLE AS SELECT * FROM read_csv/read_json/read_parquet(...)` of the same files. Prints
rows/s of each and the ratio. The Prefect server start is measured apart (it is per run, not
per row).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

FORMATS = {
    "canonical CSV": (("canonical", "csv", False),),
    "canonical Parquet": (("canonical", "parquet", False),),
    "native JSON lines (gzip)": (("native", "jsonl", True),),
}
DUCKDB_READER = {
    "canonical CSV": "read_csv('{root}/**/*.csv', union_by_name = true)",
    "canonical Parquet": "read_parquet('{root}/**/*.parquet', union_by_name = true)",
    "native JSON lines (gzip)": "read_json('{root}/**/*.jsonl.gz', format = 'newline_delimited', union_by_name = true)",
}


def bare_duckdb_load(root: Path, reader: str, target: Path) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect(str(target), config={"preserve_insertion_order": False})
    began = time.perf_counter()
    con.execute(f"create table landed as select * from {reader.format(root=root)}")
    seconds = time.perf_counter() - began
    ((rows,),) = con.execute("select count(*) from landed").fetchall()
    con.close()
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=15000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from flows.generator.landing import generate_landing
    from flows.generator.simulate import PLATFORMS_ALL
    from flows.ingest import ingest

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="inflow-bench-"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    began = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120):
        print(f"Prefect temporary server start: {time.perf_counter() - began:.1f} s (once per run)")
        print("| format | rows | inflow ingest s | rows/s | bare DuckDB CTAS s | rows/s | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name in args.formats.split(","):
            landing = workdir / name.replace(" ", "_").replace("(", "").replace(")", "")
            shutil.rmtree(landing, ignore_errors=True)
            generate_landing(
                landing,
                accounts=args.accounts,
                days=args.days,
                seed=1,
                start=date(2026, 1, 1),
                platforms=PLATFORMS_ALL,
                rotation=FORMATS[name],
            )
            # Posts and followers land in separate files; DuckDB's baseline loads each kind
            # into its own table, like inflow does, and the times add up.
            warehouse = workdir / "bench.duckdb"
            for leftover in workdir.glob("bench.duckdb*"):
                leftover.unlink()
            started = time.perf_counter()
            summary = ingest(landing=landing, warehouse=warehouse)
            inflow_seconds = time.perf_counter() - started
            bare_seconds = 0.0
            bare_rows = 0
            manifest = json.loads((landing / "_generator" / "manifest.json").read_text())
            for kind in ("followers", "posts"):
                kind_root = workdir / "bare"
                shutil.rmtree(kind_root, ignore_errors=True)
                kind_root.mkdir()
                for f in manifest["files"]:
                    if f["kind"] == kind:
                        (kind_root / Path(f["path"]).name).symlink_to(landing / f["path"])
                target = workdir / "bare.duckdb"
                target.unlink(missing_ok=True)
                seconds, rows = bare_duckdb_load(kind_root, DUCKDB_READER[name], target)
                bare_seconds += seconds
                bare_rows += rows
            rows = summary.rows_read
            print(
                f"| {name} | {rows:,} | {inflow_seconds:.1f} | {rows / inflow_seconds:,.0f} | "
                f"{bare_seconds:.1f} | {bare_rows / bare_seconds:,.0f} | {inflow_seconds / bare_seconds:.2f}x |",
                flush=True,
            )
            shutil.rmtree(landing, ignore_errors=True)


if __name__ == "__main__":
    main()
