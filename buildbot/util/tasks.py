"""Tracking of background work that outlives the call that started it."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred

log = Logger()


class TaskGroup:
    """Background tasks of one owner.

    `spawn` starts (or adopts) an awaitable, logs its failure under the given name and
    forgets it when done; `wait` returns once every task spawned so far, and every task
    spawned while waiting, has finished. Services call `wait` from `stop()`.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._pending: set[defer.Deferred[Any]] = set()

    def __len__(self) -> int:
        return len(self._pending)

    def spawn(self, what: str, aw: Awaitable[Any] | defer.Deferred[Any]) -> defer.Deferred[Any]:
        """Run `aw` in the background; return a Deferred that fires when it is done.

        The returned Deferred never fails: failures are logged here, once.
        """
        d = ensure_deferred(aw)
        self._pending.add(d)

        def done(result: Any) -> Any:
            self._pending.discard(d)
            if isinstance(result, Failure):
                if result.check(defer.CancelledError):
                    return None
                log.failure("{owner}: {what} failed", failure=result, owner=self.owner, what=what)
                return None
            return result

        # A separate Deferred so that awaiting the task never consumes the logging errback.
        out: defer.Deferred[Any] = defer.Deferred()
        d.addBoth(done).addBoth(out.callback)
        return out

    async def wait(self) -> None:
        """Wait until no task is pending."""
        while self._pending:
            await defer.DeferredList(list(self._pending), consumeErrors=True)

    def cancel_all(self) -> None:
        """Cancel every pending task (their cancellation is not logged as a failure)."""
        for d in list(self._pending):
            d.cancel()
