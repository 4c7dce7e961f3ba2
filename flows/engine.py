"""How inflow's flows run: as Prefect flows when a Prefect API is there to record them, as
plain function calls when none is.

Why: without `PREFECT_API_URL`, every Prefect flow run starts a temporary API server in a
subprocess (Prefect 3 has no in-process API any more: PrefectHQ/prefect#14722 replaced it with
`SubprocessASGIServer`). Here that is 5-7 s of every command, 7 s of an ingest with nothing to
read, and importing Prefect alone costs 1.3-1.6 s. Its records then go to a SQLite file no one
looks at. Options weighed (measured on this machine, see docs/benchmarks.md "Start-up"):

- Prefect's ephemeral mode (`PREFECT_SERVER_ALLOW_EPHEMERAL_MODE`) is that subprocess server;
  disabling it makes a flow call fail without an API, it does not run it bare.
- Starting a server only when there is work still costs the 5-7 s on every night that has
  work, and the 1.5 s import on every command.
- Running the flow functions directly (`Flow.fn`) keeps every behaviour inflow guarantees
  (`meta.runs`, the run lock, lineage, transactions) because those live in inflow's own code,
  not in Prefect's state machine. What Prefect adds is observability: flow and task runs,
  artifacts, logs in a UI. Without an API there is no UI to show them in.

So `orchestration = "auto"` (the default) runs flows through Prefect when an API is configured
(`PREFECT_API_URL` in the environment or in the active Prefect profile, or a Prefect settings
context such as the test harness), and directly otherwise. `"prefect"` always goes through
Prefect (a temporary server when no API is set, as before); `"direct"` never does. A flow
called inside another runs the way its parent does. Prefect is imported only when it is used.

The surface here is the part of Prefect inflow uses: `flow` and `task` decorators (a task is
called or `.submit`ted, with retries), `run_logger`, `markdown_artifact`, `flow_run_id` and the
transform's task runner (local, or Dask).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, ParamSpec, TypeVar, get_args

P = ParamSpec("P")
R = TypeVar("R")

Orchestration = Literal["auto", "prefect", "direct"]
ORCHESTRATIONS: tuple[str, ...] = get_args(Orchestration)
ENV_ORCHESTRATION = "INFLOW_ORCHESTRATION"

# Where the transform's partitions run.
TaskRunnerName = Literal["local", "dask"]
TASK_RUNNERS: tuple[str, ...] = get_args(TaskRunnerName)

LOGGER = "inflow"


@dataclass(frozen=True)
class RunnerSpec:
    """Where a flow's submitted tasks run: one at a time here, or on a Dask cluster (a local
    one of `workers` processes when no `address` is given)."""

    name: TaskRunnerName = "local"
    address: str | None = None
    workers: int = 2

    def local_cluster(self) -> dict[str, Any]:
        """A local cluster's arguments: `workers` single-threaded processes (Polars already
        uses every core of a worker)."""
        return {"n_workers": self.workers, "threads_per_worker": 1, "processes": True}


LOCAL = RunnerSpec()


@dataclass
class _Run:
    """The flow run this code is inside of, when it runs directly."""

    flow: str
    run_id: str
    submit: Callable[..., Future[Any]]


_DIRECT: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("inflow_run", default=None)


def _profile_api_url() -> str | None:
    """PREFECT_API_URL of the active Prefect profile (`prefect config set ...`), read without
    importing Prefect: PREFECT_PROFILES_PATH, else <PREFECT_HOME>/profiles.toml."""
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    value = profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return str(value) if value else None


def prefect_api_configured() -> bool:
    """Is there a Prefect API to record runs in (not a temporary server)?"""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect.settings" in sys.modules:  # already imported: its settings context decides
        from prefect.settings import get_current_settings

        return bool(get_current_settings().api.url)
    return _profile_api_url() is not None


def orchestration() -> Orchestration:
    value = os.environ.get(ENV_ORCHESTRATION, "auto")
    if value not in ORCHESTRATIONS:
        raise ValueError(f"{ENV_ORCHESTRATION} must be one of {', '.join(ORCHESTRATIONS)}")
    return value  # type: ignore[return-value]


def uses_prefect() -> bool:
    """Does a flow started now run through Prefect?"""
    mode = orchestration()
    return mode == "prefect" or (mode == "auto" and prefect_api_configured())


def starts_temporary_server() -> bool:
    """Will a flow started now make Prefect start its temporary server?"""
    return uses_prefect() and not prefect_api_configured()


def _in_prefect_run() -> bool:
    if "prefect.context" not in sys.modules:
        return False
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def flow_run_id() -> str:
    """The current flow run's id (Prefect's, or the direct run's), else a fresh UUID."""
    run = _DIRECT.get()
    if run is not None:
        return run.run_id
    if _in_prefect_run():
        from prefect.runtime import flow_run

        return str(flow_run.id or uuid.uuid4())
    return str(uuid.uuid4())


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The flow or task run's logger: Prefect's (it reaches the UI), else `inflow.<flow>`."""
    if _in_prefect_run():
        from prefect import get_run_logger

        return get_run_logger()
    run = _DIRECT.get()
    return logging.getLogger(f"{LOGGER}.{run.flow}" if run else LOGGER)


def markdown_artifact(key: str, markdown: str, description: str) -> None:
    """A Markdown artifact in the Prefect UI; without Prefect there is no UI to show it in
    (the CLI prints its own summary lines and meta.runs keeps the counts)."""
    if _in_prefect_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(key=key, markdown=markdown, description=description)


class Task(Generic[P, R]):
    """A step of a flow: a Prefect task inside a Prefect flow run, a function call otherwise."""

    def __init__(
        self,
        fn: Callable[P, R],
        name: str,
        retries: int,
        retry_delay_seconds: float,
        retry_on: tuple[type[Exception], ...],
    ):
        self.fn = fn
        self.name = name
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_on = retry_on
        functools.update_wrapper(self, fn)

    @functools.cached_property
    def prefect(self) -> Any:
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        retry_on = self.retry_on

        def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
            error = state.result(raise_on_failure=False)
            return isinstance(error, retry_on)

        # No caching: every step reads or writes the warehouse, its inputs say nothing of it.
        return task(
            name=self.name,
            cache_policy=NO_CACHE,
            retries=self.retries,
            retry_delay_seconds=self.retry_delay_seconds,
            retry_condition_fn=retry_condition,
        )(self.fn)

    def _call_with_retries(self, *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(self.retries + 1):
            try:
                return self.fn(*args, **kwargs)
            except Exception as error:
                if attempt == self.retries or not isinstance(error, self.retry_on):
                    raise
                logging.getLogger(LOGGER).warning(
                    "%s failed (%s); retry %d of %d in %s s",
                    self.name,
                    error,
                    attempt + 1,
                    self.retries,
                    self.retry_delay_seconds,
                )
                time.sleep(self.retry_delay_seconds)
        raise AssertionError("unreachable")

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if _in_prefect_run():
            return self.prefect(*args, **kwargs)
        return self._call_with_retries(*args, **kwargs)

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Run on the flow's task runner; the result has `.result()`."""
        if _in_prefect_run():
            return self.prefect.submit(*args, **kwargs)
        run = _DIRECT.get()
        if run is None:
            raise RuntimeError(f"task {self.name} submitted outside a flow")
        return run.submit(self._call_with_retries, self.name, *args, **kwargs)


