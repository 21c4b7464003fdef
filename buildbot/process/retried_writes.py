"""Writes that close a build's records, kept and retried while the database refuses them.

When the disk is full (or the database fails writes for another reason of its own), a build
still has to end: its worker is released and its result decided in memory at once. What the
database must eventually say (the log is complete, the step and the build finished, the
requests completed) is queued here and written, in order, as soon as the database takes
writes again, with no restart. Only `StorageError` is retried; any other error means the
write itself is wrong, and it is dropped with the error logged.

At master shutdown the queue gets one last attempt; what still fails is logged as lost, so
a full disk never keeps the master from stopping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from buildbot.data.exceptions import StorageError
from buildbot.util.tasks import TaskGroup

log = Logger()

Write = Callable[[], Awaitable[Any]]


def storage_reason(err: BaseException) -> str:
    """A short text for a storage error, for state strings: the driver's message when there
    is one ("database or disk is full"), without SQLAlchemy's statement dump."""
    cause = err.__cause__
    orig = getattr(cause, "orig", None)
    text = str(orig if orig is not None else cause if cause is not None else err)
    return text.splitlines()[0] if text else type(err).__name__


class RetriedWrites:
    """A FIFO of writes the database refused, retried with a growing delay.

    `store(what, write)` writes at once when nothing is queued; when the write fails with a
    `StorageError` (or others wait already, to keep their order) it is queued and False is
    returned. `stop()` makes a last attempt and drops what still fails (logged).
    """

    def __init__(self, clock: IReactorTime, first_delay: float = 1.0,
                 max_delay: float = 30.0,
                 on_recovered: Callable[[], Any] | None = None) -> None:
        self._clock = clock
        # Called once the queue is written out (the botmaster then looks for work: requests
        # that could not be claimed while the disk was full).
        self.on_recovered = on_recovered
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._queue: deque[tuple[str, Write]] = deque()
        self._tasks = TaskGroup("retried writes")
        self._loop: defer.Deferred[Any] | None = None
        self._sleep: defer.Deferred[None] | None = None
        self._stopping = False

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def waiting(self) -> list[str]:
        """What is queued, oldest first (for the master's log and tests)."""
        return [what for what, _ in self._queue]

    async def store(self, what: str, write: Write) -> bool:
        """Write now if possible; True when stored, False when queued for later."""
        if not self._queue and not self._stopping:
            try:
                await write()
                return True
            except StorageError as e:
                log.warn("{what}: the database refused the write ({reason}); retrying until "
                         "it takes writes again", what=what, reason=storage_reason(e))
        self._queue.append((what, write))
        self._start_loop()
        return False

    def _start_loop(self) -> None:
        if self._loop is None and not self._stopping:
            self._loop = self._tasks.spawn("retrying writes", self._retry_loop())

    async def _retry_loop(self) -> None:
        delay = self.first_delay
        try:
            while self._queue and not self._stopping:
                self._sleep = task.deferLater(self._clock, delay, lambda: None)
                try:
                    await self._sleep
                except defer.CancelledError:
                    return
                finally:
                    self._sleep = None
                if await self._write_queued():
                    delay = self.first_delay
                    if self.on_recovered is not None:
                        self.on_recovered()
                else:
                    delay = min(delay * 2, self.max_delay)
        finally:
            self._loop = None

    async def _write_queued(self) -> bool:
        """Write the queue in order; False at the first write still refused."""
        while self._queue:
            what, write = self._queue[0]
            try:
                await write()
            except StorageError:
                return False
            except Exception:  # not a storage error: retrying cannot help; keep the rest
                log.failure("{what}: dropped (the write failed for another reason)", what=what)
            else:
                log.info("{what}: stored now that the database takes writes again", what=what)
            self._queue.popleft()
        return True

    async def stop(self) -> None:
        """Stop retrying: one last attempt, then what still fails is logged as lost."""
        self._stopping = True
        if self._sleep is not None:
            self._sleep.cancel()
        await self._tasks.wait()
        if self._queue and not await self._write_queued():
            lost = [what for what, _ in self._queue]
            self._queue.clear()
            log.error("the database still refuses writes at shutdown; not stored: "
                      "{lost}", lost="; ".join(lost))
        self._stopping = False


async def store_or_retry(master: Any, what: str, write: Write) -> bool:
    """`write()` through the master's retried writes (plain `write()` for a master without
    a botmaster, e.g. in a plugin's tests); True when stored now."""
    writes = getattr(getattr(master, "botmaster", None), "retried_writes", None)
    if writes is None:
        await write()
        return True
    return bool(await writes.store(what, write))
