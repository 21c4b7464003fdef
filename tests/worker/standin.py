"""Test-local stand-ins for the lead's `AbstractWorker` and `WorkerManager` contracts.

They do only what the contracts say (handshake order, duplicate arbitration) and record what
happens; the real classes replace them later. Also: `RecordingCommand`, a master-side remote
command that records the worker's updates, and `Events`, an awaitable event record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.spread import pb

from buildbot.worker.protocols.base import Connection

# Generous: most waits are on stock worker processes, which a loaded machine slows down.
DEFAULT_TIMEOUT = 120.0


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class Events:
    """An ordered record of events that tests can wait on."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._waiters: list[tuple[Callable[[list[Any]], bool], defer.Deferred[None]]] = []

    def append(self, item: Any) -> None:
        self.items.append(item)
        for entry in list(self._waiters):
            pred, d = entry
            if pred(self.items):
                self._waiters.remove(entry)
                d.callback(None)

    async def wait(self, pred: Callable[[list[Any]], bool], what: str,
                   timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until `pred(items)` holds; fail naming `what` after `timeout` seconds."""
        if pred(self.items):
            return
        d: defer.Deferred[None] = defer.Deferred()
        entry = (pred, d)
        self._waiters.append(entry)
        d.addTimeout(timeout, _reactor())
        try:
            await d
        except defer.TimeoutError:
            raise AssertionError(f"{what} never happened within {timeout}s; "
                                 f"events: {self.items!r}") from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def wait_for(self, item: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        await self.wait(lambda items: item in items, repr(item), timeout)


class StandInWorker:
    """Plays `AbstractWorker`: the handshake of the stock worker, recorded."""

    def __init__(self, name: str, builders: list[tuple[str, str]] | None = None) -> None:
        self.name = name
        self.builders = builders if builders is not None else [("b1", "b1"), ("b2", "b2")]
        self.events = Events()
        self.conn: Connection | None = None
        self.info: dict[str, Any] = {}

    async def attached(self, conn: Connection) -> None:
        self.events.append("attached")
        await conn.remotePrint("attached")
        self.events.append("printed attached")
        self.info = await conn.remoteGetWorkerInfo()
        self.events.append("got info")
        self.conn = conn
        conn.notifyOnDisconnect(lambda: self.detached(conn))
        names = await conn.remoteSetBuilderList(self.builders)
        self.events.append(("builders", sorted(names)))
        for _ in names:
            await conn.remotePrint("attached")
        self.events.append("handshake done")

    def detached(self, conn: Connection) -> None:
        if self.conn is conn:
            self.conn = None
        self.events.append("detached")

    def messageReceivedFromWorker(self) -> None:
        self.events.append("message")

    def shutdownRequested(self) -> None:
        self.events.append("shutdown requested")


class StandInWorkers:
    """Plays `master.workers`: lookup by name and duplicate arbitration (§1.6)."""

    def __init__(self, ping_timeout: float = 10.0) -> None:
        self.ping_timeout = ping_timeout
        self.workers: dict[str, StandInWorker] = {}
        self.connections: dict[str, Connection] = {}
        self.events = Events()

    def add(self, worker: StandInWorker) -> StandInWorker:
        self.workers[worker.name] = worker
        return worker

    def getWorkerByName(self, name: str) -> StandInWorker | None:
        return self.workers.get(name)

    async def newConnection(self, conn: Connection, workerName: str) -> bool:
        old = self.connections.get(workerName)
        if old is not None and old.is_connected:
            ping = defer.ensureDeferred(old.remotePrint("master got a duplicate connection"))
            ping.addTimeout(self.ping_timeout, _reactor())
            try:
                await ping
            except Exception as e:
                self.events.append(("old connection dropped", workerName, type(e).__name__))
                old.loseConnection()
                await old.wait_disconnected()
            else:
                self.events.append(("duplicate refused", workerName))
                raise RuntimeError("rejecting duplicate worker")
        self.connections[workerName] = conn
        self.events.append(("connected", workerName))

        def forget() -> None:
            if self.connections.get(workerName) is conn:
                del self.connections[workerName]

        conn.notifyOnDisconnect(forget)
        return True


class RecordingCommand(pb.Referenceable):
    """A master-side remote command recording `(key, value)` updates and its completion."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, Any]] = []
        self.completed: defer.Deferred[None] = defer.Deferred()
        self.failure: Any = None
        self.events = Events()

    def remote_update(self, updates: list[Any]) -> int:
        for upd, _num in updates:
            for key, value in upd.items():
                self.updates.append((key, value))
                self.events.append(key)
        return 0

    def remote_complete(self, failure: Any = None) -> None:
        # `failure` may be a Failure instance (PB's copied failure): keep it out of the
        # Deferred's result, where it would count as an error.
        self.failure = failure
        self.completed.callback(None)

    async def wait_complete(self, timeout: float = DEFAULT_TIMEOUT,
                            progress: Callable[[], Any] | None = None) -> Any:
        """The failure the worker completed with (None on success).

        With `progress` (e.g. the bytes transferred so far), `timeout` bounds the time
        without progress instead of the whole command: a long transfer on a loaded machine
        takes what it takes, a stalled one still fails.
        """
        seen = progress() if progress is not None else None
        while True:
            d: defer.Deferred[Any] = defer.Deferred()
            self.completed.addBoth(lambda r, d=d: (d.callback(r), r)[1])
            d.addTimeout(timeout, _reactor())
            try:
                await d
                return self.failure
            except defer.TimeoutError:
                now = progress() if progress is not None else None
                if progress is None or now == seen:
                    stalled = "" if progress is None else f" (stalled at {now!r})"
                    raise AssertionError(f"command never completed{stalled}; updates: "
                                         f"{self.updates!r}") from None
                seen = now

    def values(self, key: str) -> list[Any]:
        return [v for k, v in self.updates if k == key]

    def text(self, key: str) -> str:
        return "".join(self.values(key))

    @property
    def rc(self) -> Any:
        rcs = self.values("rc")
        return rcs[-1] if rcs else None
