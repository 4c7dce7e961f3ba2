"""Flow `transform`: rebuild the marts for what the last ingest runs changed (or everything)."""

from __future__ import annotations

import hashlib
import itertools
import json
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal, TypedDict

import duckdb
import polars as pl

from flows.engine import flow, markdown_artifact, run_logger, task
from flows.runs import recorded_run
from schemas.marts import PERIOD_DAILY_INPUT, PERIOD_POSTS_INPUT
from transforms.campaigns import (
    brand_mentions,
    campaign_creators,
    campaign_posts,
    campaign_totals,
    sponsored_vs_organic,
)
from transforms.frames import AS_OF_TOLERANCE_DAYS
from transforms.growth import RECENT_DAYS, as_of_windows
from transforms.pipeline import (
    GRAPH_ENGINE,
    POSTS_DAYS,
    PartitionInputs,
    account_period_rows,
    build_account_marts,
    build_period_marts,
    collected,
    with_tier_medians,
)
from transforms.scorecard import ScorecardRules, creator_windows, latest_scorecard, scored_creators
from transforms.tiers import TierScheme, resolve_scheme, tier_dimension
from warehouse import lake as lk
from warehouse import marts as wm
from warehouse import meta, schema
from warehouse.connect import NO_LIMITS, DuckDBLimits, connect, transaction
from warehouse.sql import sql_text, table
from warehouse.storage import DUCKDB, MartStore, store_for

# What a transform run rebuilds: the accounts new ingest runs touched, from the first day they
# changed; every account from a day on; or every mart from scratch.
RebuildMode = Literal["incremental", "backfill", "full"]


class ScopeWindows(TypedDict):
    """The windows a scope's inputs are read over: warehouse.marts.register_scope's."""

    recent_days: int
    posts_days: int
    lookup_days: int


# In the transforms' own constants.
SCOPE_WINDOWS: ScopeWindows = {
    "recent_days": RECENT_DAYS,
    "posts_days": POSTS_DAYS,
    "lookup_days": AS_OF_TOLERANCE_DAYS,
}


@dataclass
class TransformSummary:
    """What one transform run rebuilt."""

    run_id: str
    mode: RebuildMode
    accounts: int = 0
    first_day: date | None = None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # Wall seconds of each step of the rebuild that ran, in STEPS order: where a night's time
    # went, from the run itself (bench.transforms reports them). Steps never overlap, so they
    # add up to at most `seconds`.
    steps: dict[str, float] = field(default_factory=dict)

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


# The steps a rebuild times (TransformSummary.steps). Issue 22's profiles of the million-creator
# night wrapped these functions from a script; the run now says the same of itself. Coarse on
# purpose: a partition's reads and graph are one step (with Prefect or Dask as the task runner
# they run elsewhere, and nested timers would count twice).
STEPS = (
    "scope",
    "account inputs spilled",
    "account rows deleted",
    "account partitions read and built",
    "account rows inserted",
    "weekly marts",
    "monthly inputs spilled",
    "monthly partitions read and computed",
    "monthly marts",
    "campaigns",
    "scorecards",
    "scorecard rows kept",
    "commit",
)
# The running rebuild's steps (None outside one): set by `rebuild`, added to by `_step` and
# `_add_step` in the flow's own thread.
_steps: ContextVar[dict[str, float] | None] = ContextVar("transform_steps", default=None)


def _add_step(name: str, seconds: float) -> None:
    steps = _steps.get()
    if steps is not None:
        steps[name] = steps.get(name, 0.0) + seconds


@contextmanager
def _timed_steps() -> Iterator[dict[str, float]]:
    """The running rebuild's steps, timed by `_step` and `_add_step` within the block."""
    steps: dict[str, float] = {}
    token = _steps.set(steps)
    try:
        yield steps
    finally:
        _steps.reset(token)


@contextmanager
def _step(name: str) -> Iterator[None]:
    """Time the block as step `name` of the running rebuild (summed when it runs again)."""
    began = time.perf_counter()
    try:
        yield
    finally:
        _add_step(name, time.perf_counter() - began)


def _scope(
    con: duckdb.DuckDBPyConnection, mode: RebuildMode, backfill_from: date | None
) -> pl.DataFrame:
    if mode == "incremental":
        return table(con, sql_text("sql", "pending_scope.sql"))
    first = backfill_from if mode == "backfill" else wm.FAR_PAST
    return table(con, sql_text("sql", "all_accounts_scope.sql"), [first])


@dataclass(frozen=True)
class LakePartition:
    """A partition on the lake (storage = "delta"): the buckets its worker owns. The worker
    reads their inputs from the lake, builds their rows and commits them itself; only row
    counts travel back to the flow."""

    lake: lk.Lake
    buckets: tuple[int, ...]
    # The last staged day of all accounts (a worker sees only its buckets').
    last_day: date | None
    # A full rebuild emptied the marts: rows are appended, not swapped.
    marts_emptied: bool


# One partition's work: (inputs, or the lake buckets to read them from; scope part) -> rows of
# each account-grain mart (counts only for a lake partition: its worker wrote them).
PartitionJob = tuple[PartitionInputs | LakePartition, pl.DataFrame]
PartitionRows = dict[str, pl.DataFrame] | dict[str, int]
# Runs the jobs somewhere (in process, or as tasks on the flow's task runner) and yields each
# part with its rows; the order does not matter, partitions are disjoint sets of accounts.
ComputePartitions = Callable[
    [Iterable[PartitionJob], TierScheme, int],
    Iterator[tuple[pl.DataFrame, PartitionRows]],
]
# What a lake worker reads: the default path's input queries run on views of these.
LAKE_INPUTS = (
    "staging.follower_snapshots",
    "staging.post_snapshots",
    "staging.accounts",
    "staging.follower_changes",
    "marts.fct_account_daily",
    "marts.dim_account",
    "marts.fct_tier_history",
    "marts.fct_post_metrics",
)


def build_partition_rows(
    inputs: PartitionInputs, part: pl.DataFrame, scheme: TierScheme, confirmation_days: int
) -> dict[str, pl.DataFrame]:
    """One account partition's mart rows: pure Polars on data in memory, no warehouse access.
    Inputs keyed by stand-ins (PartitionInputs.numbers) are built on the scope's stand-ins too,
    and the rows get their account_id back."""
    numbers = inputs.numbers
    if numbers is not None:
        part = wm.with_stand_ins(part, numbers)
    outputs = build_account_marts(
        inputs.lazy(), pl.LazyFrame(part), scheme, confirmation_days, stage=collected
    )
    built = pl.collect_all(list(outputs.values()), engine=GRAPH_ENGINE)
    if numbers is not None:
        built = [wm.with_account_ids(rows, numbers) for rows in built]
    return dict(zip(outputs, built, strict=True))


