"""The msgpack-over-WebSocket worker connection (`msgpack_experimental_v7`).

The WebSocket side (authentication, framing, sequence numbers, responses) is in
`manager/msgpack.py`; this module turns the Connection contract into msgpack requests and the
worker's requests (`update`, `complete`, transfer ops) into calls on the master-side objects,
in the same form PB delivers them:

- `update` args `[[key, value], ...]` become one `remote_update([[{key: value}, 0], ...])` call
  (text values `[text, [nl...], [ts...]]` → text; `log` → `(name, text)`);
- `complete` becomes `remote_complete(failure_text_or_None)`;
- transfer ops call the writer/reader given in `args['writer']` / `args['reader']`; unlike the
  reference master, `update_read_file` answers the bytes read and `update_upload_file_utime`
  applies the times.

Requests of one command are handled one after the other, in arrival order.
"""

from __future__ import annotations

import stat
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import maybe_await
from buildbot.util.internal import differs_internally, internal_class
from buildbot.worker.protocols import base
from buildbot.worker.protocols.base import (
    WorkerConnectionLost,
    WorkerRequestError,
    new_command_id,
)
from buildbot.worker.protocols.msgpack_args import WorkerPaths, translate_command

if TYPE_CHECKING:
    from pathlib import PurePath

    from twisted.internet.interfaces import IReactorTime

    from buildbot.worker.protocols.base import WorkerRegistry, WorkerService

log = Logger()

# The values the reference master sends; they equal the worker's own defaults.
WORKER_SETTINGS = {
    "newline_re": r"(\r\n|\r(?=.)|\033\[u|\033\[[0-9]+;[0-9]+[Hf]|\033\[2J|\x08+)",
    "max_line_length": 4096,
    "buffer_timeout": 5,
    "buffer_size": 64 * 1024,
}

_TEXT_KEYS = frozenset(("stdout", "stderr", "header"))


class UnknownOperation(WorkerRequestError):
    """A request whose `op` the master does not implement."""


class HandshakeError(Exception):
    """A command of the msgpack handshake (listdir/stat/rmdir/mkdir) did not succeed."""


def _field(msg: dict[str, Any], key: str) -> Any:
    try:
        return msg[key]
    except KeyError:
        raise WorkerRequestError(f'message did not contain obligatory "{key}" key') from None


def updates_to_pb(args: list[Any]) -> list[list[Any]]:
    """msgpack `update` args to the PB `remote_update` argument."""
    out = []
    for key, value in args:
        if key in _TEXT_KEYS:
            value = value[0]
        elif key == "log":
            value = (value[0], value[1][0])
        elif key == "stat":
            value = tuple(value)
        out.append([{key: value}, 0])
    return out


