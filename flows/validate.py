"""Flow `validate`: great-expectations suites on the new staged rows and the recent marts.

Batches are pandas frames built from Arrow (great-expectations' SQL datasources over
duckdb-engine return empty metrics with this stack), with the derived columns a check needs
(`validation_date`, `platform_launch_date`, `tier_by_followers`, ...: named for the person
reading Data Docs). Progress bars are off (great-expectations draws one per expectation
otherwise), and each failed check names what it concerns (platforms, marts). Results go to meta.quality_results
and great-expectations' own stores; the Data Docs site is rebuilt after each run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

import duckdb
import polars as pl
import pyarrow as pa

from flows.engine import flow, markdown_artifact, run_logger, task
from flows.runs import recorded_run
from report.data_docs import make_offline
from schemas import quality
from transforms.expressions import interactions
from transforms.growth import ANOMALY_WINDOW_DAYS
from transforms.tiers import DEFAULT, TierScheme, tier_of
from warehouse import marts as wm
from warehouse import meta
from warehouse import quality as wq
from warehouse.connect import NO_LIMITS, DuckDBLimits, connect
from warehouse.schema import apply_ddl

# Marts are validated from this many days before their latest day (what recent runs changed).
MART_WINDOW_DAYS = ANOMALY_WINDOW_DAYS + 7


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome in one validation run: a row of meta.quality_results."""

    run_id: str
    suite: str
    check_name: str
    expectation: str
    severity: quality.Severity
    success: bool
    unexpected_count: int | None
    observed: str | None
    checked_at: datetime
    stage: str = "marts"
    # The platforms (or marts) the failing rows belong to, and the check's one-line message.
    concerns: str | None = None
    message: str | None = None

    def line(self) -> str:
        """e.g. "freshness.latest_snapshot_recent: instagram, tiktok stale (246 days)"."""
        return f"{self.suite}.{self.check_name}: {self.message or 'passed'}"


# Which batches a validation run checks: the new staged rows (and freshness), the marts built
# from them, or both.
Stage = Literal["staging", "marts", "all"]


@dataclass
class QualitySummary:
    """What one validation run found."""

    run_id: str
    results: list[CheckResult] = field(default_factory=list)
    data_docs: str | None = None

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == quality.CRITICAL]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == quality.WARNING]

    def markdown(self) -> str:
        lines = [
            f"# validation run `{self.run_id}`",
            "",
            "| suite | check | severity | success | what failed |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r.suite} | {r.check_name} | {r.severity} | {'yes' if r.success else '**no**'} | {r.message or ''} |"
            for r in self.results
        ]
        return "\n".join(lines) + "\n"

    def as_arrow(self) -> pa.Table:
        """The results as rows of meta.quality_results."""
        return pa.Table.from_pylist([asdict(r) for r in self.results])


def _launch_dates() -> pl.Expr:
    return pl.col("platform").replace_strict(
        quality.PLATFORM_LAUNCH, default=None, return_dtype=pl.Date
    )


def quality_frames(
    con: duckdb.DuckDBPyConnection, today: date, *, whole_marts: bool = False
) -> dict[str, pl.DataFrame]:
    """The batch each suite validates, with the derived columns its checks compare.

    Tiers are checked against the scheme the marts were built with (meta.mart_build).
    """
    built = meta.recorded_build(con)
    scheme = (
        DEFAULT
        if built is None
        else TierScheme(built.tier_scheme, tuple(built.tier_bounds.items()))
    )
    latest = wq.latest_mart_day(con)
    since = (
        wm.FAR_PAST if whole_marts or latest is None else latest - timedelta(days=MART_WINDOW_DAYS)
    )
    frames: dict[str, pl.DataFrame] = {}
    for suite in ("follower_snapshots", "post_snapshots", "follower_changes"):
        frames[f"staging_{suite}"] = wq.suite_rows(con, suite).with_columns(
            pl.lit(today).alias("validation_date"), _launch_dates().alias("platform_launch_date")
        )
    frames["staging_post_snapshots"] = frames["staging_post_snapshots"].with_columns(
        interactions().alias("interactions")
    )
    daily = wq.suite_rows(con, "fct_account_daily", [since])
    previous = pl.col("followers") - pl.col("followers_change")
    frames["fct_account_daily"] = daily.with_columns(
        tier_of(pl.col("followers"), scheme).alias("tier_by_followers"),
        pl.when(previous > 0)
        .then(pl.col("followers_change").abs() / previous)
        .alias("change_share_of_followers"),
    )
    frames["fct_post_metrics"] = wq.suite_rows(con, "fct_post_metrics", [since])
    frames["fct_tier_migrations"] = wq.suite_rows(con, "fct_tier_migrations", [since])
    frames["agg_campaign_creators"] = wq.suite_rows(con, "agg_campaign_creators")
    frames["agg_creator_scorecard"] = wq.suite_rows(con, "agg_creator_scorecard")
    frames["freshness"] = wq.suite_rows(con, "freshness", [today])
    frames["mart_row_counts"] = _row_count_checks(wq.mart_row_counts(con))
    return frames