def lake_partition_rows(
    job: LakePartition, part: pl.DataFrame, scheme: TierScheme, confirmation_days: int
) -> dict[str, int]:
    """A lake partition on its worker: read the buckets' inputs from the lake, build their rows
    with the same pure graph, commit each mart's rows for these buckets; returns rows written.

    The worker's DuckDB is in memory, a query engine over the lake's Parquet: it never opens
    the warehouse file. Each mart's commit replaces the buckets' partitions from the scope's
    first month (Lake.replace: retried when a concurrent commit clashes).
    """
    first_day = _first_emitted(part)
    # The earliest staged day any input query reads (their own bounds): older months' files
    # are not even opened. The marts are not bounded: a seed row may be older.
    lookback = max(RECENT_DAYS, *(start for start, _ in as_of_windows()))
    staging_from = first_day - timedelta(days=lookback)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        lk.attach_views(con, job.lake, LAKE_INPUTS, job.buckets, staging_from=staging_from)
        wm.register_scope(con, part, **SCOPE_WINDOWS, last_day=job.last_day)
        inputs = {
            name: table(con, sql) for name, sql in wm.account_input_queries(as_of_windows()).items()
        }
        rows = build_partition_rows(PartitionInputs(**inputs), part, scheme, confirmation_days)
        owned = f"account_bucket IN ({', '.join(str(b) for b in job.buckets)})"
        for mart, frame in rows.items():
            spec = lk.MART_TABLES[mart]
            if job.marts_emptied:
                # The buckets' rows whole, not appended: a task the cluster runs again (a
                # worker lost) writes the same rows, not twice the rows.
                job.lake.replace(con, spec, frame, where=owned)
                continue
            where = owned
            if spec.month_of:
                first = _monday(first_day) if mart == "fct_engagement_weekly" else first_day
                where += f" AND month >= '{first.replace(day=1).isoformat()}'"
            condition, _ = wm.rebuilt_rows(mart, chain=True)
            job.lake.replace(
                con,
                spec,
                frame,
                where=where,
                drop=f"exists (select 1 from scope as s where {condition})",
            )
        return {mart: frame.height for mart, frame in rows.items()}
    finally:
        con.close()


def _run_partition(
    inputs: PartitionInputs | LakePartition,
    part: pl.DataFrame,
    scheme: TierScheme,
    confirmation_days: int,
) -> PartitionRows:
    if isinstance(inputs, LakePartition):
        return lake_partition_rows(inputs, part, scheme, confirmation_days)
    return build_partition_rows(inputs, part, scheme, confirmation_days)


def compute_in_process(
    jobs: Iterable[PartitionJob], scheme: TierScheme, confirmation_days: int
) -> Iterator[tuple[pl.DataFrame, PartitionRows]]:
    """One partition after the other in this process: memory bounded by one partition."""
    for inputs, part in jobs:
        yield part, _run_partition(inputs, part, scheme, confirmation_days)


@task(name="build-partition")
def build_partition(
    inputs: PartitionInputs | LakePartition,
    part: pl.DataFrame,
    scheme: TierScheme,
    confirmation_days: int,
) -> PartitionRows:
    """A partition's rows as a task, so the flow's task runner (e.g. Dask) decides where."""
    return _run_partition(inputs, part, scheme, confirmation_days)


def compute_as_tasks(in_flight: int) -> ComputePartitions:
    """Submit each partition to the flow's task runner, at most `in_flight` at once.

    The window bounds the memory of the inputs read ahead and the results not yet written;
    the warehouse is read and written only here, in the flow's process (one DuckDB writer).
    Lake partitions carry no inputs and return counts: their workers read and commit.
    """

    def compute(jobs, scheme, confirmation_days):
        running: deque = deque()
        for inputs, part in jobs:
            running.append((part, build_partition.submit(inputs, part, scheme, confirmation_days)))
            if len(running) >= in_flight:
                done_part, future = running.popleft()
                yield done_part, future.result()
        while running:
            done_part, future = running.popleft()
            yield done_part, future.result()

    return compute


class DefinitionsChanged(Exception):
    """The marts were built under another tier scheme or confirmation period: a rebuild from a
    day would mix two; a full refresh is needed."""


