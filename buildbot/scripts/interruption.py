"""Stopping `copy-db` and `cleanupdb` cleanly on Ctrl-C or SIGTERM.

Twisted turns both signals into a reactor shutdown. Left alone, the command's coroutine
would simply never resume: a database thread could be cut in the middle of a batch (safe,
as the transaction rolls back, but abrupt) and the compression threads of `cleanupdb`,
which are not daemon threads, would keep the process alive after the reactor stopped.
`ShutdownGuard` instead holds the shutdown until the guarded work has reached a point where
it can stop (the long loops call `check()` between two transactions, which then raises
`Interrupted`), and tells the user that running the command again is safe.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from twisted.internet import defer

from buildbot.scripts import base
from buildbot.scripts.progress import Progress

T = TypeVar("T")


class Interrupted(Exception):
    """The command was asked to stop; raised by `ShutdownGuard.check` between two units of
    work, each of them committed or not started."""


class ShutdownGuard:
    """While entered (`with`), a reactor shutdown sets `requested`, ends `progress`, says
    `<command>: interrupted; <hint>` on stderr and waits for the work run through `run()`
    to stop. `check()` may be called from a database thread."""

    def __init__(self, command: str, hint: str, progress: Progress | None = None) -> None:
        self.command = command
        self.hint = hint
        self.progress = progress
        self.requested = threading.Event()
        self._work: list[defer.Deferred[Any]] = []
        self._trigger: Any = None

    def check(self) -> None:
        """Raise `Interrupted` if a shutdown was asked for."""
        if self.requested.is_set():
            raise Interrupted(self.command)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work`; a shutdown waits for it to end (by `Interrupted` or otherwise)."""
        d: defer.Deferred[T] = defer.Deferred.fromCoroutine(work)
        self._work.append(d)
        try:
            return await d
        finally:
            self._work.remove(d)

    def __enter__(self) -> ShutdownGuard:
        self._trigger = base.get_reactor().addSystemEventTrigger(
            "before", "shutdown", self._shutting_down)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        base.get_reactor().removeSystemEventTrigger(self._trigger)

    def _shutting_down(self) -> defer.Deferred[None] | None:
        self.requested.set()
        if self.progress is not None:
            self.progress.close()
        print(f"{self.command}: interrupted; {self.hint}", file=sys.stderr, flush=True)
        pending = [d for d in self._work if not d.called]
        if not pending:
            return None
        ended: defer.Deferred[None] = defer.Deferred()

        def done(_: object) -> None:
            # Whatever the outcome, the coroutine awaiting the work has handled it; only
            # the shutdown's wait ends here.
            if not ended.called:
                ended.callback(None)

        for d in pending:
            d.addBoth(done)
        return ended
