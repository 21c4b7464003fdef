"""The master's side of one worker connection, whatever the transport.

A `Connection` is what the rest of the master holds for a connected worker: it sends the
requests of the worker protocol (`remotePrint`, `remoteStartCommand`, ...), tells subscribers
when the connection goes away, and sends the master's hourly keepalive. The transports
(`pb.py`, `msgpack.py`, `null.py`) subclass it.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb

from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.internal import internal_class

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

log = Logger()

# The reference master sends `print("keepalive")` / `{op: keepalive}` hourly on every
# connection; the per-worker `keepalive_interval` option does not change it.
MASTER_KEEPALIVE_INTERVAL = 3600.0

_command_ids = itertools.count()


def new_command_id() -> str:
    """A command id unique in this master process ("0", "1", ...).

    The msgpack connection uses it for its own handshake commands; `RemoteCommand` should use
    it too, so that those never share an id with a step's command on the same connection.
    """
    return str(next(_command_ids))


class WorkerConnectionLost(pb.PBConnectionLost):
    """The connection to the worker went away before a request was answered.

    A subclass of `pb.PBConnectionLost`, so code catching that works for every transport.
    """


class RemoteWorkerError(Exception):
    """The worker answered a request with an error (msgpack: the exception response text)."""


class WorkerRequestError(Exception):
    """A worker request the master cannot serve (missing field, unknown command id, ...)."""


class WorkerService(Protocol):
    """What a connection needs from the master-side worker (`AbstractWorker`)."""

    name: str

    def attached(self, conn: Any) -> Awaitable[Any]: ...

    def messageReceivedFromWorker(self) -> None: ...

    def shutdownRequested(self) -> None: ...


class WorkerRegistry(Protocol):
    """What connection factories need from `master.workers` (the WorkerManager)."""

    def getWorkerByName(self, name: str) -> Any: ...

    def newConnection(self, conn: Any, workerName: str) -> Awaitable[bool]: ...


DisconnectCallback = Callable[[], Any]


class DisconnectSubscription:
    """Handle returned by `Connection.notifyOnDisconnect`; `unsubscribe()` cancels it."""

    __slots__ = ("_conn", "callback")

    def __init__(self, conn: Connection, callback: DisconnectCallback) -> None:
        self._conn: Connection | None = conn
        self.callback = callback

    def unsubscribe(self) -> None:
        """Stop being notified (does nothing once notified or unsubscribed)."""
        if self._conn is not None:
            self._conn._subscriptions.pop(id(self), None)
            self._conn = None


class Connection:
    """One worker connection as the master sees it. Transports override the `remote*` methods.

    `info` holds the worker info once `remoteGetWorkerInfo` has run; `builders` the names of
    the builders attached by the last `remoteSetBuilderList`.
    """

    keepalive_interval: float = MASTER_KEEPALIVE_INTERVAL
    # implementation class -> proxy class: command arguments that are instances of a key are
    # wrapped in its proxy before they go to the worker (createArgsProxies). Our transports
    # pass file transfers as they are, so the map is empty unless a subclass fills it.
    proxies: ClassVar[dict[type, type]] = {}

    def __init__(self, name: str, clock: IReactorTime | None = None) -> None:
        self.name = name
        # Any: without the zope plugin mypy mistypes IReactorTime's methods
        self.clock: Any = clock
        self.info: dict[str, Any] = {}
        self.builders: list[str] = []
        self._subscriptions: dict[int, DisconnectSubscription] = {}
        self._disconnected = False
        self._delivered: defer.Deferred[None] = defer.Deferred()
        self._keepalive_call: Any = None

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Connection to {self.name!r}>"

    # -- disconnection ------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        """False once the connection is gone (or `loseConnection` was called)."""
        return not self._disconnected

    def notifyOnDisconnect(self, cb: DisconnectCallback) -> DisconnectSubscription:
        """Call `cb()` once when the connection goes away.

        `cb` may return a Deferred or a coroutine; its failure is logged. Subscribers run in
        subscription order. Subscribing to a connection that is already gone calls `cb` at once.
        """
        sub = DisconnectSubscription(self, cb)
        if self._disconnected:
            sub._conn = None
            self._run_subscriber(sub)
            return sub
        self._subscriptions[id(sub)] = sub
        return sub

    def notifyDisconnected(self) -> None:
        """Mark the connection gone and notify the subscribers (only the first call counts)."""
        if self._disconnected:
            return
        self._disconnected = True
        self.stop_keepalive()
        subs = list(self._subscriptions.values())
        self._subscriptions.clear()
        pending = []
        for sub in subs:
            sub._conn = None
            d = self._run_subscriber(sub)
            if d is not None:
                pending.append(d)
        if pending:
            defer.DeferredList(pending).addBoth(lambda _: self._delivered.callback(None))
        else:
            self._delivered.callback(None)

    def _run_subscriber(self, sub: DisconnectSubscription) -> defer.Deferred[Any] | None:
        try:
            res = sub.callback()
        except Exception:  # noqa: BLE001 - one subscriber must not stop the others
            log.failure("disconnect subscriber {cb!r} of {conn!r} failed", cb=sub.callback,
                        conn=self)
            return None
        if res is None:
            return None
        d = ensure_deferred(res)

        def failed(f: Failure) -> None:
            log.failure("disconnect subscriber {cb!r} of {conn!r} failed", failure=f,
                        cb=sub.callback, conn=self)

        d.addErrback(failed)
        return d

    async def wait_disconnected(self) -> None:
        """Return once the connection is gone and every disconnect subscriber has finished."""
        if self._delivered.called:
            return
        waiter: defer.Deferred[None] = defer.Deferred()

        def release(result: Any) -> Any:
            waiter.callback(None)
            return result

        self._delivered.addBoth(release)
        await waiter

    def wait_shutdown_started(self) -> defer.Deferred[None]:
        """A Deferred fired as soon as the connection is seen to go away."""
        started: defer.Deferred[None] = defer.Deferred()
        self.notifyOnDisconnect(lambda: started.callback(None))
        return started

    def waitShutdown(self) -> defer.Deferred[None]:
        """A Deferred fired once the connection is gone and its disconnect subscribers
        have finished (4.3's name for `wait_disconnected`)."""
        return defer.ensureDeferred(self.wait_disconnected())

    def createArgsProxies(self, args: dict[str, Any]) -> dict[str, Any]:
        """`args` with every value that is an instance of a `proxies` key wrapped in the
        matching proxy class."""
        def wrap(value: Any) -> Any:
            for impl, proxy in self.proxies.items():
                if isinstance(value, impl):
                    value = proxy(value)
            return value
        return {key: wrap(value) for key, value in args.items()}

    def loseConnection(self) -> None:
        """Drop the connection (subscribers are notified once the transport reports it)."""
        raise NotImplementedError

    def get_peer(self) -> str:
        """The worker's address as text ("host:port", or "local")."""
        raise NotImplementedError

    # -- master keepalive ---------------------------------------------------------------
    def start_keepalive(self) -> None:
        """Start sending the master's periodic keepalive (stopped on disconnect)."""
        if self.clock is None or self._keepalive_call is not None or self._disconnected:
            return
        self._keepalive_call = self.clock.callLater(self.keepalive_interval, self._keepalive_tick)

    def stop_keepalive(self) -> None:
        """Stop the periodic keepalive (idempotent)."""
        call, self._keepalive_call = self._keepalive_call, None
        if call is not None and call.active():
            call.cancel()

    def _keepalive_tick(self) -> None:
        self._keepalive_call = None
        d = defer.Deferred.fromCoroutine(self.remoteKeepalive())

        def failed(f: Failure) -> None:
            # A dead connection is reported by the transport; nothing else to do here.
            log.info("keepalive to worker {name} failed: {why}", name=self.name,
                     why=f.getErrorMessage())

        d.addErrback(failed)
        self.start_keepalive()

    async def remoteKeepalive(self) -> None:
        """Send one master keepalive to the worker."""
        await self.remotePrint("keepalive")

    # -- requests to the worker (the architecture.md contract) ----------------------------
    async def remotePrint(self, message: str) -> None:
        """Have the worker log `message from master: <message>`."""
        raise NotImplementedError

    async def remoteGetWorkerInfo(self) -> dict[str, Any]:
        """Fetch the worker info dict (also stored as `self.info`)."""
        raise NotImplementedError

    async def remoteSetBuilderList(self, builders: list[tuple[str, str]]) -> list[str]:
        """Attach the builders `[(name, builddir), ...]`; return the names attached."""
        raise NotImplementedError

    async def remoteStartBuild(self, builderName: str) -> None:
        """Tell the worker a build starts on `builderName`."""
        raise NotImplementedError

    async def remoteStartCommand(self, remoteCommand: Any, builderName: str, commandId: str,
                                 commandName: str, args: dict[str, Any]) -> None:
        """Start a command; `remoteCommand` gets `remote_update`/`remote_complete` calls.

        `args` are in the PB form (relative paths, camelCase transfer names); `args['writer']`
        / `args['reader']` may hold master-side transfer objects. The caller's dict is never
        modified. Updates and completion may arrive before this returns.
        """
        raise NotImplementedError

    async def remoteInterruptCommand(self, builderName: str, commandId: str, why: str) -> None:
        """Interrupt the running command `commandId`."""
        raise NotImplementedError

    async def remoteShutdown(self) -> None:
        """Ask the worker process to exit (a connection lost meanwhile counts as success)."""
        raise NotImplementedError


ConnectionFactory = Callable[[Any, str], Coroutine[Any, Any, Connection]]


def make_connection_factory(
    build: Callable[[Any, Any], Connection], workers: WorkerRegistry,
) -> ConnectionFactory:
    """A `pfactory(transport_side, username)` for the port managers.

    `build(worker, transport_side)` creates the transport's Connection; the factory then offers
    it to `workers.newConnection` (duplicate arbitration) and returns it. The port manager then
    calls `conn.attached(...)`, which runs the worker's handshake.
    """

    async def factory(transport_side: Any, username: str) -> Connection:
        worker = workers.getWorkerByName(username)
        if worker is None:
            raise LookupError(f"no worker named {username!r} is configured")
        conn = build(worker, transport_side)
        accepted = await maybe_await(workers.newConnection(conn, username))
        if not accepted:
            raise RuntimeError("rejecting duplicate worker")
        return conn

    return factory


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = ("the worker connections of this master are implemented differently "
                 "(buildbot.worker.protocols)")
FileReaderImpl = internal_class(__name__, "FileReaderImpl", _INTERNAL_WHY)
FileWriterImpl = internal_class(__name__, "FileWriterImpl", _INTERNAL_WHY)
Listener = internal_class(__name__, "Listener", _INTERNAL_WHY)
RemoteCommandImpl = internal_class(__name__, "RemoteCommandImpl", _INTERNAL_WHY)
UpdateRegistrationListener = internal_class(__name__, "UpdateRegistrationListener", _INTERNAL_WHY)