def rebuild(
    con: duckdb.DuckDBPyConnection,
    mode: RebuildMode,
    backfill_from: date | None,
    scheme: TierScheme,
    confirmation_days: int,
    run_id: str,
    *,
    compute: ComputePartitions = compute_in_process,
    partition_accounts: int | None = None,
    campaign_settings: CampaignSettings | None = None,
    scorecard_rules: ScorecardRules | None = None,
    store: MartStore = DUCKDB,
) -> TransformSummary:
    """Read the scope's inputs, run the transforms, swap the rows: one transaction.

    `store`: where the marts are written (warehouse.storage). On the lake, the warehouse's
    transaction holds the run's records and the marts' views, and Lake.working_run restores
    every table to its start if the run fails: nothing of a failed rebuild is kept either way.

    `partition_accounts`: accounts per partition; None sizes partitions by the days each
    account's inputs span (accounts_per_partition).

    The marts are built under one tier scheme and confirmation period (meta.mart_build): an
    incremental run or a backfill under others raises DefinitionsChanged; marts built under an
    older version of the mart contracts (or before it was recorded) are rebuilt in full.
    """
    began = time.perf_counter()
    schema.apply_ddl(con)
    wanted = meta.MartBuild(
        scheme.name, scheme.bounds(), confirmation_days, schema.contract_version()
    )
    built = meta.recorded_build(con)
    upgrade = built is None or built.contract_version != wanted.contract_version
    if built is not None and not upgrade and mode != "full" and built != wanted:
        raise DefinitionsChanged(
            f"the marts were built with tier scheme {built.tier_scheme!r} "
            f"({_bounds_text(built.tier_bounds)}) and {built.confirmation_days} confirmation "
            f"days; this run has {wanted.tier_scheme!r} ({_bounds_text(wanted.tier_bounds)}) and "
            f"{wanted.confirmation_days}: run `inflow transform --full-refresh` to rebuild "
            "every mart with them (a rebuild from a day would mix two definitions)"
        )
    rules = scorecard_rules or ScorecardRules()
    # Nothing of a failed rebuild is kept.
    lake_run = store.lake.working_run(run_id) if store.lake is not None else nullcontext()
    month_spill = tempfile.TemporaryDirectory(prefix="inflow-month-", dir=wm.spill_folder(con))
    with _timed_steps() as steps, lake_run, transaction(con), month_spill as month_folder:
        if store.prepare(con, mode == "full"):
            mode = "full"  # a new lake, or marts moved back from one: every mart is built
        if upgrade and mode != "full" and not _marts_empty(con):
            # Marts of an older contract (or unrecorded) are never mixed with new rows.
            mode = "full"
        summary = TransformSummary(run_id, mode)
        scope = _scope(con, mode, backfill_from)
        summary.accounts = scope.height
        if mode == "full" or scope.height:
            # Rows kept for a month this run changes rows before are no longer the marts'.
            wm.forget_scorecard_rows_from(
                con, wm.FAR_PAST if mode == "full" else _first_emitted(scope)
            )
        if mode == "full":
            store.reset_marts(con)
        store.replace_tiers(con, tier_dimension(scheme).collect())
        month_reads = MonthReads.for_scope(
            con, scope, mode, rules, partition_accounts, Path(month_folder), run_id
        )
        _add_step("scope", time.perf_counter() - began)
        if scope.height:
            summary.rows = _rebuild_scope(
                con,
                scope,
                scheme,
                confirmation_days,
                compute,
                partition_accounts,
                marts_emptied=mode == "full",
                store=store,
                month_reads=month_reads,
            )
            first_day = _first_emitted(scope)
            summary.first_day = None if first_day == wm.FAR_PAST else first_day
            wm.record_changes(con, run_id, None if mode == "incremental" else "all", scope)
        # Campaigns change with their definitions too, so they are looked at on every run.
        with _step("campaigns"):
            campaign_rows = rebuild_campaigns(
                con,
                scope,
                full=mode == "full",
                run_id=run_id,
                campaigns=campaign_settings,
                store=store,
            )
        for name, count in campaign_rows.items():
            summary.rows[name] = summary.rows.get(name, 0) + count
        if campaign_rows and not scope.height:
            # A definition changed and no account did: logged all the same, so that a publish
            # sees the marts changed (campaign marts are copied whole: warehouse/publish.py).
            wm.record_changes(con, run_id, None, scope)
        with _step("scorecards"):
            scorecard_rows, rescored_all = rebuild_scorecards(
                con,
                scope,
                full=mode == "full",
                run_id=run_id,
                rules=rules,
                partition_accounts=partition_accounts,
                store=store,
                month_reads=month_reads,
            )
            if month_reads is not None:
                month_reads.keep_tail(con)  # the spill's last reader is done with it
        summary.rows |= scorecard_rows
        if month_reads is None and scope.height:
            # A full rebuild (or new rules) read no month's rows apart: the rows before the
            # month of its last day are kept for the nights after it (MonthReads.kept).
            with _step("scorecard rows kept"):
                MonthReads.keep_for_next_night(con, rules, partition_accounts, run_id)
        if rescored_all and mode != "full":
            # New rules rewrote every month: a publish copies every mart (rare: a config change).
            wm.record_changes(con, run_id, "all", scope)
        if mode == "full" or built is None:
            meta.record_build(con, wanted, run_id, datetime.now(UTC))
        meta.mark_transformed(con, run_id, datetime.now(UTC))
        committing = time.perf_counter()
    # The commit (DuckDB's checkpoint and its vacuum of the rows replaced, the lake's commits)
    # and the spill's removal.
    steps["commit"] = time.perf_counter() - committing
    summary.steps = {name: round(steps[name], 3) for name in STEPS if name in steps}
    summary.seconds = round(time.perf_counter() - began, 2)
    return summary


@dataclass(frozen=True)
class CampaignSettings:
    """What campaign marts are built with beyond the definitions (inflow.toml [campaigns])."""

    # Value of one action (likes, comments, shares, saves, views) for earned media value.
    emv_values: dict[str, float] = field(default_factory=dict)
    # Brands' handles to count mentions of beyond the campaigns' own (competitors).
    brand_handles: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        return json.dumps(sorted(self.emv_values.items()))


def rebuild_campaigns(
    con: duckdb.DuckDBPyConnection,
    scope: pl.DataFrame,
    *,
    full: bool,
    run_id: str,
    campaigns: CampaignSettings | None = None,
    store: MartStore = DUCKDB,
) -> dict[str, int]:
    """The campaign marts of campaigns whose definition (or EMV values) changed or whose
    creators' posts did (scope), and the brand-mention and sponsored-monthly rows of the scope's
    accounts from their first rebuilt month (every account when the brand handles changed)."""
    settings = campaigns or CampaignSettings()
    definitions, creators = wm.campaign_definitions(con)
    builds = {
        row["campaign_id"]: hashlib.sha256(
            (row["definition_sha256"] + settings.fingerprint()).encode()
        ).hexdigest()
        for row in definitions.iter_rows(named=True)
    }
    built = wm.campaign_builds(con)
    touched = scope.select("platform", "account_id")
    in_scope = set(creators.join(touched, on=["platform", "account_id"], how="semi")["campaign_id"])
    rebuilt = sorted(c for c, sha in builds.items() if full or built.get(c) != sha or c in in_scope)
    gone = sorted(set(built) - set(builds))
    rows: dict[str, int] = {}
    if rebuilt or gone:
        chosen = pl.col("campaign_id").is_in(rebuilt)
        wanted_creators = creators.filter(chosen)
        wanted = (
            wanted_creators.filter(pl.col("account_id").is_not_null())
            .select("platform", "account_id")
            .unique()
            .with_columns(pl.lit(wm.FAR_PAST).alias("from_date"))
        )
        posts = wm.posts_with_tags(con, wanted).lazy()
        chosen_campaigns = definitions.filter(chosen).lazy()
        attributed = campaign_posts(chosen_campaigns, wanted_creators.lazy(), posts)
        per_creator = campaign_creators(
            chosen_campaigns, wanted_creators.lazy(), attributed, settings.emv_values
        )
        per_campaign = campaign_totals(
            chosen_campaigns, per_creator, attributed, settings.emv_values
        )
        outputs = dict(
            zip(
                wm.CAMPAIGN_MARTS,
                pl.collect_all([attributed, per_creator, per_campaign]),
                strict=True,
            )
        )
        store.replace_campaign_rows(
            con, rebuilt + gone, outputs, {c: builds[c] for c in rebuilt}, run_id
        )
        rows |= {name: frame.height for name, frame in outputs.items()}
    handles = sorted(
        {h for hs in definitions["brand_handles"].to_list() for h in hs or []}
        | {h.lstrip("@").lower() for h in settings.brand_handles}
    )
    handles_sha = hashlib.sha256(json.dumps(handles).encode()).hexdigest()
    everyone = full or wm.brand_handles_built(con) != handles_sha
    if everyone:
        wanted = table(con, sql_text("sql", "all_accounts_scope.sql"), [wm.FAR_PAST])
    else:
        wanted = scope
    wanted = wanted.select(
        "platform", "account_id", pl.col("emit_from").dt.truncate("1mo").alias("from_date")
    )
    if everyone or wanted.height:
        outputs = _account_month_rows(con, wanted, handles)
        store.replace_account_month_rows(
            con, None if everyone else wanted, outputs, handles_sha, run_id
        )
        rows |= {name: frame.height for name, frame in outputs.items()}
    return rows