# Marts that have rows whenever staging has a follower snapshot.
ALWAYS_FILLED_MARTS = (
    "dim_account",
    "fct_account_daily",
    "fct_tier_history",
    "agg_tier_transitions_monthly",
    "agg_tier_benchmarks",
    "fct_creator_monthly",
    "agg_creator_scorecard",
)


def _row_count_checks(counts: pl.DataFrame) -> pl.DataFrame:
    """Each mart's rows against the previous validation's: the ratio and the rows required."""
    # Rows are required where the mart had rows before, or where any follower snapshot must
    # produce some; migrations, posts and weekly ER can legitimately be empty (few accounts,
    # no moves, no posts yet), so an empty one is an error only once it has had rows.
    required = (pl.col("previous_rows") > 0) | (
        pl.col("mart").is_in(ALWAYS_FILLED_MARTS) & pl.col("has_followers")
    )
    return counts.with_columns(
        pl.when(pl.col("previous_rows") > 0)
        .then(pl.col("rows") / pl.col("previous_rows"))
        .alias("ratio"),
        pl.when(required).then(pl.col("rows")).alias("required_rows"),
    ).drop("has_followers")


# Suites of marts a warehouse may rightly leave empty (campaigns come only with campaign files).
OPTIONAL_SUITES = ("agg_campaign_creators",)


def run_suites(
    frames: dict[str, pl.DataFrame], gx_root: Path, freshness_days: int, run_id: str
) -> QualitySummary:
    """Validate each frame with its suite; store great-expectations results; rebuild Data Docs."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_or_update_pandas("inflow")
    summary = QualitySummary(run_id)
    suites = {s.name: s for s in quality.SUITES} | {
        "freshness": quality.with_freshness(freshness_days)
    }
    now = datetime.now(UTC)
    for name, frame in frames.items():
        suite = suites[name]
        if frame.is_empty() and (name.startswith("staging_") or name in OPTIONAL_SUITES):
            continue  # nothing new landed (or no campaign defined): nothing to validate
        asset = (
            source.get_asset(name)
            if name in [a.name for a in source.assets]
            else source.add_dataframe_asset(name)
        )
        batch = (
            asset.get_batch_definition("whole")
            if "whole" in [b.name for b in asset.batch_definitions]
            else asset.add_batch_definition_whole_dataframe("whole")
        )
        built = context.suites.add_or_update(quality.build_suite(suite))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=built)
        )
        result = definition.run(
            batch_parameters={"dataframe": frame.to_pandas()},
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": [suite.concerns],
                "partial_unexpected_count": CONCERNS_SAMPLE,
            },
        )
        checks = {c.name: c for c in suite.checks}
        for outcome in result.results:
            config = outcome.expectation_config
            assert config is not None  # every result of a suite's run has its expectation
            meta = config.meta or {}
            observed = outcome.result.get("observed_value")
            check = checks[meta["check"]]
            unexpected = outcome.result.get("unexpected_count")
            concerns = _concerns(outcome.result, suite.concerns)
            summary.results.append(
                CheckResult(
                    run_id=run_id,
                    suite=name,
                    check_name=check.name,
                    expectation=config.type,
                    severity=check.severity,
                    success=bool(outcome.success),
                    unexpected_count=unexpected,
                    observed=None if observed is None else str(observed)[:200],
                    checked_at=now,
                    stage=suite.stage,
                    concerns=", ".join(concerns) or None,
                    message=None
                    if outcome.success
                    else quality.failure_line(
                        check,
                        concerns,
                        unexpected,
                        _worst(outcome.result.get("partial_unexpected_list")),
                    ),
                )
            )
    context.build_data_docs()
    sites = context.get_docs_sites_urls()
    summary.data_docs = sites[0]["site_url"] if sites else None
    if summary.data_docs:
        # GX's pages load their scripts, styles and logo from CDNs: rewritten to fetch nothing.
        make_offline(Path(url2pathname(urlparse(summary.data_docs).path)).parent)
    return summary


# Failing rows whose platform (or mart) a message names: enough to name every platform in
# practice; a message built from a sample says so only through its count of rows.
CONCERNS_SAMPLE = 1000


def _concerns(result: dict, column: str) -> list[str]:
    """The distinct platforms (or marts) of the failing rows great-expectations returned."""
    rows = result.get("partial_unexpected_index_list") or []
    return sorted({str(row[column]) for row in rows if isinstance(row, dict) and row.get(column)})


def _worst(values: list | None) -> object:
    """The largest failing value (a freshness age), when the values compare."""
    try:
        return max(v for v in values or [] if v is not None)
    except (TypeError, ValueError):
        return "?"


def record(
    con: duckdb.DuckDBPyConnection, summary: QualitySummary, frames: dict[str, pl.DataFrame]
) -> None:
    """Results, the ingest runs now validated, and this run's mart row counts: one transaction."""
    staging_failed = any(r.suite.startswith("staging_") for r in summary.critical_failures)
    wq.record_validation(
        con,
        summary.run_id,
        summary.as_arrow(),
        mark_validated=any(name.startswith("staging_") for name in frames) and not staging_failed,
        row_counts=frames.get("mart_row_counts"),
        now=datetime.now(UTC),
    )


