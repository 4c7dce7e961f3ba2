"""What validation reads from the warehouse and the results it records (`meta` schema)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
import pyarrow as pa

from schemas.marts import MARTS
from warehouse.connect import transaction
from warehouse.sql import sql_text, table


def latest_mart_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest day in fct_account_daily (None while it is empty)."""
    ((latest,),) = con.execute("select max(date) from marts.fct_account_daily").fetchall()
    return latest


def suite_rows(
    con: duckdb.DuckDBPyConnection, suite: str, params: list | None = None
) -> pl.DataFrame:
    """The rows a suite validates, from its query `sql/quality_<suite>.sql`."""
    return table(con, sql_text("sql", f"quality_{suite}.sql"), params)


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every mart's row count now (`rows`) and at the previous validation (`previous_rows`),
    and whether staging holds any follower snapshot (`has_followers`)."""
    current = pl.DataFrame(
        [
            (m.name, con.execute(f"select count(*) from marts.{m.name}").fetchall()[0][0])
            for m in MARTS
        ],
        schema={"mart": pl.String, "rows": pl.Int64},
        orient="row",
    )
    previous = table(
        con,
        'select mart, "rows" as previous_rows from meta.mart_row_counts '
        "qualify row_number() over (partition by mart order by counted_at desc) = 1",
    )
    ((has_followers,),) = con.execute(
        "select exists (select 1 from staging.follower_snapshots)"
    ).fetchall()
    return current.join(previous, on="mart", how="left").with_columns(
        pl.lit(has_followers).alias("has_followers")
    )


def record_validation(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: pa.Table,
    *,
    mark_validated: bool,
    row_counts: pl.DataFrame | None,
    now: datetime,
) -> None:
    """Results, the ingest runs now validated, and this run's mart row counts: one transaction.

    `mark_validated`: the staged rows of pending ingest runs passed (runs with critical failures
    stay pending: they are validated again, and keep blocking publication, until fixed).
    """
    with transaction(con):
        if results.num_rows:
            con.register("results", results)
            con.execute("insert into meta.quality_results by name select * from results")
            con.unregister("results")
        if mark_validated:
            con.execute(
                "insert into meta.validated_runs select distinct run_id, $1 "
                "from meta.touched_accounts "
                "where run_id not in (select run_id from meta.validated_runs)",
                [run_id],
            )
        for mart, rows in (
            [] if row_counts is None else row_counts.select("mart", "rows").iter_rows()
        ):
            con.execute(
                "insert into meta.mart_row_counts values ($1, $2, $3, $4)",
                [run_id, mart, rows, now],
            )
        con.execute(sql_text("sql", "prune_touched_accounts.sql"))
