"""msgpack-over-WebSocket port manager (`msgpack_experimental_v7`, as buildbot-worker 4.3 speaks it).

An autobahn WebSocket server per port. The worker authenticates with HTTP Basic in the opening
handshake (none → 401, unparsable → 400, unknown name or wrong password → 401). Each binary
message is one msgpack map with `op` and `seq_number`; every request is answered once with
`{op: response, seq_number, result}` (plus `is_exception: True` on failure). Worker requests
are served by the `Connection` made by the registered factory (`protocols/msgpack.py`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

import msgpack
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import maybe_await
from buildbot.util.internal import internal_class, internal_function
from buildbot.worker.protocols.base import (
    RemoteWorkerError,
    WorkerConnectionLost,
    WorkerRequestError,
)
from buildbot.worker.protocols.manager.base import Dispatcher, PortManager, render_password

log = Logger()


def decode_basic_authorization(value: str) -> tuple[str, str]:
    """`(username, password)` from an HTTP `Authorization: Basic ...` value.

    Raises ValueError if the value is not Basic credentials with a `:`.
    """
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ValueError("not Basic credentials")
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ValueError(f"undecodable credentials: {e}") from e
    if ":" not in text:
        raise ValueError("credentials without ':'")
    username, password = text.split(":", 1)
    return username, password


class WorkerWebSocketProtocol(WebSocketServerProtocol):
    """One worker's WebSocket: authentication, framing, sequence numbers and responses."""

    factory: Any

    def __init__(self) -> None:
        super().__init__()
        self.worker_name: str | None = None
        self.connection: Any = None
        self._seq = 0
        self._waiting: dict[int, defer.Deferred[Any]] = {}
        self._packer = msgpack.Packer(use_bin_type=True)
        self._open = False

    def peer_address(self) -> str:
        """The worker's "host:port"."""
        transport: Any = self.transport
        try:
            p = transport.getPeer()
        except AttributeError:
            return "unknown address"
        return f"{p.host}:{p.port}"

    # -- opening handshake ----------------------------------------------------------------
    def onConnect(self, request: Any) -> defer.Deferred[None]:  # type: ignore[override]  # autobahn's hook may return a Deferred
        # autobahn also accepts a Deferred here (the password may need rendering)
        return defer.Deferred.fromCoroutine(self._authenticate(request))

    async def _authenticate(self, request: Any) -> None:
        dispatcher = self.factory.dispatcher
        peer = self.peer_address()
        value = request.headers.get("authorization")
        if value is None:
            log.warn("msgpack worker connection on {portstr} from {peer} refused: "
                     "no credentials", portstr=dispatcher.portstr, peer=peer)
            raise ConnectionDeny(401, "Unauthorized")
        try:
            username, password = decode_basic_authorization(value)
        except ValueError as e:
            log.warn("msgpack worker connection on {portstr} from {peer} refused: {why}",
                     portstr=dispatcher.portstr, peer=peer, why=e)
            raise ConnectionDeny(400, "Bad request") from e
        entry = dispatcher.users.get(username)
        if entry is None:
            log.warn("worker login refused on {portstr}: unknown name {name!r} (from {peer})",
                     portstr=dispatcher.portstr, name=username, peer=peer)
            raise ConnectionDeny(401, "Unauthorized")
        try:
            expected = await render_password(entry[0])
        except Exception as e:
            log.failure("cannot render the password of {name!r}", name=username)
            raise ConnectionDeny(401, "Unauthorized") from e
        if not hmac.compare_digest(expected, password.encode("utf-8")):
            log.warn("worker login refused on {portstr}: wrong password for {name!r} "
                     "(from {peer})", portstr=dispatcher.portstr, name=username, peer=peer)
            raise ConnectionDeny(401, "Unauthorized")
        self.worker_name = username

    def onOpen(self) -> None:
        self._open = True
        defer.Deferred.fromCoroutine(self._attach()).addErrback(
            lambda f: log.failure("attaching msgpack worker {name} failed", failure=f,
                                  name=self.worker_name))

    async def _attach(self) -> None:
        name = self.worker_name
        assert name is not None
        dispatcher = self.factory.dispatcher
        entry = dispatcher.users.get(name)
        if entry is None:  # unregistered since the handshake
            self.sendClose()
            return
        try:
            conn = await maybe_await(entry[1](self, name))
        except Exception as e:
            log.info("msgpack login of {name!r} from {peer} refused: {why}", name=name,
                     peer=self.peer_address(), why=e)
            self.sendClose()
            return
        self.connection = conn
        if not self._open:  # closed while the factory ran
            conn.detached(self)
            return
        try:
            await maybe_await(conn.attached(self))
        except WorkerConnectionLost as e:
            log.info("worker {name!r} went away during its handshake: {why}", name=name, why=e)
        except Exception:
            log.failure("handshake with msgpack worker {name!r} ({peer}) failed", name=name,
                        peer=self.peer_address())
            self.abort()

    # -- messages ------------------------------------------------------------------------
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if not isBinary:
            log.info("ignoring a text message from worker {name}", name=self.worker_name)
            return
        try:
            msg = msgpack.unpackb(payload, raw=False)
        except Exception as e:
            log.warn("undecodable message from worker {name}: {why}", name=self.worker_name,
                     why=e)
            return
        if not isinstance(msg, dict) or "op" not in msg or "seq_number" not in msg:
            log.info("invalid message from worker {name}: {msg!r}", name=self.worker_name,
                     msg=msg)
            return
        if msg["op"] == "response":
            self._on_response(msg)
            return
        seq = msg["seq_number"]
        conn = self.connection
        if conn is None:
            self._respond(seq, "Worker not authenticated.", True)
            return
        try:
            d = conn.handle_request(msg)
        except Exception as e:  # noqa: BLE001 - answered to the worker as a failed request
            self._request_failed(Failure(e), seq, msg["op"])
            return
        d.addCallbacks(self._respond_ok, self._request_failed, callbackArgs=(seq,),
                       errbackArgs=(seq, msg["op"]))

    def _respond_ok(self, result: Any, seq: Any) -> None:
        self._respond(seq, result, False)

    def _request_failed(self, f: Failure, seq: Any, op: str) -> None:
        if f.check(WorkerRequestError, KeyError, ValueError, TypeError) is None:
            log.failure("serving {op} from worker {name} failed", failure=f, op=op,
                        name=self.worker_name)
        else:
            log.info("refused {op} from worker {name}: {why}", op=op, name=self.worker_name,
                     why=f.getErrorMessage())
        self._respond(seq, str(f.value), True)

    def _respond(self, seq: Any, result: Any, is_exception: bool) -> None:
        if not self._open:
            return
        out = {"op": "response", "seq_number": seq, "result": result}
        if is_exception:
            out["is_exception"] = True
        self.sendMessage(self._packer.pack(out), isBinary=True)

    def _on_response(self, msg: dict[str, Any]) -> None:
        d = self._waiting.pop(msg["seq_number"], None)
        if d is None:
            log.info("worker {name} answered unknown request {seq!r}", name=self.worker_name,
                     seq=msg["seq_number"])
            return
        if msg.get("is_exception"):
            d.errback(RemoteWorkerError(str(msg.get("result"))))
        else:
            d.callback(msg.get("result"))

    def send_request(self, msg: dict[str, Any]) -> defer.Deferred[Any]:
        """Send a master request (`seq_number` is added); fires with the response result.

        Fails with `RemoteWorkerError` on an exception response, `WorkerConnectionLost` if
        the connection closes first.
        """
        if not self._open:
            return defer.fail(WorkerConnectionLost(f"worker {self.worker_name} is not connected"))
        seq = self._seq
        self._seq += 1
        msg["seq_number"] = seq
        d: defer.Deferred[Any] = defer.Deferred()
        self._waiting[seq] = d
        self.sendMessage(self._packer.pack(msg), isBinary=True)
        return d

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        if self.transport is not None:
            self.transport.abortConnection()

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self._open = False
        waiting, self._waiting = self._waiting, {}
        for d in waiting.values():
            d.errback(WorkerConnectionLost(f"connection to worker {self.worker_name} lost"))
        if self.connection is not None:
            self.connection.detached(self)