def task(
    name: str,
    retries: int = 0,
    retry_delay_seconds: float = 0,
    retry_on: tuple[type[Exception], ...] = (Exception,),
) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A step; `retries` more attempts after an error of a `retry_on` type (others fail at once)."""

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        return Task(fn, name, retries, retry_delay_seconds, retry_on)

    return decorate


def _run_now(fn: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Future[Any]:
    future: Future[Any] = Future()
    try:
        future.set_result(fn(*args, **kwargs))
    except Exception as error:
        future.set_exception(error)
    return future


@contextmanager
def _direct_runner(spec: RunnerSpec) -> Iterator[Callable[..., Future[Any]]]:
    """`submit` for a direct run: at once in this process, or to a Dask cluster (with no
    address, a local one of `workers` single-threaded processes: Polars uses a worker's
    cores), as prefect-dask's DaskTaskRunner would."""
    if spec.name == "local":
        yield _run_now
        return
    from distributed import Client, LocalCluster

    def on(client: Client) -> Callable[..., Future[Any]]:
        def submit(fn: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
            # The key names the task, as in Prefect's runs: the scheduler's task stream shows it.
            return client.submit(fn, *args, key=f"{name}-{uuid.uuid4().hex}", pure=False, **kwargs)

        return submit

    if spec.address:
        with Client(spec.address) as client:
            yield on(client)
        return
    with (
        LocalCluster(**spec.local_cluster(), dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield on(client)


def _prefect_runner(spec: RunnerSpec) -> Any:
    from prefect.task_runners import ThreadPoolTaskRunner

    if spec.name == "local":
        return ThreadPoolTaskRunner(max_workers=1)
    from prefect_dask.task_runners import DaskTaskRunner

    if spec.address:
        return DaskTaskRunner(address=spec.address)
    return DaskTaskRunner(cluster_kwargs=spec.local_cluster())


class Flow(Generic[P, R]):
    """A flow: through Prefect or called directly (see the module's docstring)."""

    def __init__(self, fn: Callable[P, R], name: str, runner: RunnerSpec = LOCAL):
        self.fn = fn
        self.name = name
        self.runner = runner
        functools.update_wrapper(self, fn)

    def with_runner(self, runner: RunnerSpec) -> Flow[P, R]:
        return Flow(self.fn, self.name, runner)

    @functools.cached_property
    def prefect(self) -> Any:
        from prefect import flow

        # log_prints: a print in a step (or a library's) reaches the run's log, not stdout.
        return flow(name=self.name, log_prints=True, task_runner=_prefect_runner(self.runner))(
            self.fn
        )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        parent = _DIRECT.get()
        if parent is None and (_in_prefect_run() or uses_prefect()):
            return self.prefect(*args, **kwargs)
        run_id = str(uuid.uuid4())
        logger = logging.getLogger(f"{LOGGER}.{self.name}")
        logger.info("run %s started (directly: no Prefect API configured)", run_id)
        started = time.perf_counter()
        with _direct_runner(self.runner) as submit:
            token = _DIRECT.set(_Run(self.name, run_id, submit))
            try:
                result = self.fn(*args, **kwargs)
            except BaseException as error:
                logger.info(
                    "run %s failed after %.1f s: %s",
                    run_id,
                    time.perf_counter() - started,
                    type(error).__name__,
                )
                raise
            finally:
                _DIRECT.reset(token)
        logger.info("run %s finished in %.1f s", run_id, time.perf_counter() - started)
        return result


def flow(name: str, runner: RunnerSpec = LOCAL) -> Callable[[Callable[P, R]], Flow[P, R]]:
    def decorate(fn: Callable[P, R]) -> Flow[P, R]:
        return Flow(fn, name, runner)

    return decorate
