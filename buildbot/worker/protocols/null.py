"""The in-process ("null") connection used by `LocalWorker`.

The stock `buildbot_worker.null.LocalWorker` service creates it itself:
`conn = Connection(self)`, then `master.workers.newConnection(conn, name)` and
`parent.attached(conn)`. Requests call the worker bot's `remote_*` methods directly; the
master-side objects the worker receives (remote command, file writers and readers) are wrapped
in `LocalReference`, which offers what the worker code uses on a PB reference.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.internal import differs_internally, internal_class
from buildbot.worker.protocols import base

log = Logger()

_TRANSFER_KEYS = ("writer", "reader")


class LocalReference:
    """Stands for a master-side object inside the in-process worker.

    `callRemote("x", ...)` calls `impl.remote_x(...)` at once and returns a Deferred that fires
    on a later reactor turn: the worker's transfer loops call again from the callback, and
    firing synchronously would recurse once per block.
    """

    def __init__(self, impl: Any, conn: Connection) -> None:
        self.impl = impl
        self._conn = conn

    def __repr__(self) -> str:
        return f"<LocalReference to {self.impl!r}>"

    def callRemote(self, _name: str, *args: Any, **kw: Any) -> defer.Deferred[Any]:
        method = getattr(self.impl, f"remote_{_name}", None)
        if method is None:
            return self._conn._later(Failure(AttributeError(f"No such method: remote_{_name}")))
        try:
            result = method(*args, **kw)
        except Exception:  # noqa: BLE001 - handed to the caller as a failed Deferred, as a
            return self._conn._later(Failure())  # remote call's error would be
        if isinstance(result, defer.Deferred) or inspect.isawaitable(result):
            out: defer.Deferred[Any] = defer.Deferred()
            ensure_deferred(result).addBoth(lambda r: self._conn._later(r).chainDeferred(out))
            return out
        return self._conn._later(result)

    def notifyOnDisconnect(self, cb: Callable[[Any], Any]) -> None:
        """Accepted and ignored, as in the reference.

        Calling the worker's watcher would make the stock worker send the killed command's
        last output to a reference it has just cleared (an error in our own log). Commands
        of an in-process worker stop with the worker service, which is a child of the
        master-side LocalWorker.
        """

    def dontNotifyOnDisconnect(self, cb: Callable[[Any], Any]) -> None:
        """See `notifyOnDisconnect`."""


class Connection(base.Connection):
    """A connection to a `buildbot_worker.null.LocalWorker` service running in this process."""

    def __init__(self, worker: Any) -> None:
        from twisted.internet import reactor  # fixed constructor signature: no clock given

        name = getattr(worker, "workername", None) or worker.name
        super().__init__(name, reactor)
        self.worker = worker

    @property
    def _bot(self) -> Any:
        return self.worker.bot

    def _later(self, result: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.clock.callLater(0, d.callback, result)
        return d

    def _wfb(self, builderName: str) -> Any:
        try:
            return self._bot.builders[builderName]
        except KeyError:
            raise KeyError(f"builder {builderName!r} is not attached on local worker "
                           f"{self.name}") from None

    def loseConnection(self) -> None:
        self.notifyDisconnected()

    def get_peer(self) -> str:
        return "local"

    async def remoteKeepalive(self) -> None:
        return None

    async def remotePrint(self, message: str) -> None:
        await maybe_await(self._bot.remote_print(message))

    async def remoteGetWorkerInfo(self) -> dict[str, Any]:
        self.info = dict(await maybe_await(self._bot.remote_getWorkerInfo()))
        return self.info

    async def remoteSetBuilderList(self, builders: list[tuple[str, str]]) -> list[str]:
        wfbs = await maybe_await(self._bot.remote_setBuilderList([tuple(b) for b in builders]))
        self.builders = list(wfbs)
        return self.builders

    async def remoteStartBuild(self, builderName: str) -> None:
        await maybe_await(self._wfb(builderName).remote_startBuild())

    async def remoteStartCommand(self, remoteCommand: Any, builderName: str, commandId: str,
                                 commandName: str, args: dict[str, Any]) -> None:
        wfb = self._wfb(builderName)
        # a copy either way: the worker rewrites its args in place
        args = self.createArgsProxies(args)
        for k in _TRANSFER_KEYS:
            if args.get(k) is not None:
                args[k] = LocalReference(args[k], self)
        await maybe_await(wfb.remote_startCommand(LocalReference(remoteCommand, self),
                                                  commandId, commandName, args))

    async def remoteInterruptCommand(self, builderName: str, commandId: str, why: str) -> None:
        await maybe_await(self._wfb(builderName).remote_interruptCommand(commandId, why))

    async def remoteShutdown(self) -> None:
        # There is no process to exit: stop the in-process worker service, which is what
        # the worker exiting means, and report the connection gone.
        await maybe_await(self.worker.stopService())
        self.loseConnection()


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = ("the worker connections of this master are implemented differently "
                 "(buildbot.worker.protocols)")
FileReaderProxy = internal_class(__name__, "FileReaderProxy", _INTERNAL_WHY)
FileWriterProxy = internal_class(__name__, "FileWriterProxy", _INTERNAL_WHY)
Listener = internal_class(__name__, "Listener", _INTERNAL_WHY)
ProxyMixin = internal_class(__name__, "ProxyMixin", _INTERNAL_WHY)
RemoteCommandProxy = internal_class(__name__, "RemoteCommandProxy", _INTERNAL_WHY)
for _cls in (Connection,):
    differs_internally(_INTERNAL_WHY)(_cls)