def rebuild_scorecards(
    con: duckdb.DuckDBPyConnection,
    scope: pl.DataFrame,
    *,
    full: bool,
    run_id: str,
    rules: ScorecardRules,
    partition_accounts: int | None,
    store: MartStore = DUCKDB,
    month_reads: MonthReads | None = None,
) -> tuple[dict[str, int], bool]:
    """fct_creator_monthly from the first month the scope changed (every month when the rules
    changed) and the scorecards of the accounts of those months; returns the rows written and
    whether every month was rebuilt.

    Runs after the account marts are written: a scorecard reads fct_account_daily and
    fct_post_metrics. A month's rows compare every account of the month, so a changed account
    rebuilds its months for all; its window reaches back window_days, so the month's inputs
    are read from that far before it, per account partition (memory bounded as elsewhere).
    `month_reads`: those rows when the monthly marts already spilled them (the same first
    month), and their windows when the monthly marts computed them in their pass over those
    rows (MonthReads.windows); else the scorecards spill them here, the same way.
    """
    everything = full or wm.scorecard_rules_built(con) != rules.fingerprint()
    if not everything and not scope.height:
        return {}, False
    first_month = wm.FAR_PAST if everything else _first_emitted(scope).replace(day=1)
    accounts = wm.scorecard_accounts(con)
    with tempfile.TemporaryDirectory(prefix="inflow-scores-", dir=wm.spill_folder(con)) as spill:
        if (
            month_reads is None
            or month_reads.first_month != first_month
            or month_reads.rules != rules
        ):
            month_reads = MonthReads.of_month(Path(spill), first_month, rules, partition_accounts)
        pieces: Iterable[list[pl.DataFrame]] | None = month_reads.windows
        # Taken, not shared: each month's windows are let go once scored (the MonthReads lives
        # on in the rebuild; held there, a night's million windows stayed to the end).
        month_reads.windows = None
        if pieces is None:
            spilled = month_reads.inputs(con)
            pieces = (
                scorecard_windows(inputs, first_month, rules) for inputs in spilled.read_ahead(con)
            )
        by_month: dict[date | None, list[pl.DataFrame]] = {}
        for piece in pieces:
            for rows in piece:
                by_month.setdefault(rows["month"][0] if rows.height else None, []).append(rows)
        del pieces
    # Scored a month at a time: a month's rows are compared with each other only (every group
    # of scored_creators holds one month), and a full rebuild of a million creators holds 4M
    # account-months of windows. A month's windows are let go as it is scored, so the windows
    # and the scored months are never both whole in memory (the full rebuild's peak was there).
    # No month (no follower day): one pass over the empty windows, for the empty frame.
    months: list[date | None] = [*sorted(m for m in by_month if m is not None)] or [None]
    monthly = pl.concat(
        [
            scored_creators(pl.concat(by_month.pop(month)).lazy(), accounts.lazy(), rules).collect()
            for month in months
        ]
    )
    del by_month
    latest = latest_scorecard(monthly.lazy(), accounts.lazy()).collect()
    store.replace_scorecards(con, first_month, monthly, latest, rules.fingerprint(), run_id)
    return {"fct_creator_monthly": monthly.height, "agg_creator_scorecard": latest.height}, (
        everything
    )


# Accounts whose month of posts agg_brand_mentions and agg_sponsored_monthly read at once:
# about 6M posts (a night of 200,000 creators read 4.6M in one query).
MONTH_POSTS_ACCOUNTS = 250_000


def _account_month_rows(
    con: duckdb.DuckDBPyConnection, wanted: pl.DataFrame, handles: list[str]
) -> dict[str, pl.DataFrame]:
    """agg_brand_mentions and agg_sponsored_monthly of `wanted` (platform, account_id,
    from_date: a month's first day), a month of posts at a time: their rows are per account and
    month, and every account's posts of the whole history at once (a full rebuild) outgrew
    memory (a million creators x 100 days: 22.6 GB). Only the posts naming a brand are read with
    their tags (wm.month_posts)."""
    first_day = wanted["from_date"].min()
    # The months with posts lie among those with a follower day or a post (an extra month reads
    # no post and adds no row).
    first, last = wm.months_from(con, first_day) if isinstance(first_day, date) else (None, None)
    # No account or no post: one pass that reads none, for the marts' empty frames.
    months = list(_months(first, last)) or [(wm.FAR_PAST, wm.FAR_PAST)]
    # And a block of accounts at a time: a month of a million creators' posts (about 24M) took
    # the full rebuild's memory to its peak. Each block's query scans the month's posts again
    # (a date-bounded scan: the marts are in date order), so blocks are large.
    blocks = partitions(wanted, MONTH_POSTS_ACCOUNTS) or [wanted]
    pieces = []
    for (month_start, month_end), block in itertools.product(months, blocks):
        from_month = block.with_columns(
            pl.max_horizontal("from_date", pl.lit(month_start, pl.Date)).alias("from_date")
        )
        month_posts, named = wm.month_posts(con, from_month, month_end, handles)
        pieces.append(
            [
                detached(frame)  # kept while later months and blocks are read
                for frame in pl.collect_all(
                    [
                        brand_mentions(named.lazy(), handles),
                        sponsored_vs_organic(month_posts.lazy()),
                    ]
                )
            ]
        )
    return {
        name: pl.concat([piece[i] for piece in pieces])
        for i, name in enumerate(wm.ACCOUNT_MONTH_MARTS)
    }


