"""Flow `nightly`: ingest -> validate the batch -> transform -> validate the marts -> publish.

One run at a time: the run holds the warehouse's run lock (flows.runs.run_lock), as every
command that writes does; one started meanwhile exits at once with a clear message instead of
waiting on DuckDB's lock or interleaving with the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flows.engine import flow, markdown_artifact
from flows.ingest import DEFAULT_BATCH_MEGABYTES, DEFAULT_MAX_FILE_MEGABYTES, ingest
from flows.publish import publish
from flows.runners import TaskRunnerName, configured_transform
from flows.runs import recorded_run
from flows.validate import QualitySummary, validate
from warehouse.connect import DuckDBLimits
from warehouse.lake import DEFAULT_BUCKETS


class QualityBlocked(Exception):
    """A critical quality check failed: nothing was published."""


@dataclass
class NightlySummary:
    files_loaded: int
    files_failed: int
    rows_loaded: int
    rows_quarantined: int
    accounts_rebuilt: int
    checks: int
    warnings: int
    published: str
    data_docs: str | None
    # Each failed warning check in a line, naming what it concerns.
    warning_lines: list[str]


@flow(name="nightly")
def nightly(
    landing: Path = Path("data/landing"),
    warehouse: Path = Path("data/inflow.duckdb"),
    published_dir: Path = Path("data/published"),
    tier_scheme: str = "default",
    tier_schemes: dict[str, dict[str, int]] | None = None,
    confirmation_days: int = 7,
    freshness_days: int = 3,
    keep_published: int = 3,
    batch_megabytes: int = DEFAULT_BATCH_MEGABYTES,
    max_file_megabytes: int = DEFAULT_MAX_FILE_MEGABYTES,
    today: date | None = None,
    task_runner: TaskRunnerName = "local",
    dask_address: str | None = None,
    dask_workers: int = 2,
    partition_accounts: int | None = None,
    duckdb_memory_limit: str | None = None,
    duckdb_threads: int | None = None,
    duckdb_temp_directory: Path | None = None,
    emv_values: dict[str, float] | None = None,
    brand_handles: list[str] | None = None,
    scorecard: dict[str, float] | None = None,
    storage: str = "duckdb",
    lake_path: str | None = None,
    lake_buckets: int = DEFAULT_BUCKETS,
) -> NightlySummary:
    """Ingest what landed, validate it, rebuild what it touched, validate, publish.

    task_runner, dask_address, dask_workers: where the transform's partitions run
    (`flows.runners`); partition_accounts bounds the memory of each. duckdb_*: DuckDB's limits
    for this run's connections (none given: DuckDB's defaults). They are flat parameters, not
    a DuckDBLimits, so that a deployment states them as plain values.
    """
    limits = DuckDBLimits(duckdb_memory_limit, duckdb_threads, duckdb_temp_directory)
    with recorded_run(warehouse, "nightly", limits) as run:  # holds the run lock
        loaded = ingest(
            landing=landing,
            warehouse=warehouse,
            batch_megabytes=batch_megabytes,
            max_file_megabytes=max_file_megabytes,
            duckdb_limits=limits,
        )
        batch = validate(
            warehouse=warehouse,
            freshness_days=freshness_days,
            today=today,
            stage="staging",
            duckdb_limits=limits,
        )
        _stop_on_critical(batch)
        transform_flow, in_flight = configured_transform(task_runner, dask_address, dask_workers)
        built = transform_flow(
            warehouse=warehouse,
            tier_scheme=tier_scheme,
            tier_schemes=tier_schemes,
            confirmation_days=confirmation_days,
            partition_accounts=partition_accounts,
            partitions_in_flight=in_flight,
            duckdb_limits=limits,
            emv_values=emv_values,
            brand_handles=brand_handles,
            scorecard=scorecard,
            storage=storage,
            lake_path=lake_path,
            lake_buckets=lake_buckets,
        )
        marts = validate(
            warehouse=warehouse,
            freshness_days=freshness_days,
            today=today,
            stage="marts",
            duckdb_limits=limits,
        )
        _stop_on_critical(marts)
        state = publish(
            warehouse=warehouse,
            published_dir=published_dir,
            keep=keep_published,
            duckdb_limits=limits,
            storage=storage,
            lake_path=lake_path,
            lake_buckets=lake_buckets,
        )
        summary = NightlySummary(
            files_loaded=loaded.files_loaded,
            files_failed=loaded.files_failed,
            rows_loaded=loaded.rows_loaded,
            rows_quarantined=loaded.rows_quarantined,
            accounts_rebuilt=built.accounts,
            checks=len(batch.results) + len(marts.results),
            warnings=len(batch.warnings) + len(marts.warnings),
            published=str(state),
            data_docs=marts.data_docs,
            warning_lines=[r.line() for r in batch.warnings + marts.warnings],
        )
        run.counts = {
            "files_loaded": summary.files_loaded,
            "files_failed": summary.files_failed,
            "rows_loaded": summary.rows_loaded,
            "rows_quarantined": summary.rows_quarantined,
            "accounts_rebuilt": summary.accounts_rebuilt,
            "checks": summary.checks,
            "checks_failed": summary.warnings,
            "published_state": Path(summary.published).name,
        }
        if summary.files_failed:
            run.status = "completed_with_errors"
            run.message = f"{summary.files_failed} file(s) could not be read"
    markdown_artifact(
        key="nightly-summary",
        markdown="# nightly run\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in summary.__dict__.items())
        + "\n",
        description="inflow nightly run",
    )
    return summary


def _stop_on_critical(summary: QualitySummary) -> None:
    if summary.critical_failures:
        named = "; ".join(r.line() for r in summary.critical_failures)
        raise QualityBlocked(f"critical quality failures, nothing published: {named}")
