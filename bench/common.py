"""What every benchmark shares: machine facts, medians, phases in their own processes."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import flows  # noqa: F401  (first: it sets the environment in which nothing phones home)

PACKAGES = ("duckdb", "polars", "pyarrow", "prefect", "great_expectations", "pandas")


def machine_facts() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores ({platform.machine()})",
        "memory": f"{memory_kb / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "packages": ", ".join(f"{p} {metadata.version(p)}" for p in PACKAGES),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


class PeakDiskUse:
    """The largest total size of the files under `paths()` seen while the block runs, polled
    every `interval` seconds (a spill lives and dies inside a phase: nothing else sees it)."""

    def __init__(self, paths: Callable[[], list[Path]], interval: float = 0.5) -> None:
        self.paths, self.interval, self.peak_bytes = paths, interval, 0
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def _size(self) -> int:
        total = 0
        for path in self.paths():
            for file in [path, *path.rglob("*")] if path.is_dir() else [path]:
                with contextlib.suppress(FileNotFoundError):  # removed by its owner meanwhile
                    total += file.stat().st_size if file.is_file() else 0
        return total

    def _watch(self) -> None:
        while not self._done.is_set():
            self.peak_bytes = max(self.peak_bytes, self._size())
            self._done.wait(self.interval)

    def __enter__(self) -> PeakDiskUse:
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._watcher.join()

    @property
    def peak_mb(self) -> int:
        return round(self.peak_bytes / 2**20)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def run_phase(module: str, *args: str) -> dict:
    """Run `python -m module args` in a fresh process: its own peak RSS; JSON on the last line."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_result(result: dict) -> None:
    """A phase's result for run_phase, with the phase's peak RSS."""
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result, default=str))
