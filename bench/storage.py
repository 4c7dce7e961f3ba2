"""What the warehouse holds on disk per row, and what a bigger history would need.

    python -m bench.harness --only storage        (sizes in bench/harness.py)

Builds a history the way the transforms bench does (setup straight into staging, a full
rebuild, two published states), then measures each table alone: its rows and its bytes in a
DuckDB file of its own (the warehouse's format) and as one zstd Parquet file. Bytes per row are
what a bigger history is projected from (`--project ACCOUNTSxDAYS`, repeatable): the
snapshot and fact tables grow with accounts x days, dim_account with accounts, and the rest
(monthly aggregates, run metadata) stays about the same. The projected disk is the warehouse,
the published states (`KEPT_STATES` in the bench, `keep_published` in a deployment) and the
full rebuild's peak spill, scaled the same way.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import print_result, run_phase
from bench.transforms import KEPT_STATES, _args

# Which tables grow with accounts x days, and which with accounts only; others stay put.
HISTORY_TABLES = {
    "staging.follower_snapshots",
    "staging.post_snapshots",
    "marts.fct_account_daily",
    "marts.fct_post_metrics",
    "marts.fct_engagement_weekly",
    "marts.fct_tier_history",
    "marts.fct_tier_migrations",
}
ACCOUNT_TABLES = {"marts.dim_account", "staging.accounts"}


def table_sizes(warehouse: Path, scratch: Path) -> dict[str, dict]:
    """Rows, DuckDB bytes and zstd Parquet bytes of each non-empty table, each stored alone."""
    from warehouse.connect import connect

    con = connect(scratch / "measure.duckdb")
    con.execute(f"attach '{warehouse.as_posix()}' as w (read_only)")
    try:
        tables = con.execute(
            "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
            "where database_name = 'w' and estimated_size > 0 order by 1"
        ).fetchall()
        sizes = {}
        for name, _ in tables:
            sizes[name] = {
                "rows": con.execute(f"select count(*) from w.{name}").fetchall()[0][0],
                "duckdb_bytes": _duckdb_bytes(con, name, scratch, empty=False)
                - _duckdb_bytes(con, name, scratch, empty=True),
                "parquet_bytes": _parquet_bytes(con, name, scratch),
            }
        return sizes
    finally:
        con.close()


def _duckdb_bytes(con, name: str, scratch: Path, *, empty: bool) -> int:
    """The size of a DuckDB file holding only this table (or only its empty copy: the
    file's own overhead, subtracted)."""
    from warehouse.connect import STORAGE_COMPATIBILITY

    target = scratch / "alone.duckdb"
    target.unlink(missing_ok=True)
    # The warehouse's storage format, whose compression is what is being measured.
    con.execute(
        f"attach '{target.as_posix()}' as alone (storage_version '{STORAGE_COMPATIBILITY}')"
    )
    con.execute(f"create table alone.t as select * from w.{name}" + (" limit 0" if empty else ""))
    con.execute("detach alone")
    size = target.stat().st_size
    target.unlink()
    return size


def _parquet_bytes(con, name: str, scratch: Path) -> int:
    target = scratch / "alone.parquet"
    con.execute(f"copy w.{name} to '{target.as_posix()}' (format parquet, compression zstd)")
    size = target.stat().st_size
    target.unlink()
    return size


def projection(
    measured: dict, accounts: int, days: int, target_accounts: int, target_days: int
) -> dict:
    """Disk of a target history from the measured one's bytes per row (see the docstring)."""
    history = (target_accounts * target_days) / (accounts * days)
    account = target_accounts / accounts

    def grown(name: str) -> float:
        return history if name in HISTORY_TABLES else account if name in ACCOUNT_TABLES else 1.0

    tables = measured["tables"]
    staging = sum(
        t["duckdb_bytes"] * grown(n) for n, t in tables.items() if n.startswith("staging.")
    )
    marts = sum(t["duckdb_bytes"] * grown(n) for n, t in tables.items() if n.startswith("marts."))
    measured_marts = sum(t["duckdb_bytes"] for n, t in tables.items() if n.startswith("marts."))
    measured_tables = sum(t["duckdb_bytes"] for t in tables.values())
    projected_tables = sum(t["duckdb_bytes"] * grown(n) for n, t in tables.items())
    # The files hold more than their tables (free blocks, metadata): scaled with them.
    warehouse = measured["warehouse_bytes"] * projected_tables / measured_tables
    state = measured["published_bytes"] * marts / measured_marts
    spill = measured["full_spill_bytes"] * history
    parquet_staging = sum(
        t["parquet_bytes"] * grown(n) for n, t in tables.items() if n.startswith("staging.")
    )
    gb = 2**30
    return {
        "accounts": target_accounts,
        "days": target_days,
        "follower_rows": round(tables["staging.follower_snapshots"]["rows"] * history),
        "post_rows": round(tables["staging.post_snapshots"]["rows"] * history),
        "staging_gb": round(staging / gb, 1),
        "staging_parquet_gb": round(parquet_staging / gb, 1),
        "marts_gb": round(marts / gb, 1),
        "warehouse_gb": round(warehouse / gb, 1),
        "published_state_gb": round(state / gb, 1),
        "full_spill_gb": round(spill / gb, 1),
        "disk_gb": round((warehouse + KEPT_STATES * state + spill) / gb, 1),
    }


def run(accounts: int, days: int, post_window: int, targets: list[tuple[int, int]]) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="inflow-storage-bench-"))
    try:
        warehouse = workdir / "history.duckdb"
        extra = _args(accounts, days, post_window, warehouse)
        setup = run_phase("bench.transforms", "--phase", "setup", *extra)
        full = run_phase("bench.transforms", "--phase", "full", *extra)
        published = workdir / "published" / "inflow.duckdb"
        scratch = workdir / "scratch"
        scratch.mkdir()
        measured = {
            "tables": table_sizes(warehouse, scratch),
            "warehouse_bytes": warehouse.stat().st_size,
            "published_bytes": published.stat().st_size,
            "full_spill_bytes": full["spill_mb"] * 2**20,
        }
        # Days 1..D-1 are staged and built (day D is the bench's night): the measured history.
        built_days = days - 1
        return {
            "accounts": accounts,
            "days": built_days,
            "post_window": post_window,
            "setup_peak_rss_mb": setup["peak_rss_mb"],
            "full_peak_rss_mb": full["peak_rss_mb"],
            "kept_states": KEPT_STATES,
            **measured,
            "projections": [projection(measured, accounts, built_days, a, d) for a, d in targets],
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _target(text: str) -> tuple[int, int]:
    accounts, days = text.lower().split("x")
    return int(accounts), int(days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=61)
    parser.add_argument("--post-window", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="ignored: sizes do not vary")
    parser.add_argument(
        "--project",
        type=_target,
        action="append",
        help="a history to project, ACCOUNTSxDAYS (default: 1000000x100 and 1000000x365)",
    )
    args = parser.parse_args()
    targets = args.project or [(1_000_000, 100), (1_000_000, 365)]
    print_result(run(args.accounts, args.days, args.post_window, targets))


if __name__ == "__main__":
    main()
