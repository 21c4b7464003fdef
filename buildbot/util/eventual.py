"""Run callables "eventually": on a later reactor turn, in the order they were queued.

`flushEventualQueue()` returns a Deferred that fires once the queue is empty (tests use it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()


class _EventualQueue:
    def __init__(self) -> None:
        self.clock: Any = None
        self.pending: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.scheduled: Any = None
        self.flush_waiters: list[defer.Deferred[None]] = []

    def _clock(self) -> Any:
        if self.clock is None:
            from twisted.internet import reactor  # a module-level reactor import is not allowed
            return reactor
        return self.clock

    def add(self, cb: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.pending.append((cb, args, kwargs))
        if self.scheduled is None:
            self.scheduled = self._clock().callLater(0, self.run)

    def run(self) -> None:
        self.scheduled = None
        batch, self.pending = self.pending, []
        for cb, args, kwargs in batch:
            try:
                cb(*args, **kwargs)
            except Exception:  # noqa: BLE001 - one failing callback must not stop the queue
                log.failure("in an eventually() callback {cb!r}", cb=cb)
        if self.pending:
            self.scheduled = self._clock().callLater(0, self.run)
        else:
            waiters, self.flush_waiters = self.flush_waiters, []
            for d in waiters:
                d.callback(None)

    def flush(self) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        if not self.pending and self.scheduled is None:
            d.callback(None)
        else:
            self.flush_waiters.append(d)
        return d


_queue = _EventualQueue()


def eventually(cb: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call `cb(*args, **kwargs)` on a later reactor turn; errors are logged."""
    _queue.add(cb, args, kwargs)


def fireEventually(value: Any = None) -> defer.Deferred[Any]:
    """A Deferred that fires with `value` on a later reactor turn."""
    d: defer.Deferred[Any] = defer.Deferred()
    eventually(d.callback, value)
    return d


def flushEventualQueue(_ignored: Any = None) -> defer.Deferred[None]:
    """A Deferred fired when every queued call (including ones they queue) has run."""
    return _queue.flush()


def _setReactor(r: Any = None) -> None:
    """Use `r` (a `task.Clock` in tests) instead of the global reactor; None restores it."""
    _queue.clock = r
