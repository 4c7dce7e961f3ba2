"""Flow `transform`: rebuild the marts for what the last ingest runs changed (or everything)."""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from transforms.growth import AS_OF_TOLERANCE_DAYS, RECENT_DAYS, as_of_windows
from transforms.pipeline import (
    POSTS_DAYS,
    AccountInputs,
    build_account_marts,
    build_period_marts,
    with_tier_medians,
)
from transforms.tiers import SCHEMES
from warehouse import marts as wm
from warehouse.connect import connect
from warehouse.schema import apply_ddl, sql_text


@dataclass
class TransformSummary:
    """What one transform run rebuilt."""

    run_id: str
    mode: str
    accounts: int = 0
    first_day: date | None = None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def markdown(self) -> str:
        lines = [
            f"# transform run `{self.run_id}` ({self.mode})",
            "",
            f"{self.accounts:,} accounts rebuilt from {self.first_day or '-'} in {self.seconds:.1f} s.",
            "",
            "| mart | rows written |",
            "| --- | --- |",
            *(f"| marts.{name} | {count:,} |" for name, count in self.rows.items()),
        ]
        return "\n".join(lines) + "\n"


def _scope(con, mode: str, backfill_from: date | None) -> pl.DataFrame:
    if mode == "incremental":
        return wm.table(con, sql_text("sql", "pending_scope.sql"))
    first = backfill_from if mode == "backfill" else wm.FAR_PAST
    return wm.table(con, sql_text("sql", "all_accounts_scope.sql"), [first])


def rebuild(
    con: duckdb.DuckDBPyConnection,
    mode: str,
    backfill_from: date | None,
    tier_scheme: str,
    confirmation_days: int,
    run_id: str,
) -> TransformSummary:
    """Read the scope's inputs, run the transforms, swap the rows: one transaction."""
    began = time.perf_counter()
    scheme = SCHEMES[tier_scheme]
    summary = TransformSummary(run_id, mode)
    apply_ddl(con)
    pending = [
        r[0]
        for r in con.execute(
            "select distinct run_id from meta.touched_accounts "
            "where run_id not in (select run_id from meta.transformed_runs)"
        ).fetchall()
    ]
    scope = _scope(con, mode, backfill_from)
    summary.accounts = scope.height
    con.execute("begin transaction")
    try:
        if mode == "full":
            for mart in wm.MARTS:
                con.execute(f"delete from marts.{mart.name}")
        if scope.height:
            summary.rows = _rebuild_scope(con, scope, scheme, confirmation_days)
            first_day = scope["emit_from"].min()
            summary.first_day = None if first_day == wm.FAR_PAST else first_day
        now = datetime.now(UTC)
        for ingest_run in pending:
            con.execute(
                "insert into meta.transformed_runs values ($1, $2, $3)", [ingest_run, run_id, now]
            )
        con.execute("commit")
    except BaseException:
        # Nothing of a failed rebuild is kept.
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    summary.seconds = round(time.perf_counter() - began, 2)
    return summary


def _rebuild_scope(
    con: duckdb.DuckDBPyConnection, scope: pl.DataFrame, scheme, confirmation_days: int
) -> dict[str, int]:
    rows: dict[str, int] = {}
    # Account partitions bound memory whatever the scope (a full rebuild, or a night that
    # touches every account); each is independent, which is also what lets them run apart.
    for part in partitions(scope, PARTITION_ACCOUNTS):
        wm.register_scope(con, part, recent_days=RECENT_DAYS, posts_days=POSTS_DAYS)
        inputs = AccountInputs(**wm.read_account_inputs(con, as_of_windows()))
        outputs = build_account_marts(inputs, pl.LazyFrame(part), scheme, confirmation_days)
        collected = dict(zip(outputs, pl.collect_all(list(outputs.values())), strict=True))
        wm.replace_account_rows(con, collected)
        for name, frame in collected.items():
            rows[name] = rows.get(name, 0) + frame.height
    first_day = scope["emit_from"].min()
    # er_vs_tier_median compares accounts: every account of the affected weeks is updated.
    first_week = _monday(first_day)
    weekly = with_tier_medians(wm.weekly_from(con, first_week)).collect()
    wm.replace_weeks(con, first_week, weekly)
    # Monthly aggregates span all accounts: the affected months are recomputed whole.
    first_month = first_day.replace(day=1)
    daily, posts = wm.period_inputs(con, first_month, AS_OF_TOLERANCE_DAYS)
    periods = build_period_marts(daily, posts, first_month)
    period_rows = dict(zip(periods, pl.collect_all(list(periods.values())), strict=True))
    wm.replace_months(con, first_month, period_rows)
    rows |= {name: frame.height for name, frame in period_rows.items()}
    rows["fct_engagement_weekly"] = weekly.height
    return rows


@task(name="rebuild-marts", cache_policy=NO_CACHE)
def rebuild_marts(
    warehouse: Path,
    mode: str,
    backfill_from: date | None,
    tier_scheme: str,
    confirmation_days: int,
    run_id: str,
) -> TransformSummary:
    """Rebuild the marts in the warehouse file (one transaction)."""
    con = connect(warehouse)
    try:
        return rebuild(con, mode, backfill_from, tier_scheme, confirmation_days, run_id)
    finally:
        con.close()


# Accounts per partition: about 2 GB of Polars memory per 5,000 accounts x 200 days (measured).
PARTITION_ACCOUNTS = 5_000


def partitions(scope: pl.DataFrame, max_accounts: int) -> list[pl.DataFrame]:
    """The scope split into groups of at most `max_accounts` by a stable hash of the account."""
    count = max(1, -(-scope.height // max_accounts))
    bucket = (pl.col("platform") + ":" + pl.col("account_id")).hash(seed=0) % count
    return [
        part.drop("_bucket")
        for part in scope.with_columns(bucket.alias("_bucket")).partition_by(
            "_bucket", maintain_order=True
        )
    ]


def _monday(day: date) -> date:
    return date.fromordinal(day.toordinal() - day.weekday())


@flow(name="transform", log_prints=True)
def transform(
    warehouse: Path = Path("data/inflow.duckdb"),
    full_refresh: bool = False,
    backfill_from: date | None = None,
    tier_scheme: str = "default",
    confirmation_days: int = 7,
) -> TransformSummary:
    """Rebuild the marts: what new ingest runs touched, everything (full refresh) or from a day."""
    mode = "full" if full_refresh else "backfill" if backfill_from else "incremental"
    summary = rebuild_marts(
        warehouse, mode, backfill_from, tier_scheme, confirmation_days, _run_id()
    )
    create_markdown_artifact(
        key="transform-summary", markdown=summary.markdown(), description="inflow transform run"
    )
    print(
        f"transform ({mode}): {summary.accounts:,} accounts, {sum(summary.rows.values()):,} rows in {summary.seconds} s"
    )
    return summary


def _run_id() -> str:
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4())
