"""Transforms on a Dask cluster: the partitions run on 2 worker processes and the marts equal
the default (in-process) run's."""

from __future__ import annotations

import shutil

import pytest
from distributed import Client, LocalCluster, get_task_stream
from polars.testing import assert_frame_equal

from flows.ingest import ingest
from flows.runners import configured_transform, transform_task_runner
from flows.transform import transform
from schemas.marts import MARTS
from tests.conftest import generated_landing, read_table

PARTITION_ACCOUNTS = 15  # several partitions for 70 accounts: work for both workers


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, prefect_api):
    landing = generated_landing(tmp_path_factory, accounts=70, days=35, seed=31)
    warehouse = tmp_path_factory.mktemp("wh") / "w.duckdb"
    ingest(landing=landing, warehouse=warehouse)
    return warehouse


def marts_of(warehouse):
    return {m.name: read_table(warehouse, f"select * from marts.{m.name}") for m in MARTS}


# "auto" runs through the test's Prefect API (prefect-dask's runner), "direct" on a
# distributed.Client of inflow's own (flows.engine): the same partitions, the same marts.
@pytest.mark.parametrize("orchestration", ["auto", "direct"])
def test_dask_cluster_of_two_workers_builds_the_same_marts(
    ingested, tmp_path, orchestration, monkeypatch
):
    monkeypatch.setenv("INFLOW_ORCHESTRATION", orchestration)
    local_warehouse = tmp_path / "local.duckdb"
    dask_warehouse = tmp_path / "dask.duckdb"
    shutil.copy(ingested, local_warehouse)
    shutil.copy(ingested, dask_warehouse)

    local = transform(warehouse=local_warehouse, partition_accounts=PARTITION_ACCOUNTS)

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        on_dask, in_flight = configured_transform("dask", cluster.scheduler_address, 2)
        with get_task_stream(client) as stream:
            distributed = on_dask(
                warehouse=dask_warehouse,
                partition_accounts=PARTITION_ACCOUNTS,
                partitions_in_flight=in_flight,
            )
    # Where the partition tasks ran, as the scheduler recorded it.
    workers_by_task = {str(record["key"]): record["worker"] for record in stream.data}
    partition_workers = [
        worker
        for key, worker in workers_by_task.items()
        if "build-partition" in key or "build_partition" in key
    ]
    assert len(partition_workers) >= 5, workers_by_task
    assert set(partition_workers) == set(workers), "both workers should have run partitions"

    assert distributed.accounts == local.accounts == 70
    assert distributed.rows == local.rows
    local_marts, dask_marts = marts_of(local_warehouse), marts_of(dask_warehouse)
    for mart in MARTS:
        assert local_marts[mart.name].height > 0 or mart.name == "fct_tier_migrations"
        (
            assert_frame_equal(
                dask_marts[mart.name], local_marts[mart.name], check_row_order=False
            ),
            mart.name,
        )


def test_unknown_task_runner_is_refused():
    with pytest.raises(ValueError, match="task_runner must be one of"):
        transform_task_runner("spark")


def test_local_runner_keeps_one_partition_in_flight():
    _, in_flight = transform_task_runner("local")
    assert in_flight == 1