class _InternalCommand:
    """A handshake command: collects its updates and waits for its completion."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.done: defer.Deferred[Any] = defer.Deferred()

    def remote_update(self, updates: list[list[Any]]) -> int:
        for upd, _ in updates:
            self.results.update(upd)
        return 0

    def remote_complete(self, failure: Any = None) -> None:
        if not self.done.called:
            self.done.callback(failure)

    def lost(self) -> None:
        if not self.done.called:
            self.done.errback(WorkerConnectionLost("connection lost during the handshake"))


Handler = Callable[[dict[str, Any]], Coroutine[Any, Any, Any]]


class Connection(base.Connection):
    """A msgpack worker connection; `protocol` is its `WorkerWebSocketProtocol`."""

    def __init__(self, worker: WorkerService, protocol: Any, clock: IReactorTime) -> None:
        super().__init__(worker.name, clock)
        self.worker = worker
        self.protocol: Any = protocol
        self._peer = protocol.peer_address() if protocol is not None else "unknown"
        self._commands: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}
        self._readers: dict[str, Any] = {}
        self._queues: dict[str, deque[tuple[Handler, dict[str, Any], defer.Deferred[Any]]]] = {}
        self._paths: WorkerPaths | None = None
        self._builder_dirs: dict[str, PurePath] = {}
        self._handlers: dict[str, Handler] = {
            "update": self._on_update,
            "complete": self._on_complete,
            "update_upload_file_write": self._on_write,
            "update_upload_directory_write": self._on_write,
            "update_upload_file_close": self._on_close_writer,
            "update_upload_file_utime": self._on_utime,
            "update_upload_directory_unpack": self._on_unpack,
            "update_read_file": self._on_read,
            "update_read_file_close": self._on_close_reader,
        }

    # -- called by the WebSocket protocol ----------------------------------------------
    async def attached(self, protocol: Any) -> None:
        """Run the worker's handshake (through `worker.attached(self)`)."""
        self.start_keepalive()
        await self.worker.attached(self)

    def detached(self, protocol: Any = None) -> None:
        """The WebSocket closed."""
        self.protocol = None
        for cmd in self._commands.values():
            if isinstance(cmd, _InternalCommand):
                cmd.lost()
        self._commands.clear()
        self._writers.clear()
        self._readers.clear()
        self.notifyDisconnected()

    def loseConnection(self) -> None:
        self.stop_keepalive()
        if self.protocol is not None:
            self.protocol.abort()

    def get_peer(self) -> str:
        return self._peer

    def handle_request(self, msg: dict[str, Any]) -> defer.Deferred[Any]:
        """Serve one worker request; the Deferred fires with the response `result`.

        Raises `UnknownOperation` / `WorkerRequestError` for requests that cannot be served.
        """
        op = msg["op"]
        handler = self._handlers.get(op)
        if handler is None:
            raise UnknownOperation(f"Command {op} does not exist.")
        cid = _field(msg, "command_id")
        queue = self._queues.get(cid)
        if queue is not None:
            result: defer.Deferred[Any] = defer.Deferred()
            queue.append((handler, msg, result))
            return result
        d = defer.Deferred.fromCoroutine(handler(msg))
        if d.called:
            return d
        self._queues[cid] = deque()
        result = defer.Deferred()
        d.addBoth(self._handled, cid, result)
        return result

    def _handled(self, outcome: Any, cid: str, result: defer.Deferred[Any]) -> None:
        if isinstance(outcome, Failure):
            result.errback(outcome)
        else:
            result.callback(outcome)
        queue = self._queues[cid]
        while queue:
            handler, msg, nxt = queue.popleft()
            d = defer.Deferred.fromCoroutine(handler(msg))
            if not d.called:
                d.addBoth(self._handled, cid, nxt)
                return
            d.chainDeferred(nxt)
        del self._queues[cid]

    # -- worker requests --------------------------------------------------------------
    def _lookup(self, table: dict[str, Any], msg: dict[str, Any]) -> Any:
        try:
            return table[_field(msg, "command_id")]
        except KeyError:
            raise WorkerRequestError('unknown "command_id"') from None

    async def _on_update(self, msg: dict[str, Any]) -> None:
        cmd = self._lookup(self._commands, msg)
        await maybe_await(cmd.remote_update(updates_to_pb(_field(msg, "args"))))

    async def _on_complete(self, msg: dict[str, Any]) -> None:
        cmd = self._lookup(self._commands, msg)
        failure = _field(msg, "args")
        cid = msg["command_id"]
        del self._commands[cid]
        self._writers.pop(cid, None)
        self._readers.pop(cid, None)
        await maybe_await(cmd.remote_complete(failure))

    async def _on_write(self, msg: dict[str, Any]) -> None:
        writer = self._lookup(self._writers, msg)
        await maybe_await(writer.remote_write(_field(msg, "args")))

    async def _on_close_writer(self, msg: dict[str, Any]) -> None:
        await maybe_await(self._lookup(self._writers, msg).remote_close())

    async def _on_utime(self, msg: dict[str, Any]) -> None:
        writer = self._lookup(self._writers, msg)
        times = (_field(msg, "access_time"), _field(msg, "modified_time"))
        await maybe_await(writer.remote_utime(times))

    async def _on_unpack(self, msg: dict[str, Any]) -> None:
        await maybe_await(self._lookup(self._writers, msg).remote_unpack())

    async def _on_read(self, msg: dict[str, Any]) -> bytes:
        reader = self._lookup(self._readers, msg)
        data = await maybe_await(reader.remote_read(_field(msg, "length")))
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data or b""

    async def _on_close_reader(self, msg: dict[str, Any]) -> None:
        await maybe_await(self._lookup(self._readers, msg).remote_close())

    # -- requests to the worker ---------------------------------------------------------
    async def _request(self, msg: dict[str, Any]) -> Any:
        if self.protocol is None:
            raise WorkerConnectionLost(f"worker {self.name} is not connected")
        return await self.protocol.send_request(msg)

    async def remoteKeepalive(self) -> None:
        await self._request({"op": "keepalive"})

    async def remotePrint(self, message: str) -> None:
        await self._request({"op": "print", "message": message})

    async def remoteGetWorkerInfo(self) -> dict[str, Any]:
        info: dict[str, Any] = await self._request({"op": "get_worker_info"})
        self.info = info
        self._paths = WorkerPaths(info)
        return info

    async def remoteSetBuilderList(self, builders: list[tuple[str, str]]) -> list[str]:
        if self._paths is None:
            await self.remoteGetWorkerInfo()
        paths = self._paths
        assert paths is not None
        await self._request({"op": "set_worker_settings", "args": dict(WORKER_SETTINGS)})
        basedir = paths.basedir
        self._builder_dirs = {name: basedir.joinpath(builddir) for name, builddir in builders}
        wanted = {builddir for _, builddir in builders}
        wanted.add("info")
        found = await self._run_internal("listdir", {"path": str(basedir)}, "files")
        entries = set(found["files"])
        if self.info.get("delete_leftover_dirs"):
            leftovers = []
            for entry in sorted(entries - wanted):
                path = str(basedir.joinpath(entry))
                st = await self._run_internal("stat", {"path": path}, "stat")
                if stat.S_ISDIR(st["stat"][0]):
                    leftovers.append(path)
            if leftovers:
                log.info("deleting directories {dirs} on worker {name}: no builder uses them",
                         dirs=leftovers, name=self.name)
                await self._run_internal("rmdir", {"paths": leftovers})
        missing = sorted(wanted - entries)
        if missing:
            await self._run_internal("mkdir", {"paths": [str(basedir.joinpath(d))
                                                          for d in missing]})
        self.builders = [name for name, _ in builders]
        return self.builders

    async def _run_internal(self, name: str, args: dict[str, Any], *expected: str
                            ) -> dict[str, Any]:
        cmd = _InternalCommand()
        cid = new_command_id()
        self._commands[cid] = cmd
        try:
            await self._request({"op": "start_command", "command_id": cid,
                                 "command_name": name, "args": args})
            failure = await cmd.done
        finally:
            self._commands.pop(cid, None)
        res = cmd.results
        if failure is not None:
            raise HandshakeError(f"{name} on worker {self.name} failed: {failure}")
        if res.get("rc") != 0:
            raise HandshakeError(f"{name} {args} on worker {self.name} ended with rc "
                                 f"{res.get('rc')!r}")
        for key in expected:
            if key not in res:
                raise HandshakeError(f"{name} on worker {self.name} sent no {key!r}")
        return res

    async def remoteStartBuild(self, builderName: str) -> None:
        return None  # msgpack has no per-builder object and no startBuild

    async def remoteStartCommand(self, remoteCommand: Any, builderName: str, commandId: str,
                                 commandName: str, args: dict[str, Any]) -> None:
        if self._paths is None:
            raise RuntimeError(f"worker {self.name}: no worker info yet")
        try:
            builder_dir = self._builder_dirs[builderName]
        except KeyError:
            raise KeyError(f"builder {builderName!r} is not attached on worker "
                           f"{self.name}") from None
        if commandId in self._commands:
            raise ValueError(f"command id {commandId!r} is already running on {self.name}")
        wire_name, wire_args = translate_command(commandName, args, builder_dir, self._paths)
        # Registered before the request: a short command completes before its answer.
        self._commands[commandId] = remoteCommand
        if args.get("writer") is not None:
            self._writers[commandId] = args["writer"]
        if args.get("reader") is not None:
            self._readers[commandId] = args["reader"]
        try:
            await self._request({"op": "start_command", "builder_name": builderName,
                                 "command_id": commandId, "command_name": wire_name,
                                 "args": wire_args})
        except BaseException:
            if self._commands.get(commandId) is remoteCommand:
                del self._commands[commandId]
                self._writers.pop(commandId, None)
                self._readers.pop(commandId, None)
            raise

    async def remoteInterruptCommand(self, builderName: str, commandId: str, why: str) -> None:
        await self._request({"op": "interrupt_command", "builder_name": builderName,
                             "command_id": commandId, "why": why})

    async def remoteShutdown(self) -> None:
        try:
            await self._request({"op": "shutdown"})
        except WorkerConnectionLost:
            pass  # the worker exits right after answering


def connection_factory(workers: WorkerRegistry, clock: IReactorTime) -> base.ConnectionFactory:
    """The `pfactory(protocol, username)` to register worker names with the msgpack manager."""
    return base.make_connection_factory(
        lambda worker, protocol: Connection(worker, protocol, clock), workers)


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = ("the worker connections of this master are implemented differently "
                 "(buildbot.worker.protocols)")
BasicRemoteCommand = internal_class(__name__, "BasicRemoteCommand", _INTERNAL_WHY)
Listener = internal_class(__name__, "Listener", _INTERNAL_WHY)
for _cls in (Connection,):
    differs_internally(_INTERNAL_WHY)(_cls)
