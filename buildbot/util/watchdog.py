"""`Watchdog`: call `fn` unless `notify()` is called at least every `timeout` seconds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Watchdog:
    """Started with `start()`; each `notify()` restarts the countdown; `stop()` disarms it."""

    def __init__(self, reactor: Any, fn: Callable[[], Any], timeout: float) -> None:
        self._reactor = reactor
        self._fn = fn
        self._timeout = timeout
        self._call: Any = None

    def _timed_out(self) -> None:
        self._call = None
        self._fn()

    def start(self) -> None:
        if self._call is None:
            self._call = self._reactor.callLater(self._timeout, self._timed_out)

    def stop(self) -> None:
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def notify(self) -> None:
        if self._call is not None:
            self._call.reset(self._timeout)
