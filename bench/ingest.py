"""Ingest throughput per format: inflow versus a bare DuckDB load and a naive pandas loader.

    python -m bench.harness --only ingest        (sizes in bench/harness.py)

For each format the same simulated data is written as a landing folder, then, in the same run:
  1. inflow's `ingest` flow into a fresh warehouse (contract parsing, quarantine, dedup and
     upsert, manifest), `repeat` times;
  2. bare DuckDB: `CREATE TABLE AS SELECT * FROM read_csv/read_parquet/read_json(glob)` of the
     same files, one table per kind, `repeat` times;
  3. the loader a user writes by hand: pandas `read_csv`/`read_parquet`/`read_json` per file and
     row inserts (`executemany`) into DuckDB. It is slow, so it runs on the first files up to
     `naive_rows` rows and is compared by rows per second.
The Prefect temporary server start is measured apart (once per process, not per row).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import median, print_result

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

    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target), config={"preserve_insertion_order": False})
    began = time.perf_counter()
    con.execute(f"create table landed as select * from {reader.format(root=root)}")
    seconds = time.perf_counter() - began
    ((rows,),) = con.execute("select count(*) from landed").fetchall()
    con.close()
    return seconds, rows


def _read_with_pandas(path: Path):
    import pandas as pd

    if path.name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path)
    if path.name.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_json(path, lines=True)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def naive_pandas_load(files: list[Path], target: Path, max_rows: int) -> tuple[float, int]:
    """pandas per file, then row inserts: one table per column set, every value as text."""
    import duckdb

    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    tables: dict[tuple[str, ...], str] = {}
    rows = 0
    began = time.perf_counter()
    for path in files:
        frame = _read_with_pandas(path)
        columns = tuple(str(c) for c in frame.columns)
        if columns not in tables:
            tables[columns] = f"landed_{len(tables)}"
            listed = ", ".join(f'"{c}" varchar' for c in columns)
            con.execute(f"create table {tables[columns]} ({listed})")
        values = [
            tuple(_text(v) for v in record) for record in frame.itertuples(index=False, name=None)
        ]
        placeholders = ", ".join("?" for _ in columns)
        con.executemany(f"insert into {tables[columns]} values ({placeholders})", values)
        rows += len(values)
        if rows >= max_rows:
            break
    seconds = time.perf_counter() - began
    con.close()
    return seconds, rows


def run(accounts: int, days: int, repeat: int, naive_rows: int, formats: list[str]) -> dict:
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import ingest
    from sample.landing import generate_landing
    from sample.simulate import PLATFORMS_ALL

    workdir = Path(tempfile.mkdtemp(prefix="inflow-ingest-bench-"))
    results: dict = {"accounts": accounts, "days": days, "runs": repeat, "formats": {}}
    try:
        began = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=120):
            results["prefect_server_start_s"] = round(time.perf_counter() - began, 1)
            for name in formats:
                landing = workdir / "landing"
                shutil.rmtree(landing, ignore_errors=True)
                generate_landing(
                    landing,
                    accounts=accounts,
                    days=days,
                    seed=1,
                    start=date(2026, 1, 1),
                    platforms=PLATFORMS_ALL,
                    rotation=FORMATS[name],
                )
                manifest = json.loads((landing / "_generator" / "manifest.json").read_text())
                inflow_runs, rows = [], 0
                for _ in range(repeat):
                    warehouse = workdir / "wh" / "bench.duckdb"
                    shutil.rmtree(warehouse.parent, ignore_errors=True)
                    started = time.perf_counter()
                    summary = ingest(landing=landing, warehouse=warehouse)
                    inflow_runs.append(time.perf_counter() - started)
                    rows = summary.rows_read
                bare_runs, bare_rows = [], 0
                for _ in range(repeat):
                    seconds, bare_rows = 0.0, 0
                    # Each kind into its own table, as inflow does; times add up.
                    for kind in ("followers", "posts"):
                        kind_root = workdir / "bare"
                        shutil.rmtree(kind_root, ignore_errors=True)
                        kind_root.mkdir()
                        for f in manifest["files"]:
                            if f["kind"] == kind:
                                (kind_root / Path(f["path"]).name).symlink_to(landing / f["path"])
                        kind_seconds, kind_rows = bare_duckdb_load(
                            kind_root, DUCKDB_READER[name], workdir / "bare.duckdb"
                        )
                        seconds += kind_seconds
                        bare_rows += kind_rows
                    bare_runs.append(seconds)
                files = sorted(landing / f["path"] for f in manifest["files"])
                naive_seconds, naive_count = naive_pandas_load(
                    files, workdir / "naive.duckdb", naive_rows
                )
                inflow_s, bare_s = median(inflow_runs), median(bare_runs)
                results["formats"][name] = {
                    "rows": rows,
                    "inflow_s": inflow_s,
                    "inflow_rows_per_s": round(rows / inflow_s),
                    "bare_s": bare_s,
                    "bare_rows": bare_rows,
                    "bare_rows_per_s": round(bare_rows / bare_s),
                    "naive_rows": naive_count,
                    "naive_s": round(naive_seconds, 2),
                    "naive_rows_per_s": round(naive_count / naive_seconds),
                }
                shutil.rmtree(landing, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=15000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-rows", type=int, default=200_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    print_result(
        run(args.accounts, args.days, args.repeat, args.naive_rows, args.formats.split(","))
    )


if __name__ == "__main__":
    main()