@task(name="validate-warehouse")
def validate_warehouse(
    warehouse: Path,
    freshness_days: int,
    today: date,
    whole_marts: bool,
    run_id: str,
    stage: Stage = "all",
    limits: DuckDBLimits = NO_LIMITS,
) -> QualitySummary:
    with connect(warehouse, limits=limits) as con:
        apply_ddl(con)
        frames = quality_frames(con, today, whole_marts=whole_marts)
        if stage != "all":
            # "staging": the new batch (and freshness); "marts": everything built from it.
            on_staging = {
                name for name in frames if name.startswith("staging_") or name == "freshness"
            }
            frames = {n: f for n, f in frames.items() if (n in on_staging) == (stage == "staging")}
        summary = run_suites(frames, warehouse.parent, freshness_days, run_id)
        record(con, summary, frames)
    return summary


@flow(name="validate")
def validate(
    warehouse: Path = Path("data/inflow.duckdb"),
    freshness_days: int = quality.DEFAULT_FRESHNESS_DAYS,
    today: date | None = None,
    whole_marts: bool = False,
    stage: Stage = "all",
    duckdb_limits: DuckDBLimits = NO_LIMITS,
) -> QualitySummary:
    """Validate the new staged rows and the recent marts; critical failures block publishing.

    `stage`: "staging" (the new batch), "marts", or "all".
    """
    with recorded_run(warehouse, "validate", duckdb_limits) as run:
        summary = validate_warehouse(
            warehouse,
            freshness_days,
            today or datetime.now(UTC).date(),
            whole_marts,
            run.run_id,
            stage,
            duckdb_limits,
        )
        failed = summary.critical_failures + summary.warnings
        run.counts = {"checks": len(summary.results), "checks_failed": len(failed)}
        # A critical failure blocks publishing: the run failed; warnings are shown, not fatal.
        run.status = "failed" if summary.critical_failures else "succeeded"
        run.message = f"{stage}: " + ("; ".join(r.line() for r in failed) or "every check passed")
    markdown_artifact(
        key="quality-summary", markdown=summary.markdown(), description="inflow validation run"
    )
    logger = run_logger()
    logger.info(
        f"quality: {len(summary.results)} checks, {len(summary.critical_failures)} critical failures, "
        f"{len(summary.warnings)} warnings; data docs: {summary.data_docs}"
    )
    for result in failed:
        logger.info(f"{result.severity}: {result.line()}")
    return summary
