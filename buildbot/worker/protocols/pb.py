"""The PB (Perspective Broker) worker connection: the avatar a worker logs in to.

The port, the MD5 challenge and the realm live in `manager/pb.py`; this module is the
per-connection object. The worker's bot (the login *mind*) answers `print`, `getWorkerInfo`,
`setBuilderList` and `shutdown`; each builder's "worker for builder" reference answers
`startBuild`, `startCommand` and `interruptCommand`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from twisted.internet import defer, error
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb

from buildbot.util.deferred import ensure_deferred
from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.misc import bytes2unicode
from buildbot.worker.protocols import base
from buildbot.worker.protocols.base import WorkerConnectionLost

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from buildbot.worker.protocols.base import WorkerRegistry, WorkerService

log = Logger()

_LOST = (pb.PBConnectionLost, pb.DeadReferenceError, error.ConnectionLost, error.ConnectionDone)


def decode(value: Any) -> Any:
    """Turn bytes into str throughout dicts, lists and tuples (very old workers send bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {decode(k): decode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(decode(v) for v in value)
    return value


class _ReferenceableProxy(pb.Referenceable):
    """Exposes the `remote_*` methods of an object that is not itself a `pb.Referenceable`."""

    def __init__(self, impl: Any) -> None:
        self.impl = impl

    def remoteMessageReceived(self, broker: pb.Broker, message: bytes | str, args: Any,
                              kw: Any) -> Any:
        args = broker.unserialize(args)
        kw = broker.unserialize(kw)
        method = getattr(self.impl, f"remote_{bytes2unicode(message)}", None)
        if method is None:
            raise pb.NoSuchMethod(f"No such method: remote_{bytes2unicode(message)}")
        return broker.serialize(_maybe_deferred(method(*args, **kw)), self.perspective)


def as_referenceable(obj: Any) -> Any:
    """`obj` itself if PB can pass it by reference, else a forwarding Referenceable."""
    if obj is None or isinstance(obj, pb.Referenceable):
        return obj
    return _ReferenceableProxy(obj)


_TRANSFER_KEYS = ("writer", "reader")


class _TransferGuard:
    """Keeps master-side transfer errors away from the PB worker.

    When a writer or reader method raises, the error would go back to the worker as a PB
    failure; the 4.3 worker then fails to send that failure back in `complete` (it cannot
    re-serialize a copied failure), so the command would never complete. Instead the first
    error is kept here, the worker gets a normal answer (and, for writes, an interrupt so it
    stops sending), and the command's `complete` carries the error.
    """

    def __init__(self, conn: Connection, builder_name: str, command_id: str) -> None:
        self.conn = conn
        self.builder_name = builder_name
        self.command_id = command_id
        self.failure: Failure | None = None

    def failed(self, f: Failure, method: str) -> None:
        if self.failure is not None:
            return
        self.failure = f
        log.failure("transfer for command {cid} on worker {name} failed on the master in "
                    "{method}", failure=f, cid=self.command_id, name=self.conn.name,
                    method=method)
        if method == "write":
            d = defer.Deferred.fromCoroutine(self.conn.remoteInterruptCommand(
                self.builder_name, self.command_id, f"transfer failed: {f.getErrorMessage()}"))
            d.addErrback(lambda _: None)  # the command may have ended meanwhile


class _GuardedTransfer(pb.Referenceable):
    """A writer or reader as the PB worker sees it (errors go to the `_TransferGuard`)."""

    def __init__(self, impl: Any, guard: _TransferGuard) -> None:
        self.impl = impl
        self.guard = guard

    def _call(self, method: str, *args: Any) -> Any:
        if self.guard.failure is not None:
            return b"" if method == "read" else None  # end the transfer quietly
        try:
            result = getattr(self.impl, f"remote_{method}")(*args)
        except Exception:  # noqa: BLE001 - the guard logs it and fails the command
            self.guard.failed(Failure(), method)
            return b"" if method == "read" else None
        if isinstance(result, defer.Deferred) or inspect.iscoroutine(result):
            d = ensure_deferred(result)

            def failed(f: Failure) -> Any:
                self.guard.failed(f, method)
                return b"" if method == "read" else None

            return d.addErrback(failed)
        return result

    def remote_write(self, data: bytes) -> Any:
        return self._call("write", data)

    def remote_close(self) -> Any:
        return self._call("close")

    def remote_utime(self, accessed_modified: Any) -> Any:
        return self._call("utime", accessed_modified)

    def remote_unpack(self) -> Any:
        return self._call("unpack")

    def remote_read(self, maxlength: int) -> Any:
        return self._call("read", maxlength)


class _GuardedCommand(pb.Referenceable):
    """The remote command of a transfer: `complete` reports a master-side transfer error."""

    def __init__(self, impl: Any, guard: _TransferGuard) -> None:
        self.impl = impl
        self.guard = guard

    def remote_update(self, updates: Any) -> Any:
        return _maybe_deferred(self.impl.remote_update(updates))

    def remote_complete(self, failure: Any = None) -> Any:
        if failure is None and self.guard.failure is not None:
            failure = self.guard.failure
        return _maybe_deferred(self.impl.remote_complete(failure))


def _maybe_deferred(result: Any) -> Any:
    return ensure_deferred(result) if inspect.iscoroutine(result) else result


class Connection(base.Connection, pb.Avatar):
    """A PB worker connection. `mind` is the worker's bot (a `RemoteReference`)."""

    def __init__(self, worker: WorkerService, mind: pb.RemoteReference,
                 clock: IReactorTime) -> None:
        base.Connection.__init__(self, worker.name, clock)
        self.worker = worker
        self.mind: pb.RemoteReference | None = mind
        self._wfbs: dict[str, pb.RemoteReference] = {}
        self._peer = _peer_of(mind)

    # -- called by the PB dispatcher (manager/pb.py) ----------------------------------
    async def attached(self, mind: pb.RemoteReference) -> Connection:
        """Run the worker's handshake; the login is answered when this returns."""
        self.start_keepalive()
        await self.worker.attached(self)
        return self

    def detached(self, mind: pb.RemoteReference | None = None) -> None:
        """The PB logout: the connection is gone."""
        self.mind = None
        self.notifyDisconnected()

    def loseConnection(self) -> None:
        self.stop_keepalive()
        if self.mind is None:
            return
        transport = self.mind.broker.transport
        # Abort rather than close: a dead worker will not acknowledge queued data, and the
        # disconnect must be seen now, not after a TCP timeout.
        abort = getattr(transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:
            transport.loseConnection()

    def get_peer(self) -> str:
        return self._peer

    # -- called by the worker ------------------------------------------------------------
    def perspective_keepalive(self) -> None:
        """The worker's application-level keepalive."""
        self.worker.messageReceivedFromWorker()

    def perspective_shutdown(self) -> None:
        """The worker asks for a graceful shutdown."""
        self.worker.messageReceivedFromWorker()
        self.worker.shutdownRequested()

    # -- requests to the worker ----------------------------------------------------------
    async def _call(self, ref: pb.RemoteReference | None, method: str, *args: Any,
                    **kw: Any) -> Any:
        if ref is None or self.mind is None:
            raise WorkerConnectionLost(f"worker {self.name} is not connected")
        try:
            return await ref.callRemote(method, *args, **kw)
        except _LOST as e:
            raise WorkerConnectionLost(f"connection to worker {self.name} lost") from e

    def _wfb(self, builderName: str) -> pb.RemoteReference:
        try:
            return self._wfbs[builderName]
        except KeyError:
            raise KeyError(f"builder {builderName!r} is not attached on worker "
                           f"{self.name}") from None

    async def remotePrint(self, message: str) -> None:
        await self._call(self.mind, "print", message=message)

    async def remoteGetWorkerInfo(self) -> dict[str, Any]:
        # 4.3 workers all have getWorkerInfo; buildslave-era fallbacks are not attempted.
        info: dict[str, Any] = decode(await self._call(self.mind, "getWorkerInfo"))
        self.info = info
        return info

    async def remoteSetBuilderList(self, builders: list[tuple[str, str]]) -> list[str]:
        wfbs = await self._call(self.mind, "setBuilderList", [tuple(b) for b in builders])
        self._wfbs = {bytes2unicode(name): ref for name, ref in wfbs.items()}
        self.builders = list(self._wfbs)
        return self.builders

    async def remoteStartBuild(self, builderName: str) -> None:
        await self._call(self._wfb(builderName), "startBuild")

    async def remoteStartCommand(self, remoteCommand: Any, builderName: str, commandId: str,
                                 commandName: str, args: dict[str, Any]) -> None:
        wfb = self._wfb(builderName)
        args = self.createArgsProxies(args)
        command = as_referenceable(remoteCommand)
        if any(args.get(k) is not None for k in _TRANSFER_KEYS):
            guard = _TransferGuard(self, builderName, commandId)
            args = dict(args)
            for k in _TRANSFER_KEYS:
                if args.get(k) is not None:
                    args[k] = _GuardedTransfer(args[k], guard)
            command = _GuardedCommand(remoteCommand, guard)
        await self._call(wfb, "startCommand", command, commandId, commandName, args)

    async def remoteInterruptCommand(self, builderName: str, commandId: str, why: str) -> None:
        await self._call(self._wfb(builderName), "interruptCommand", commandId, why)

    async def remoteShutdown(self) -> None:
        try:
            await self._call(self.mind, "shutdown")
        except WorkerConnectionLost:
            pass  # the worker exits 0.2 s after answering; losing it is the expected outcome


def _peer_of(mind: pb.RemoteReference) -> str:
    try:
        p = mind.broker.transport.getPeer()
    except AttributeError:
        return "unknown"
    host, port = getattr(p, "host", None), getattr(p, "port", None)
    return f"{host}:{port}" if host is not None else str(p)


def connection_factory(workers: WorkerRegistry, clock: IReactorTime) -> base.ConnectionFactory:
    """The `pfactory(mind, username)` to register worker names with the PB manager."""
    return base.make_connection_factory(lambda worker, mind: Connection(worker, mind, clock),
                                        workers)


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = ("the worker connections of this master are implemented differently "
                 "(buildbot.worker.protocols)")
FileReaderProxy = internal_class(__name__, "FileReaderProxy", _INTERNAL_WHY)
FileWriterProxy = internal_class(__name__, "FileWriterProxy", _INTERNAL_WHY)
Listener = internal_class(__name__, "Listener", _INTERNAL_WHY)
ReferenceableProxy = internal_class(__name__, "ReferenceableProxy", _INTERNAL_WHY)
RemoteCommand = internal_class(__name__, "RemoteCommand", _INTERNAL_WHY)
for _cls in (Connection,):
    differs_internally(_INTERNAL_WHY)(_cls)