def scorecard_windows(
    inputs: dict[str, pl.DataFrame], first_month: date, rules: ScorecardRules
) -> list[pl.DataFrame]:
    """One partition's scorecard windows (creator_windows) from its spilled daily and post
    rows: a frame per month (rebuild_scorecards scores a month at a time), or the one empty
    frame when the partition has none. The rows name accounts by number
    (wm.spill_scorecard_inputs); the windows, one row per account and month, get their key
    back from the partition's NUMBERS."""
    earlier, posts = inputs["window_before"].lazy(), inputs["posts"].lazy()
    if "posts_before" in inputs:
        # Rows kept from an earlier night (wm.KeptRows): every account's from the first month's
        # earliest window on, cut to the partition's own first window.
        start = _first_window_start(inputs["daily"], rules.window_days)
        earlier = earlier.filter(pl.col("date") >= start)
        posts = pl.concat(
            [inputs["posts_before"].lazy().filter(pl.col("published_date") >= start), posts]
        )
    windows = creator_windows(
        inputs["daily"].lazy(),
        posts,
        first_month,
        rules,
        key=[wm.ACCOUNT_NUMBER],
        earlier_daily=earlier,
    )
    keyed = wm.keyed_rows(windows, inputs[wm.NUMBERS].lazy())
    # Polars' in-memory engine: windows per account over a partition already in memory
    # (20,000 accounts' month: 0.36-0.38 s streaming, 0.23-0.26 s in memory).
    collected = keyed.collect(engine="in-memory")
    if not collected.height:
        return [collected]
    # Each month detached on its own: one month let go frees its strings too.
    return [detached(rows) for rows in collected.partition_by("month", maintain_order=True)]


