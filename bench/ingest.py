"""Ingest per format, whole processes: inflow versus dlt (the peer) and bare DuckDB (the limit).

    python -m bench.harness --only ingest        (sizes in bench/harness.py)

For each format the same simulated data is written as a landing folder, then, alternating in
the same run, `repeat` times each, every one a fresh process into a fresh target (wall time and
peak resident memory of the process, from `wait4`):
  1. `inflow ingest` (discovery and sha256, contract parsing of every value, quarantine with
     reasons, dedup and transactional upsert, manifest, lineage), flows run directly (no
     Prefect API configured: what a user's command does);
  2. dlt (bench/dlt_load.py): pyarrow readers, `write_disposition="merge"` on the natural keys,
     DuckDB destination: what a data engineer would pick instead;
  3. bare DuckDB: `CREATE TABLE AS SELECT * FROM read_csv/read_parquet/read_json(glob)` of the
     same files, one table per kind (type inference and nothing else): the engine's limit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import median, print_result

# name: (generator rotation, dlt_load's --format, DuckDB's reader over a folder of one kind)
FORMATS = {
    "canonical CSV": (
        (("canonical", "csv", False),),
        "csv",
        "read_csv('{root}/*.csv', union_by_name = true)",
    ),
    "canonical Parquet": (
        (("canonical", "parquet", False),),
        "parquet",
        "read_parquet('{root}/*.parquet', union_by_name = true)",
    ),
    "native JSON lines (gzip)": (
        (("native", "jsonl", True),),
        "jsonl",
        "read_json('{root}/*.jsonl.gz', format = 'newline_delimited', union_by_name = true)",
    ),
}
TOOLS = ("inflow", "dlt", "duckdb")

BARE = """
import sys, duckdb
target, reader, *roots = sys.argv[1:]
con = duckdb.connect(target, config={"preserve_insertion_order": False})
for number, root in enumerate(roots):
    con.execute(f"create table landed_{number} as select * from " + reader.format(root=root))
"""


def whole_process(command: list[str], **kwargs) -> tuple[float, float]:
    """Wall seconds and peak resident MB of `command` run as its own process (its peak
    includes what it was forked with: the caller must be small, as this module's is)."""
    with tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, **kwargs)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read()[-3000:].decode(errors="replace")
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
    return seconds, usage.ru_maxrss / 1024  # Linux: kilobytes


def _kind_folders(landing: Path, workdir: Path) -> list[Path]:
    """One folder of symlinks per kind (followers, posts), for DuckDB's one-table globs."""
    manifest = json.loads((landing / "_generator" / "manifest.json").read_text())
    folders = []
    for kind in sorted({f["kind"] for f in manifest["files"]}):
        folder = workdir / f"kind-{kind}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for number, f in enumerate(manifest["files"]):
            if f["kind"] == kind:
                source = landing / f["path"]
                (folder / f"{number:05d}-{source.name}").symlink_to(source)
        folders.append(folder)
    return folders


def _target(workdir: Path, tool: str) -> Path:
    return workdir / "target" / f"{tool}.duckdb"


def _commands(name: str, landing: Path, workdir: Path) -> dict[str, list[str]]:
    """Each tool's command for one format's landing (each into `_target(workdir, tool)`)."""
    target = {tool: _target(workdir, tool) for tool in TOOLS}
    _, dlt_format, reader = FORMATS[name]
    inflow = str(Path(sys.executable).parent / "inflow")
    kinds = [str(folder) for folder in _kind_folders(landing, workdir)]
    return {
        "inflow": [
            inflow,
            "ingest",
            "--landing",
            str(landing),
            "--warehouse",
            str(target["inflow"]),
        ],
        "dlt": [
            sys.executable,
            "-m",
            "bench.dlt_load",
            "--landing",
            str(landing),
            "--format",
            dlt_format,
            "--target",
            str(target["dlt"]),
            "--workdir",
            str(workdir / "dlt-pipelines"),
        ],
        "duckdb": [sys.executable, "-c", BARE, str(target["duckdb"]), reader, *kinds],
    }


def _rows(target: Path, tool: str) -> int:
    import duckdb

    con = duckdb.connect(str(target), read_only=True)
    try:
        if tool == "inflow":
            sql = "select sum(rows_read) from meta.ingested_files"
        else:
            schema = "landed" if tool == "dlt" else "main"
            listed = con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_name not like '\\_dlt%' escape '\\'",
                [schema],
            ).fetchall()
            sql = " + ".join(f"(select count(*) from {schema}.{t})" for (t,) in listed)
            sql = f"select {sql}"
        ((rows,),) = con.execute(sql).fetchall()
        return int(rows)
    finally:
        con.close()


def write_landing(landing: Path, name: str, accounts: int, days: int) -> None:
    from sample.landing import generate_landing
    from sample.simulate import PLATFORMS_ALL

    generate_landing(
        landing,
        accounts=accounts,
        days=days,
        seed=1,
        start=date(2026, 1, 1),
        platforms=PLATFORMS_ALL,
        rotation=FORMATS[name][0],
    )


def run(accounts: int, days: int, repeat: int, formats: list[str]) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="inflow-ingest-bench-"))
    # No Prefect API: the commands run their flows directly, as a user's would.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    environment["PREFECT_HOME"] = str(workdir / "prefect-home")
    # The processes run in the work folder: bench/ (not an installed package) from here.
    root = str(Path(__file__).resolve().parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    results: dict = {"accounts": accounts, "days": days, "runs": repeat, "formats": {}}
    try:
        for name in formats:
            landing = workdir / "landing"
            shutil.rmtree(landing, ignore_errors=True)
            # Written by a process of its own: a child's peak memory counts the pages it was
            # forked with, so this process must stay small (it holds no landing data).
            write = [sys.executable, "-m", "bench.ingest", "--write-landing", str(landing)]
            write += ["--formats", name, "--accounts", str(accounts), "--days", str(days)]
            subprocess.run(write, check=True, env=environment)
            landed_bytes = sum(
                p.stat().st_size
                for p in landing.rglob("*")
                if p.is_file() and "_generator" not in p.parts
            )
            times: dict[str, list[float]] = {tool: [] for tool in TOOLS}
            peaks: dict[str, list[float]] = {tool: [] for tool in TOOLS}
            rows: dict[str, int] = {}
            commands = _commands(name, landing, workdir)
            for _ in range(repeat):
                for tool in TOOLS:  # alternating: drift in the machine hits every tool alike
                    target = _target(workdir, tool)
                    shutil.rmtree(target.parent, ignore_errors=True)
                    shutil.rmtree(workdir / "dlt-pipelines", ignore_errors=True)
                    target.parent.mkdir()
                    seconds, peak = whole_process(commands[tool], env=environment, cwd=workdir)
                    times[tool].append(seconds)
                    peaks[tool].append(peak)
                    rows[tool] = _rows(target, tool)
            results["formats"][name] = {
                "landed_mb": round(landed_bytes / 2**20, 1),
                "rows": rows,
                "wall_s": {tool: median(times[tool]) for tool in TOOLS},
                "peak_mb": {tool: round(median(peaks[tool])) for tool in TOOLS},
            }
            shutil.rmtree(landing, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--write-landing", type=Path, help="only write the landing of one format")
    args = parser.parse_args()
    if args.write_landing:
        write_landing(args.write_landing, args.formats, args.accounts, args.days)
        return
    print_result(run(args.accounts, args.days, args.repeat, args.formats.split(",")))


if __name__ == "__main__":
    main()
