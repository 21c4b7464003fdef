"""`@poll.method`: a method run periodically, never twice at once, forcible with a call.

    @poll.method
    async def poll(self): ...

    self.poll.start(interval=60, now=True)   # begin polling
    self.poll()                              # poll as soon as possible (returns a Deferred)
    await self.poll.stop()                   # stop, waiting for a poll in progress

The clock is `self.master.reactor`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.deferred import maybe_await

log = Logger()

_poll_methods: list[Poller] | None = None


class Poller:
    """The polling state of one method on one instance."""

    def __init__(self, fn: Callable[[Any], Any], instance: Any, reactor: Any) -> None:
        self.fn = fn
        self.instance = instance
        self.reactor = reactor
        self.running = False
        self.interval = 0.0
        self._random_delay: tuple[float, float] = (0, 0)
        self._call: Any = None
        self._current: defer.Deferred[None] | None = None
        self._again = False
        self._force_waiters: list[defer.Deferred[None]] = []
        if _poll_methods is not None:
            _poll_methods.append(self)

    def _schedule(self, delay: float) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        low, high = self._random_delay
        jitter = random.uniform(low, high) if high > 0 else 0
        self._call = self.reactor.callLater(delay + jitter, self._run)

    def _run(self) -> defer.Deferred[None]:
        self._call = None
        if self._current is not None:
            self._again = True
            return self._current
        d = defer.ensureDeferred(self._poll_once())
        if not d.called:  # a poll that finished at once has already cleaned up
            self._current = d
        return d

    async def _poll_once(self) -> None:
        while True:
            self._again = False
            waiters, self._force_waiters = self._force_waiters, []
            try:
                await maybe_await(self.fn(self.instance))
            except Exception:  # noqa: BLE001 - a failed poll must not end polling
                log.failure("while polling {fn}", fn=self.fn.__qualname__)
            for d in waiters:
                d.callback(None)
            if not (self._again and self.running):
                break
        self._current = None
        if self.running and self._call is None:
            self._schedule(self.interval)

    def __call__(self) -> defer.Deferred[None]:
        """Poll as soon as possible; fires when that poll has finished."""
        d: defer.Deferred[None] = defer.Deferred()
        self._force_waiters.append(d)
        if self._current is not None:
            self._again = True
        else:
            if self._call is not None and self._call.active():
                self._call.cancel()
            self._call = self.reactor.callLater(0, self._run)
        return d

    def start(self, interval: float, now: bool = False, random_delay_min: float = 0,
              random_delay_max: float = 0) -> None:
        """Poll every `interval` seconds, the first time at once if `now`."""
        if self.running:
            raise RuntimeError(f"{self.fn.__qualname__} is already polling")
        self.running = True
        self.interval = interval
        self._random_delay = (random_delay_min, random_delay_max)
        self._schedule(0 if now else interval)

    def stop(self) -> defer.Deferred[None]:
        """Stop polling; fires once a poll in progress has finished."""
        self.running = False
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if self._current is None:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._current.addBoth(lambda _: d.callback(None))
        return d


class _PollDescriptor:
    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.attr = f"__poll_{fn.__name__}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        poller = instance.__dict__.get(self.attr)
        if poller is None:
            poller = Poller(self.fn, instance, instance.master.reactor)
            instance.__dict__[self.attr] = poller
        return poller


def method(fn: Callable[[Any], Any]) -> Any:
    """Decorate a method of an object with `master.reactor` to make it a Poller."""
    return _PollDescriptor(fn)


def track_poll_methods() -> None:
    """Tests: remember every Poller created from now on (see `reset_poll_methods`)."""
    global _poll_methods
    _poll_methods = []


def reset_poll_methods() -> None:
    """Tests: stop the tracked Pollers and stop tracking."""
    global _poll_methods
    for poller in _poll_methods or []:
        poller.stop()
    _poll_methods = None
