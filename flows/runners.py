"""Where the transform's partition tasks run: here (default) or on a Dask cluster.

`local`: one partition at a time in the flow's process; memory is bounded by one partition
and nothing else is needed. `dask`: with no address a local cluster of `dask_workers`
processes (one thread each: Polars already uses every core of a worker), with an address that
cluster (`tcp://scheduler:8786`); through Prefect it is prefect-dask's DaskTaskRunner, run
directly a `distributed.Client` (flows.engine). The flow reads each partition's inputs from
DuckDB and writes the results back itself (DuckDB has one writer), so workers need no access
to the warehouse file; `dask_workers` partitions are in flight at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.engine import TASK_RUNNERS, Flow, RunnerSpec, TaskRunnerName

if TYPE_CHECKING:
    from flows.transform import TransformSummary

__all__ = ["TASK_RUNNERS", "TaskRunnerName", "configured_transform", "transform_task_runner"]


def transform_task_runner(
    task_runner: TaskRunnerName, dask_address: str | None = None, dask_workers: int = 2
) -> tuple[RunnerSpec, int]:
    """Where the transform flow's partitions run and how many to keep in flight."""
    if task_runner not in TASK_RUNNERS:
        raise ValueError(f"task_runner must be one of {', '.join(TASK_RUNNERS)}")
    if task_runner == "local":
        return RunnerSpec("local"), 1
    return RunnerSpec("dask", dask_address, dask_workers), dask_workers


def configured_transform(
    task_runner: TaskRunnerName, dask_address: str | None, dask_workers: int
) -> tuple[Flow[..., TransformSummary], int]:
    """The transform flow on the chosen runner, and the partitions_in_flight to pass it."""
    from flows.transform import transform

    runner, in_flight = transform_task_runner(task_runner, dask_address, dask_workers)
    return transform.with_runner(runner), in_flight
