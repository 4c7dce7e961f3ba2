"""The night's floor: the rows an incremental night reads and writes, at this machine's rates.

    python -m bench.transforms --phase setup --accounts 200000 --days 30 --warehouse H
    python -m bench.transforms --phase full --warehouse H
    python -m bench.floor --warehouse <a copy of H>

Loads the history's next day (as the transforms bench's night does), then runs the night's
rebuild with every input read counted: the rows and Arrow bytes of each query the rebuild
spills or reads (each query run once more into Arrow to count it, so the rebuild's own time
here is not the night's: the nightly and transforms suites time it). Then measures the
warehouse's scan rate (marts and staging tables read whole into Arrow) and insert rate
(fct_account_daily and fct_post_metrics rows inserted, rolled back), medians of 3. The scans
hold each table whole in memory (8.5 GB peak on the 200,000-creator history).

The floor is the time those bytes and rows take at those rates: what no design of the same
inputs and outputs can go under on this machine, before any computing. A night's inputs are
bounded by its windows (29 days of daily rows, 8 weeks of posts, the month and the scorecard
window before it), not by the history's length, so they scale with accounts.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from bench.common import print_result

# Tables whose scan rate is measured (read whole into Arrow), and the marts whose insert rate.
SCANNED = (
    "marts.fct_account_daily",
    "marts.fct_post_metrics",
    "staging.follower_snapshots",
    "staging.post_snapshots",
)
INSERTED = ("fct_account_daily", "fct_post_metrics")
# Rows per insert measured (at most: a smaller mart inserts what it has).
INSERT_ROWS = 1_000_000


@contextmanager
def counted_reads() -> Iterator[list[dict]]:
    """Every query the rebuild spills (warehouse.marts.spill_partitions) and every read of posts
    (with their tags for campaigns, the month's for brand mentions and sponsored months), counted
    as they are made: name, rows, Arrow bytes."""
    import warehouse.marts as wm

    reads: list[dict] = []
    spill, posts_with_tags, month_posts = wm.spill_partitions, wm.posts_with_tags, wm.month_posts

    def count(name: str, frame: pl.DataFrame) -> None:
        reads.append({"read": name, "rows": frame.height, "mb": frame.estimated_size() / 1e6})

    def counting_spill(
        con: duckdb.DuckDBPyConnection, queries: dict[str, str], folder: Path, partitions: int
    ) -> wm.PartitionedInputs:
        for name, sql in queries.items():
            arrow = con.sql(f"select * exclude (partition_number) from ({sql})").to_arrow_table()
            reads.append({"read": name, "rows": arrow.num_rows, "mb": arrow.nbytes / 1e6})
        return spill(con, queries, folder, partitions)

    def counting_posts(*args: object, **kwargs: object) -> pl.DataFrame:
        posts = posts_with_tags(*args, **kwargs)  # type: ignore[arg-type]
        count("posts_with_tags", posts)
        return posts

    def counting_month_posts(*args: object, **kwargs: object) -> tuple[pl.DataFrame, pl.DataFrame]:
        posts, named = month_posts(*args, **kwargs)  # type: ignore[arg-type]
        count("month_posts", posts)
        count("brand_posts", named)
        return posts, named

    # Module attributes: warehouse.marts and flows.transform look them up at each call.
    wm.spill_partitions, wm.posts_with_tags = counting_spill, counting_posts
    wm.month_posts = counting_month_posts
    try:
        yield reads
    finally:
        wm.spill_partitions, wm.posts_with_tags, wm.month_posts = (
            spill,
            posts_with_tags,
            month_posts,
        )


def _median_seconds(action: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def scan_rates(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Each SCANNED table read whole into Arrow: rows, MB, seconds (median of 3)."""
    rates = []
    for name in SCANNED:

        def scan(table: str = name) -> pa.Table:
            return con.sql(f"select * from {table}").to_arrow_table()

        seconds, arrow = _median_seconds(scan)
        assert isinstance(arrow, pa.Table)
        rates.append(
            {"table": name, "rows": arrow.num_rows, "mb": arrow.nbytes / 1e6, "seconds": seconds}
        )
    return rates


def insert_rates(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """INSERT_ROWS rows of each INSERTED mart inserted again (rolled back): rows, MB, seconds."""
    rates = []
    for mart in INSERTED:
        rows = con.sql(f"select * from marts.{mart} limit {INSERT_ROWS}").to_arrow_table()
        con.register("floor_rows", rows)

        def insert(mart: str = mart) -> None:
            con.execute("begin")
            try:
                con.execute(f"insert into marts.{mart} select * from floor_rows")
            finally:
                con.execute("rollback")

        seconds, _ = _median_seconds(insert)
        con.unregister("floor_rows")
        rates.append(
            {"mart": mart, "rows": rows.num_rows, "mb": rows.nbytes / 1e6, "seconds": seconds}
        )
    return rates


def floor(warehouse: Path) -> dict:
    """The night's reads and writes on a copy of a transforms-bench history, and the floor."""
    from bench.transforms import load_new_day, phase_limits
    from flows.transform import rebuild
    from transforms.tiers import DEFAULT
    from warehouse.connect import connect

    con = connect(warehouse, limits=phase_limits())
    try:
        load_new_day(con, warehouse)
        with counted_reads() as reads:
            summary = rebuild(con, "incremental", None, DEFAULT, 7, "bench-floor")
        scans, inserts = scan_rates(con), insert_rates(con)
    finally:
        con.close()
    read_mb = sum(r["mb"] for r in reads)
    written = sum(summary.rows.values())
    scan_mb_s = sum(s["mb"] for s in scans) / sum(s["seconds"] for s in scans)
    insert_rows_s = sum(i["rows"] for i in inserts) / sum(i["seconds"] for i in inserts)
    return {
        "accounts": summary.accounts,
        "reads": reads,
        "read_rows": sum(r["rows"] for r in reads),
        "read_mb": round(read_mb, 1),
        "written": summary.rows,
        "written_rows": written,
        "scans": scans,
        "inserts": inserts,
        "scan_mb_s": round(scan_mb_s),
        "insert_rows_s": round(insert_rows_s),
        "floor_s": round(read_mb / scan_mb_s + written / insert_rows_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True, help="a copy of a history")
    print_result(floor(parser.parse_args().warehouse))


if __name__ == "__main__":
    main()