class _WorkerWebSocketFactory(WebSocketServerFactory):
    dispatcher: MsgpackDispatcher


class MsgpackDispatcher(Dispatcher):
    """One msgpack WebSocket port."""

    def make_factory(self) -> WebSocketServerFactory:
        # No URL: autobahn then checks neither the Host port nor the path, as the reference.
        factory = _WorkerWebSocketFactory()
        factory.protocol = WorkerWebSocketProtocol
        factory.dispatcher = self
        return factory


class MsgManager(PortManager):
    """The `msgmanager` service: `register(port, username, password, pfactory)`.

    `pfactory(protocol, username)` returns (possibly asynchronously) the Connection; its
    `attached(protocol)` runs the handshake and `detached(protocol)` is called on close.
    """

    dispatcher_class = MsgpackDispatcher

    def __init__(self, reactor: Any = None) -> None:
        super().__init__("msgmanager", reactor)

    def normalize_portstr(self, portstr: int | str) -> str:
        """An int (or int string) port listens as `tcp:<port>` on every interface.

        Beyond the reference, a full strports string (with ':') is used as given.
        """
        if isinstance(portstr, str) and ":" in portstr:
            return portstr
        try:
            return f"tcp:{int(portstr)}"
        except ValueError:
            raise ValueError(f"msgpack port must be an int, not {portstr!r}") from None


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = ("the worker connections of this master are implemented differently "
                 "(buildbot.worker.protocols)")
BuildbotWebSocketServerProtocol = internal_class(
    __name__, "BuildbotWebSocketServerProtocol", _INTERNAL_WHY)
ConnectioLostError = internal_class(__name__, "ConnectioLostError", _INTERNAL_WHY)
decode_http_authorization_header = internal_function(
    __name__, "decode_http_authorization_header", _INTERNAL_WHY)
encode_http_authorization_header = internal_function(
    __name__, "encode_http_authorization_header", _INTERNAL_WHY)