def _first_window_start(daily: pl.DataFrame, window_days: int) -> date:
    """The first day any window of `daily`'s accounts holds: windows end on an account's last
    day of each month (creator_windows). FAR_PAST when there is none."""
    ends = daily.group_by(wm.ACCOUNT_NUMBER, pl.col("date").dt.truncate("1mo").alias("month")).agg(
        pl.col("date").max().alias("end")
    )
    first_end = ends["end"].min()
    if not isinstance(first_end, date):
        return wm.FAR_PAST
    return first_end - timedelta(days=window_days - 1)


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` holding only its own data, for a frame kept while later partitions or months are
    read. Polars' string columns are views into buffers shared with the frame they were taken
    from (a join or filter copies the views, not the strings), so a partition's few result
    rows kept its whole input's strings alive: the scorecard windows of 5,000 accounts x 180
    days (9 MB) kept ~90 MB each, and a million creators' 100 partitions outgrew 24 GB. Arrow's
    plain strings copy them out (a copy of the kept rows only)."""
    return pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))  # type: ignore[return-value]


def _bounds_text(bounds: dict[str, int]) -> str:
    return ", ".join(f"{tier} >= {bound:,}" for tier, bound in bounds.items())


def _marts_empty(con: duckdb.DuckDBPyConnection) -> bool:
    ((rows,),) = con.execute("select count(*) from marts.fct_account_daily").fetchall()
    return bool(rows == 0)


def _rebuild_scope(
    con: duckdb.DuckDBPyConnection,
    scope: pl.DataFrame,
    scheme: TierScheme,
    confirmation_days: int,
    compute: ComputePartitions,
    partition_accounts: int | None,
    *,
    marts_emptied: bool,
    store: MartStore = DUCKDB,
    month_reads: MonthReads | None = None,
) -> dict[str, int]:
    # Account partitions bound memory whatever the scope (a full rebuild, or a night that
    # touches every account); they are independent, which is what lets them run apart.
    days = wm.days_read_per_scope_account(con, scope, recent_days=RECENT_DAYS)
    per_partition = accounts_per_partition(partition_accounts, days)
    if store.lake is not None:
        rows = _lake_account_rows(
            con,
            store.lake,
            scope,
            per_partition,
            scheme,
            confirmation_days,
            compute,
            marts_emptied=marts_emptied,
        )
    else:
        rows = _account_rows(
            con,
            scope,
            per_partition,
            scheme,
            confirmation_days,
            compute,
            marts_emptied=marts_emptied,
        )
    _cross_account_rows(con, scope, partition_accounts, store, rows, month_reads)
    return rows


def _lake_account_rows(
    con: duckdb.DuckDBPyConnection,
    lake: lk.Lake,
    scope: pl.DataFrame,
    per_partition: int,
    scheme: TierScheme,
    confirmation_days: int,
    compute: ComputePartitions,
    *,
    marts_emptied: bool,
) -> dict[str, int]:
    """The account marts on the lake: partitions are sets of storage buckets, so that each
    worker reads and commits its own buckets; the flow sends scopes and gets counts back."""
    rows: dict[str, int] = {}
    last_day = wm.last_staged_day(con, scope)
    jobs = (
        (LakePartition(lake, buckets, last_day, marts_emptied), part)
        for buckets, part in bucket_partitions(scope, lake.buckets, per_partition)
    )
    # Each lake partition reads, builds and commits its own buckets: one step here.
    with _step("account partitions read and built"):
        for _part, counts in compute(jobs, scheme, confirmation_days):
            for name, count in counts.items():
                rows[name] = rows.get(name, 0) + (count if isinstance(count, int) else count.height)
    lk.point_views(con, lake, wm.ACCOUNT_MARTS)
    return rows


def bucket_partitions(
    scope: pl.DataFrame, buckets: int, max_accounts: int
) -> list[tuple[tuple[int, ...], pl.DataFrame]]:
    """The scope cut into runs of consecutive storage buckets holding about `max_accounts`
    accounts each (a bucket is never split: its worker owns it whole)."""
    keyed = scope.with_columns(
        pl.Series(
            "_bucket",
            [
                lk.account_bucket(p, a, buckets)
                for p, a in zip(scope["platform"], scope["account_id"], strict=True)
            ],
            pl.Int32,
        )
    )
    groups: list[tuple[tuple[int, ...], pl.DataFrame]] = []
    current: list[pl.DataFrame] = []
    owned: list[int] = []
    for (bucket,), rows in sorted(keyed.partition_by("_bucket", as_dict=True).items()):
        current.append(rows.drop("_bucket"))
        owned.append(int(bucket))
        if sum(p.height for p in current) >= max_accounts:
            groups.append((tuple(owned), pl.concat(current)))
            current, owned = [], []
    if current:
        groups.append((tuple(owned), pl.concat(current)))
    return groups


def _account_rows(
    con: duckdb.DuckDBPyConnection,
    scope: pl.DataFrame,
    per_partition: int,
    scheme: TierScheme,
    confirmation_days: int,
    compute: ComputePartitions,
    *,
    marts_emptied: bool,
) -> dict[str, int]:
    """The account marts in the warehouse file: inputs read in one pass for every partition
    and split by partition on disk; the flow inserts each partition's rows (one writer)."""
    rows: dict[str, int] = {}
    parts = partitions(scope, per_partition)
    numbered = pl.concat(
        part.with_columns(pl.lit(number, pl.Int32).alias("partition_number"))
        for number, part in enumerate(parts)
    )
    with tempfile.TemporaryDirectory(prefix="inflow-inputs-", dir=wm.spill_folder(con)) as spill:
        folder = Path(spill)
        with _step("account inputs spilled"):
            wm.register_scope(con, numbered, **SCOPE_WINDOWS)
            spilled = wm.spill_account_inputs(con, as_of_windows(), folder, len(parts))
        if not marts_emptied:
            # The rows rebuilt are deleted once for the whole scope, now that its inputs are
            # read, not partition by partition: each delete scans the marts' rows from the
            # scope's first day (a night of 200,000 creators: 7 scans of each mart).
            with _step("account rows deleted"):
                wm.delete_account_rows(con)
        jobs = (
            (PartitionInputs(**inputs), part)
            for inputs, part in zip(spilled.read_ahead(con), parts, strict=True)
        )
        # A partition's rows are inserted in a thread while the next partition is built
        # (see _finished); the step "account rows inserted" is the time the flow waited
        # for an insert, the rest of the loop the partitions' own.
        partitions_began, inserting = time.perf_counter(), 0.0
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending: Future[None] | None = None
            for _part, built in compute(jobs, scheme, confirmation_days):
                frames = {n: f for n, f in built.items() if isinstance(f, pl.DataFrame)}
                inserting += _finished(pending)
                pending = writer.submit(wm.insert_account_rows, con, frames)
                for name, frame in frames.items():
                    rows[name] = rows.get(name, 0) + frame.height
            inserting += _finished(pending)
        _add_step("account rows inserted", inserting)
        _add_step(
            "account partitions read and built",
            time.perf_counter() - partitions_began - inserting,
        )
    return rows


# Each partition's rows are inserted (DuckDB, which lets go of the GIL while it runs) while the
# flow builds the next partition (Polars, which does too): one after the other, a core sat
# partly idle in both. One insert at a time on the flow's connection, which nothing else uses
# meanwhile (the partitions' inputs are read from their spilled files); one partition's rows
# more in memory. A failed insert raises at the next partition, and the transaction is rolled
# back after the insert running (if any) has ended: the executor waits for it on the way out.
def _finished(pending: Future[None] | None) -> float:
    """Seconds waited for `pending` (an insert) to end; its error, if it failed."""
    if pending is None:
        return 0.0
    began = time.perf_counter()
    pending.result()
    return time.perf_counter() - began


def _cross_account_rows(
    con: duckdb.DuckDBPyConnection,
    scope: pl.DataFrame,
    partition_accounts: int | None,
    store: MartStore,
    rows: dict[str, int],
    month_reads: MonthReads | None = None,
) -> None:
    """The weekly tier medians and the monthly marts of the weeks and months the scope
    touched: they compare accounts, so the flow builds them over every account's rows."""
    first_day = _first_emitted(scope)
    # er_vs_tier_median compares accounts: every account of the affected weeks is updated,
    # a block of weeks at a time (medians are per week) so that memory stays bounded.
    with _step("weekly marts"):
        first_week, last_week = wm.weeks_from(con, _monday(first_day))
        store.delete_weeks_after(con, last_week or _monday(first_day), inclusive=last_week is None)
        rows["fct_engagement_weekly"] = 0
        for block_start, block_end in _blocks(first_week, last_week, WEEKS_PER_BLOCK * 7):
            weekly = with_tier_medians(wm.weekly_between(con, block_start, block_end)).collect()
            store.replace_weeks(con, block_start, block_end, weekly)
            rows["fct_engagement_weekly"] += weekly.height
    # Monthly aggregates span all accounts: the affected months are recomputed whole, one
    # month at a time (each reads its own days, plus the as-of tolerance before it).
    first_month, last_month = wm.months_from(con, first_day.replace(day=1))
    store.delete_months_after(
        con, last_month or first_day.replace(day=1), inclusive=last_month is None
    )
    for month_start, month_end in _months(first_month, last_month):
        period_rows = _month_marts(con, month_start, month_end, partition_accounts, month_reads)
        with _step("monthly marts"):
            store.replace_months(con, month_start, month_end, period_rows)
        for name, frame in period_rows.items():
            rows[name] = rows.get(name, 0) + frame.height


def _month_marts(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    partition_accounts: int | None,
    month_reads: MonthReads | None = None,
) -> dict[str, pl.DataFrame]:
    """The monthly marts of [start, end): per-account rows one account partition at a time,
    then the medians and shares over all of them. A month of every account's days is never in
    memory at once (a million accounts' month was OOM-killed at 24 GB), only one row per
    account and one per post. `month_reads`: the rows spilled for the scorecards, used when
    they serve this month (MonthReads.serves: they hold its days and posts, and its prior
    tiers)."""
    with tempfile.TemporaryDirectory(prefix="inflow-month-", dir=wm.spill_folder(con)) as spill:
        with _step("monthly inputs spilled"):
            serves = month_reads is not None and month_reads.serves(con, start, end)
            shared = month_reads if serves else None
            if shared is not None:
                spilled = shared.inputs(con, for_month=True)
            else:
                per_partition = accounts_per_partition(partition_accounts, (end - start).days)
                spilled = wm.spill_period_inputs(con, start, end, per_partition, Path(spill))
        with _step("monthly partitions read and computed"):
            pieces = []
            windows = []
            for read in spilled.read_ahead(con):
                inputs = {n: f.lazy() for n, f in read.items()}
                if shared is not None:
                    # The scorecards' windows from the same rows, while they are in memory: each
                    # partition is read back once, not once for each (MonthReads.windows).
                    windows.append(scorecard_windows(read, shared.first_month, shared.rules))
                    numbers = read[wm.NUMBERS].lazy()
                    inputs = {
                        "daily": wm.keyed_rows(
                            _within(inputs["daily"], "date", start, end), numbers
                        ).select(PERIOD_DAILY_INPUT),
                        "posts": wm.keyed_rows(
                            _within(inputs["posts"], "published_date", start, end), numbers
                        ).select(PERIOD_POSTS_INPUT),
                        "prior_tiers": inputs["prior_tiers"],
                        "categories": inputs["categories"],
                    }
                piece = account_period_rows(**inputs, first_month=start, stage=collected)
                collected_piece = pl.collect_all(list(piece.values()))
                # Kept while later partitions are read (detached).
                pieces.append({n: detached(f) for n, f in zip(piece, collected_piece, strict=True)})
            if shared is not None:
                shared.windows = windows
    with _step("monthly marts"):
        whole = {name: pl.concat([piece[name] for piece in pieces]).lazy() for name in pieces[0]}
        periods = build_period_marts(**whole)
        return dict(zip(periods, pl.collect_all(list(periods.values())), strict=True))


def _within(rows: pl.LazyFrame, column: str, start: date, end: date) -> pl.LazyFrame:
    return rows.filter((pl.col(column) >= start) & (pl.col(column) < end))


@dataclass
class MonthReads:
    """The daily and post mart rows a rebuild's first month needs twice, spilled once: its
    monthly marts read the month's days and posts, its scorecards the same from a window
    before the month (a night of 200,000 creators spilled the month's 6M daily and 4.6M post
    rows for each, 3.1 s the second time). Spilled on first use: both read the marts after the
    account rows are written, and nothing between them writes the daily or post marts.

    Only for a rebuild whose scorecards start at its first month (not a full one, nor one under
    new scorecard rules: those score every month, from the first day).
    """

    folder: Path
    first_month: date
    partition_accounts: int | None
    rules: ScorecardRules = field(default_factory=ScorecardRules)
    spilled: wm.PartitionedInputs | None = None
    per_partition: int | None = None
    # The scorecards' windows of each partition (scorecard_windows: a frame per month), when
    # the monthly marts read the spill first: computed in the same pass, so the scorecards
    # read nothing again. Taken by rebuild_scorecards.
    windows: list[list[pl.DataFrame]] | None = None
    # The run, when the rows before first_month may be read from a kept set or kept for the
    # nights after (kept): a night's. None: everything is read from the marts.
    run_id: str | None = None

    @classmethod
    def for_scope(
        cls,
        con: duckdb.DuckDBPyConnection,
        scope: pl.DataFrame,
        mode: RebuildMode,
        rules: ScorecardRules,
        partition_accounts: int | None,
        folder: Path,
        run_id: str | None = None,
    ) -> MonthReads | None:
        if mode == "full" or not scope.height:
            return None
        if wm.scorecard_rules_built(con) != rules.fingerprint():
            return None
        first_month = _first_emitted(scope).replace(day=1)
        if first_month == wm.FAR_PAST:
            return None
        return replace(cls.of_month(folder, first_month, rules, partition_accounts), run_id=run_id)

    @classmethod
    def keep_for_next_night(
        cls,
        con: duckdb.DuckDBPyConnection,
        rules: ScorecardRules,
        partition_accounts: int | None,
        run_id: str,
    ) -> None:
        """Keep the rows before the month of the marts' last follower day (wm.keep_scorecard_rows)
        for the nights after a rebuild that read every month (a night from that month on reads
        them from the kept set)."""
        ((last_day,),) = con.execute("select max(date) from marts.fct_account_daily").fetchall()
        if last_day is None:
            return
        reads = cls(Path(), last_day.replace(day=1), partition_accounts, rules, run_id=run_id)
        reads.kept(con)

    @classmethod
    def of_month(
        cls, folder: Path, first_month: date, rules: ScorecardRules, partition_accounts: int | None
    ) -> MonthReads:
        """The scorecards' reads from `first_month` on: from a window before it."""
        return cls(folder, first_month, partition_accounts, rules)

    @property
    def read_from(self) -> date:
        """The first day read: the first month's scorecard window reaches back window_days."""
        return wm.scorecard_read_from(self.first_month, self.rules.window_days)

    def serves(self, con: duckdb.DuckDBPyConnection, start: date, end: date) -> bool:
        """Whether the monthly marts of [start, end) take their rows from this spill: the first
        month's do, unless the window's rows are split into partitions where the month's alone
        would be read in one, straight into memory (that query cost less than reading the
        partitioned window back and cutting the month from it: 20,000 creators x 180 days,
        0.5 s against 2.2-2.9 s for the monthly marts, the night 0.4-1.3 s slower)."""
        if start != self.first_month:
            return False
        own = accounts_per_partition(self.partition_accounts, (end - start).days)
        return (
            wm.partition_count(con, self._per_partition(con)) == 1
            or wm.partition_count(con, own) > 1
        )

    def inputs(
        self, con: duckdb.DuckDBPyConnection, *, for_month: bool = False
    ) -> wm.PartitionedInputs:
        """The rows from read_from on (spill_scorecard_inputs), spilled at the first call: with
        the month's prior tiers and categories when that call is the monthly marts'."""
        if self.spilled is None:
            month = self.first_month if for_month else None
            kept = self.kept(con)
            # Beside a kept set, into the folder its tail is kept in (keep_tail).
            folder = (
                self.folder
                if kept is None or self.run_id is None
                else kept.tail_folder(self.run_id)
            )
            self.spilled = wm.spill_scorecard_inputs(
                con,
                self.first_month,
                self.rules.window_days,
                self._per_partition(con),
                folder,
                month=month,
                kept=kept,
            )
        return self.spilled

    def keep_tail(self, con: duckdb.DuckDBPyConnection) -> None:
        """Keep what was spilled beside a kept set, its rows from the set's month on, for the
        first night of a later month (wm.keep_scorecard_tail); after its last read."""
        if self.spilled is not None and self.spilled.kept is not None:
            wm.keep_scorecard_tail(con, self.spilled)

    def kept(self, con: duckdb.DuckDBPyConnection) -> wm.KeptRows | None:
        """The rows before first_month as a set kept by earlier runs (or made of an earlier
        month's set and the last night's tail), or kept now from the marts (this run's rows
        before first_month are the marts', unchanged by it) for the nights after; None when
        nothing is kept (no run, an in-memory warehouse, a single partition)."""
        if self.run_id is None:
            return None
        window_days = self.rules.window_days
        partitions = wm.partition_count(con, self._per_partition(con))
        kept = wm.kept_scorecard_rows(con, self.first_month, window_days, partitions)
        if kept is None:
            kept = wm.keep_scorecard_rows(
                con, self.first_month, window_days, self._per_partition(con), self.run_id
            )
        return kept

    def _per_partition(self, con: duckdb.DuckDBPyConnection) -> int:
        if self.per_partition is None:
            days = wm.days_read_per_account(con, self.read_from)
            self.per_partition = window_accounts_per_partition(
                self.partition_accounts, days, wm.account_count(con)
            )
        return self.per_partition


# Weeks whose tier medians are recomputed together. A median needs every account of its week,
# so this bounds memory by accounts per week: a week of a million accounts is a million rows,
# where 8 weeks at once (with the monthly step) outgrew 17 GB.
WEEKS_PER_BLOCK = 1


def _blocks(first: date | None, last: date | None, days: int) -> Iterator[tuple[date, date]]:
    """[start, end) ranges of `days` days covering first..last (none when either is None)."""
    start = first
    while start is not None and last is not None and start <= last:
        end = date.fromordinal(start.toordinal() + days)
        yield start, end
        start = end


def _months(first: date | None, last: date | None) -> Iterator[tuple[date, date]]:
    """[month start, next month start) for each month from first to last."""
    start = first
    while start is not None and last is not None and start <= last:
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        yield start, end
        start = end


def rebuild_marts(
    warehouse: Path,
    mode: RebuildMode,
    backfill_from: date | None,
    scheme: TierScheme,
    confirmation_days: int,
    run_id: str,
    compute: ComputePartitions,
    partition_accounts: int | None,
    limits: DuckDBLimits = NO_LIMITS,
    campaign_settings: CampaignSettings | None = None,
    scorecard_rules: ScorecardRules | None = None,
    store: MartStore = DUCKDB,
) -> TransformSummary:
    """Rebuild the marts in the warehouse file, or on the lake (one transaction)."""
    with connect(warehouse, limits=limits) as con:
        return rebuild(
            con,
            mode,
            backfill_from,
            scheme,
            confirmation_days,
            run_id,
            compute=compute,
            partition_accounts=partition_accounts,
            campaign_settings=campaign_settings,
            scorecard_rules=scorecard_rules,
            store=store,
        )


# What a partition holds when `partition_accounts` is not set: accounts whose inputs add up
# to about this many account-days (follower snapshots read). Memory follows the rows: a full
# rebuild of 20,000 accounts x 90 days in partitions of a million account-days peaked at 3.0 GB
# for the whole process, 2.1 GB in partitions of 5,000 accounts (measured). A fixed count cut
# a night, which reads about 30 days per account, into partitions 7 times smaller than memory
# allows, and every partition costs its own reads, graph and writes.
PARTITION_ACCOUNT_DAYS = 1_000_000


def accounts_per_partition(setting: int | None, days_per_account: float) -> int:
    """`partition_accounts` when set, else as many accounts as PARTITION_ACCOUNT_DAYS allows
    at `days_per_account` days read each."""
    if setting is not None:
        return setting
    return max(1, int(PARTITION_ACCOUNT_DAYS // max(1.0, days_per_account)))


# A scorecard window (the daily and post rows the windows of a rebuild's first month and after
# read: 9 and 8 narrow columns, far fewer bytes per account-day than the account inputs) of at
# most this many account-days is read whole, one partition held in memory, not split by
# PARTITION_ACCOUNT_DAYS: the monthly marts then take its rows and compute its windows in their
# pass (MonthReads.serves), with no split, files or kept rows (wm.keep_scorecard_rows keeps
# none for one partition). A night of 20,000 creators x 90 days reads a window of 2.4M
# account-days: split in 2, its monthly inputs, monthly partitions and scorecards took
# 1.29-1.87 s, held 1.11-1.49 s, the night 3.08-3.83 s (median 3.15) against 2.74-3.55 s
# (median 2.90), at 961-1,011 MB peak against 841-873 MB (6 alternating pairs; 365 days, 3
# pairs: 3.05-3.56 s against 3.30-4.09 s, about 1,030 MB against 810). Larger windows (50,000
# creators and more, a full rebuild's every month of a long history) are split as before.
WINDOW_HELD_ACCOUNT_DAYS = 3_000_000


def window_accounts_per_partition(
    setting: int | None, days_per_account: float, accounts: int
) -> int:
    """accounts_per_partition for a scorecard window: every account in one partition when the
    window of `accounts` is at most WINDOW_HELD_ACCOUNT_DAYS (and no `partition_accounts` is
    set)."""
    if setting is None and accounts * max(1.0, days_per_account) <= WINDOW_HELD_ACCOUNT_DAYS:
        return max(1, accounts)
    return accounts_per_partition(setting, days_per_account)


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


def _first_emitted(scope: pl.DataFrame) -> date:
    """The earliest emit_from of a (non-empty) scope."""
    first = scope["emit_from"].min()
    assert isinstance(first, date)
    return first


def _monday(day: date) -> date:
    return date.fromordinal(day.toordinal() - day.weekday())


@flow(name="transform")
def transform(
    warehouse: Path = Path("data/inflow.duckdb"),
    full_refresh: bool = False,
    backfill_from: date | None = None,
    tier_scheme: str = "default",
    tier_schemes: dict[str, dict[str, int]] | None = None,
    confirmation_days: int = 7,
    partition_accounts: int | None = None,
    partitions_in_flight: int = 1,
    duckdb_limits: DuckDBLimits = NO_LIMITS,
    emv_values: dict[str, float] | None = None,
    brand_handles: list[str] | None = None,
    scorecard: dict[str, float] | None = None,
    storage: lk.StorageName = "duckdb",
    lake_path: str | None = None,
    lake_buckets: int = lk.DEFAULT_BUCKETS,
) -> TransformSummary:
    """Rebuild the marts: what new ingest runs touched, everything (full refresh) or from a day.

    Account partitions run as `build-partition` tasks on the flow's task runner, at most
    `partitions_in_flight` at once (see `flows.runners` for Dask). `tier_scheme` names a
    built-in scheme or one of `tier_schemes` ({name: {tier: inclusive lower bound}}).
    `emv_values` prices each action for campaigns' earned media value; `brand_handles` adds
    handles (competitors) to agg_brand_mentions beyond the campaigns' own. `scorecard` sets
    the creator scorecards' window and flag thresholds (transforms.scorecard.ScorecardRules).
    `storage`: "duckdb" (the marts in the warehouse file) or "delta" (Delta tables under
    `lake_path` in `lake_buckets` account buckets; warehouse/lake.py).
    """
    store = store_for(lk.lake_of(storage, lake_path, lake_buckets))
    mode: RebuildMode = "full" if full_refresh else "backfill" if backfill_from else "incremental"
    with recorded_run(warehouse, "transform", duckdb_limits) as run:
        summary = rebuild_marts(
            warehouse,
            mode,
            backfill_from,
            resolve_scheme(tier_scheme, tier_schemes),
            confirmation_days,
            run.run_id,
            compute_as_tasks(partitions_in_flight),
            partition_accounts,
            duckdb_limits,
            CampaignSettings(dict(emv_values or {}), tuple(brand_handles or ())),
            ScorecardRules.from_settings(scorecard),
            store,
        )
        run.counts = {"accounts_rebuilt": summary.accounts}
        run.message = f"{mode}: {sum(summary.rows.values()):,} mart rows written"
    markdown_artifact(
        key="transform-summary", markdown=summary.markdown(), description="inflow transform run"
    )
    run_logger().info(
        f"transform ({mode}): {summary.accounts:,} accounts, {sum(summary.rows.values()):,} rows in {summary.seconds} s"
    )
    return summary
