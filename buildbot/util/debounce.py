"""`@debounce.method(wait)`: calls within `wait` seconds collapse into one run of the method.

While a run is in progress, further calls queue exactly one more run after it. With
`until_idle=True` every call pushes the run back by `wait` seconds. `stop()` (on the bound
Debouncer, e.g. `self.method.stop()`) cancels a pending run and waits for one in progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.deferred import maybe_await

log = Logger()

PH_IDLE = 0
PH_WAITING = 1
PH_RUNNING = 2
PH_RUNNING_QUEUED = 3


class Debouncer:
    """The debounced call of one function for one instance."""

    __slots__ = ("completeDeferreds", "function", "get_reactor", "phase", "stopped", "timer",
                 "until_idle", "wait")

    def __init__(self, wait: float, function: Callable[[], Any],
                 get_reactor: Callable[[], Any], until_idle: bool) -> None:
        self.wait = wait
        self.function = function
        self.get_reactor = get_reactor
        self.until_idle = until_idle
        self.phase = PH_IDLE
        self.timer: Any = None
        self.stopped = False
        self.completeDeferreds: list[defer.Deferred[None]] = []

    def __call__(self) -> None:
        if self.stopped:
            return
        if self.phase == PH_IDLE:
            self.timer = self.get_reactor().callLater(self.wait, self.invoke)
            self.phase = PH_WAITING
        elif self.phase == PH_WAITING and self.until_idle:
            self.timer.reset(self.wait)
        elif self.phase == PH_RUNNING:
            self.phase = PH_RUNNING_QUEUED

    def invoke(self) -> None:
        self.timer = None
        self.phase = PH_RUNNING
        d = defer.ensureDeferred(maybe_await(self.function()))
        d.addErrback(lambda f: log.failure("from debounced function", f))
        d.addCallback(lambda _: self._finished())

    def _finished(self) -> None:
        queued = self.phase == PH_RUNNING_QUEUED
        self.phase = PH_IDLE
        if queued and not self.stopped:
            self()
            return
        waiters, self.completeDeferreds = self.completeDeferreds, []
        for d in waiters:
            d.callback(None)

    def start(self) -> None:
        self.stopped = False

    def stop(self) -> defer.Deferred[None]:
        """Cancel a pending run; the Deferred fires when a run in progress has finished."""
        self.stopped = True
        if self.phase == PH_WAITING:
            self.timer.cancel()
            self.timer = None
            self.phase = PH_IDLE
        if self.phase == PH_IDLE:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self.completeDeferreds.append(d)
        return d


class _Descriptor:
    def __init__(self, fn: Callable[[Any], Any], wait: float, until_idle: bool,
                 get_reactor: Callable[[Any], Any] | None) -> None:
        self.fn = fn
        self.wait = wait
        self.until_idle = until_idle
        self.get_reactor = get_reactor or (lambda instance: instance.master.reactor)
        self.attr = f"__debounce_{fn.__name__}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        db = instance.__dict__.get(self.attr)
        if db is None:
            db = Debouncer(self.wait, lambda: self.fn(instance),
                           lambda: self.get_reactor(instance), self.until_idle)
            instance.__dict__[self.attr] = db
        return db


def method(wait: float, until_idle: bool = False,
           get_reactor: Callable[[Any], Any] | None = None) -> Callable[[Callable[[Any], Any]],
                                                                     Any]:
    """Decorate a no-argument method; `get_reactor(self)` defaults to `self.master.reactor`."""
    def wrap(fn: Callable[[Any], Any]) -> Any:
        return _Descriptor(fn, wait, until_idle, get_reactor)
    return wrap
