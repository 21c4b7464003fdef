"""`Notifier`: many waiters, each woken once by the next `notify(result)`."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer


class Notifier:
    """Hands out Deferreds with `wait()`; `notify(result)` fires all of them with `result`."""

    def __init__(self) -> None:
        self._waiters: list[defer.Deferred[Any]] = []

    def wait(self) -> defer.Deferred[Any]:
        """A Deferred fired by the next `notify`."""
        d: defer.Deferred[Any] = defer.Deferred()
        self._waiters.append(d)
        return d

    def notify(self, result: Any) -> None:
        """Fire every pending waiter with `result` (waiters added meanwhile wait for the next)."""
        waiting, self._waiters = self._waiters, []
        for d in waiting:
            d.callback(result)

    def __bool__(self) -> bool:
        """True while someone waits."""
        return bool(self._waiters)
