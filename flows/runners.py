"""Where the transform's partition tasks run: here (default) or on a Dask cluster.

`local`: one partition at a time in the flow's process; memory is bounded by one partition
and nothing else is needed. `dask`: prefect-dask's DaskTaskRunner; with no address it starts a
local cluster of `dask_workers` processes (one thread each: Polars already uses every core of
a worker), with an address it uses that cluster (`tcp://scheduler:8786`). The flow reads each
partition's inputs from DuckDB and writes the results back itself (DuckDB has one writer), so
workers need no access to the warehouse file; `dask_workers` partitions are in flight at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from prefect import Flow
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

if TYPE_CHECKING:
    from flows.transform import TransformSummary

# Where the transform's partitions run.
TaskRunnerName = Literal["local", "dask"]
TASK_RUNNERS: tuple[str, ...] = get_args(TaskRunnerName)


def transform_task_runner(
    task_runner: TaskRunnerName, dask_address: str | None = None, dask_workers: int = 2
) -> tuple[TaskRunner[Any], int]:
    """The task runner for the transform flow and how many partitions to keep in flight."""
    if task_runner == "local":
        return ThreadPoolTaskRunner(max_workers=1), 1
    if task_runner != "dask":
        raise ValueError(f"task_runner must be one of {', '.join(TASK_RUNNERS)}")
    from prefect_dask.task_runners import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address), dask_workers
    cluster = {"n_workers": dask_workers, "threads_per_worker": 1, "processes": True}
    return DaskTaskRunner(cluster_kwargs=cluster), dask_workers


def configured_transform(
    task_runner: TaskRunnerName, dask_address: str | None, dask_workers: int
) -> tuple[Flow[..., TransformSummary], int]:
    """The transform flow on the chosen runner, and the partitions_in_flight to pass it."""
    from flows.transform import transform

    runner, in_flight = transform_task_runner(task_runner, dask_address, dask_workers)
    return transform.with_options(task_runner=runner), in_flight
