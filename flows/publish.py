"""Flow `publish`: swap a fresh copy of the marts in for readers, unless quality says no."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.engine import flow, markdown_artifact, run_logger, task
from flows.runs import recorded_run
from warehouse import publish as published
from warehouse.connect import NO_LIMITS, DuckDBLimits
from warehouse.lake import DEFAULT_BUCKETS, Lake, lake_of


# Publishing only touches the file system: a retry helps with a transient error (disk, a
# slow NFS); a refusal for quality is not an error and is never retried (PublishRefused fails
# at once: with Prefect's default condition it waited out two retries, 10 s, first).
@task(
    name="publish-marts",
    retries=2,
    retry_delay_seconds=5,
    retry_on=(OSError, duckdb.IOException),
)
def publish_marts(
    warehouse: Path,
    published_dir: Path,
    keep: int,
    limits: DuckDBLimits,
    lake: Lake | None = None,
) -> Path:
    if lake is not None:
        from warehouse.lake_publish import publish_lake

        return publish_lake(warehouse, lake, published_dir, keep, limits)
    return published.publish(warehouse, published_dir, keep, limits)


@flow(name="publish")
def publish(
    warehouse: Path = Path("data/inflow.duckdb"),
    published_dir: Path = Path("data/published"),
    keep: int = 3,
    duckdb_limits: DuckDBLimits = NO_LIMITS,
    storage: str = "duckdb",
    lake_path: str | None = None,
    lake_buckets: int = DEFAULT_BUCKETS,
) -> Path:
    """Publish the marts; raises PublishRefused while the latest validation failed critically.

    With storage = "delta" a state pins the lake's table versions and readers get views over
    them (warehouse/lake_publish.py); no rows are copied.
    """
    lake = lake_of(storage, lake_path, lake_buckets)
    with recorded_run(warehouse, "publish", duckdb_limits) as run:
        state = publish_marts(warehouse, published_dir, keep, duckdb_limits, lake)
        run.counts = {"published_state": state.name}
        run.message = f"readers open {published_dir / published.PUBLISHED_NAME}"
    markdown_artifact(
        key="publish-summary",
        markdown=f"# publish run `{run.run_id}`\n\nPublished state `{state.name}`; readers open "
        f"`{published_dir / published.PUBLISHED_NAME}`; {keep} states kept for rollback.\n",
        description="inflow publish run",
    )
    run_logger().info(
        f"published {state.name}: readers open {published_dir / published.PUBLISHED_NAME}"
    )
    return state
