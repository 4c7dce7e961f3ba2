"""A progress hook that the CLI sets and long steps report to (no-op when nobody listens)."""

from __future__ import annotations

from collections.abc import Callable

_listener: Callable[[str, int, int | None], None] | None = None


def listen(listener: Callable[[str, int, int | None], None] | None) -> None:
    global _listener
    _listener = listener


def report(step: str, done: int, total: int | None = None) -> None:
    if _listener is not None:
        _listener(step, done, total)
