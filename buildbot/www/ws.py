# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""WebSocket `/ws`: live events for the UI (`startConsuming`, `stopConsuming`, `ping`).

Each connection is authorized at the handshake (session cookie; authz `get` on `masters`).
When an auth plugin is configured and authz has rules that can deny reads, every event is
checked against authz for the connection's user before it is sent (the reference sends
everything to everyone once connected). Each connection has a bounded send queue: when a
client reads too slowly, events wait while the transport is paused, and a client that
falls too far behind is disconnected with a log line.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any, ClassVar

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.protocol import PreparedMessage
from autobahn.websocket.types import ConnectionDeny
from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web import server
from zope.interface import implementer

from buildbot.util.deferred import ensure_deferred
from buildbot.util.internal import differs_internally, internal_class, internal_function
from buildbot.www.authz import Forbidden
from buildbot.www.encoding import json_default
from buildbot.www.eventgate import EventGate, SharedEncoding
from buildbot.www.session import user_info_from_headers

log = Logger()

MAX_QUEUED_MESSAGES = 10000
MAX_QUEUED_BYTES = 32 << 20


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=json_default).encode("utf-8")


@implementer(IPushProducer)
class WsProtocol(WebSocketServerProtocol):
    """One WebSocket client."""

    def __init__(self) -> None:
        super().__init__()
        self.user_info: dict[str, Any] = {"anonymous": True}
        self.consumers: dict[str, Any] = {}
        self._starting: set[str] = set()
        self._paused = False
        self._outq: deque[bytes | PreparedMessage] = deque()
        self._outq_bytes = 0
        self._gate: EventGate | None = None
        self._ping: LoopingCall | None = None
        self._closed = False

    @property
    def www(self) -> Any:
        return self.factory.www

    # -- handshake ---------------------------------------------------------------------
    def onConnect(self, request: Any) -> Any:
        return ensure_deferred(self._authorize(request))

    async def _authorize(self, request: Any) -> None:
        www = self.www
        origin = request.headers.get("origin")
        if origin and www.auth_configured:
            # Browsers send the session cookie with cross-site WebSocket handshakes too:
            # only our UI's origins may use it (the reference does not check).
            from buildbot.www.rest import origin_allowed, same_origin

            if not origin_allowed(origin, www.allowed_origins) and \
                    not same_origin(origin, request.headers.get("host")):
                raise ConnectionDeny(403, "Forbidden")
        user_info = user_info_from_headers(request.headers, www.sessions)
        if user_info is None:
            raise ConnectionDeny(403, "Forbidden")
        try:
            await www.assert_allowed(("masters",), "get", {}, user_info)
        except Forbidden:
            raise ConnectionDeny(403, "Forbidden") from None
        self.user_info = user_info
        self._gate = EventGate(www, user_info, self._send_event, self._gate_overflow,
                               MAX_QUEUED_MESSAGES)

    def onOpen(self) -> None:
        self.www.ws.connections.add(self)
        transport: Any = self.transport
        # The HTTP channel that served the upgrade is the transport's producer: take over.
        transport.unregisterProducer()
        try:
            transport.registerProducer(self, True)
        except RuntimeError:
            log.warn("websocket: no flow control on this transport")  # noqa: G010
        interval = self.www.www_config.get("ws_ping_interval") or 0
        if interval > 0:
            self._ping = LoopingCall(self._send_ping)
            self._ping.clock = self.www.clock
            self._ping.start(interval, now=False)

    def _send_ping(self) -> None:
        if self.state == WebSocketServerProtocol.STATE_OPEN:
            self.sendPing()

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self._closed = True
        if self._ping is not None and self._ping.running:
            self._ping.stop()
        for consumer in self.consumers.values():
            consumer.stopConsuming()
        self.consumers.clear()
        self._outq.clear()
        if self._gate is not None:
            self._gate.close()
        ws = self.www.ws
        if ws is not None:
            ws.connections.discard(self)

    # -- flow control (IPushProducer: the transport tells us when its buffer is full) ---------
    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        while self._outq and not self._paused and not self._closed:
            data = self._outq.popleft()
            self._outq_bytes -= _size(data)
            self._send_now(data)

    def stopProducing(self) -> None:
        self._closed = True

    def send(self, payload: bytes | PreparedMessage) -> None:
        """Send a text frame (a payload, or an event framed once for all connections), or
        queue it while the client is not reading."""
        if self._closed or self.state != WebSocketServerProtocol.STATE_OPEN:
            return
        if not self._paused and not self._outq:
            self._send_now(payload)
            return
        self._outq.append(payload)
        self._outq_bytes += _size(payload)
        if len(self._outq) > MAX_QUEUED_MESSAGES or self._outq_bytes > MAX_QUEUED_BYTES:
            msg = "websocket client {peer} too slow ({n} events queued): disconnecting"
            log.warn(msg, peer=self.peer, n=len(self._outq))  # noqa: G010
            self._outq.clear()
            self._closed = True
            self.dropConnection(abort=True)

    def _send_now(self, payload: bytes | PreparedMessage) -> None:
        if not isinstance(payload, PreparedMessage):
            self.sendMessage(payload)
        elif self._perMessageCompress is None and not self.send_queue:
            # The frame as is: autobahn's sendData would format a debug line per call,
            # which for an event sent to 100 clients costs more than the write itself.
            transport: Any = self.transport
            transport.write(payload.payloadHybi)
        else:
            self.sendPreparedMessage(payload)

    def reply(self, **kwargs: Any) -> None:
        self.send(_dumps(kwargs))

    # -- frames ------------------------------------------------------------------------
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        try:
            frame = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # (deep nesting: the last)
            self.reply(error="invalid JSON in websocket frame", code=400, _id=None)
            return
        if not isinstance(frame, dict):
            self.reply(error="websocket frame must be a JSON object", code=400, _id=None)
            return
        if self.www.debug:
            log.info("WS frame {frame!r}", frame=frame)
        _id = frame.get("_id")
        _type = frame.pop("type", None)
        if _id is None and _type is None:
            self.reply(error="no '_id' or 'type' in websocket frame", code=400, _id=None)
            return
        cmd = frame.pop("cmd", None)
        if cmd is None:
            self.reply(error="no 'cmd' in websocket frame", code=400, _id=None)
            return
        handler: Any = self.COMMANDS.get(cmd) if isinstance(cmd, str) else None
        if handler is None:
            self.reply(error=f"no such command type '{cmd}'", code=404, _id=_id)
            return
        params = handler[1]
        has_id = "_id" in frame
        frame.pop("_id", None)
        extra = [k for k in frame if k not in params]
        missing = [p for p in (*params, "_id") if p not in frame and (p != "_id" or not has_id)]
        if extra or missing:
            # The reference's text: the TypeError of calling its cmd_<name>(**frame) method.
            method = f"WsProtocol.cmd_{cmd}()"
            detail = (f"{method} got an unexpected keyword argument '{extra[0]}'" if extra
                      else f"{method} missing 1 required positional argument: '{missing[0]}'")
            self.reply(error=f"Invalid method argument '{detail}'", code=400, _id=_id)
            return
        d = ensure_deferred(handler[0](self, _id=_id, **frame))

        def failed(f: Any) -> None:
            log.failure("websocket command {cmd} failed", failure=f, cmd=cmd)
            self.reply(error=f"Internal Error '{f.value!s}'", code=500, _id=_id)

        d.addErrback(failed)

    async def cmd_startConsuming(self, path: Any, _id: Any) -> None:
        if not isinstance(path, str):
            self.reply(error=f"invalid path format '{path!s}'", code=400, _id=_id)
            return
        if path in self.consumers or path in self._starting:
            self.reply(msg="OK", code=200, _id=_id)
            return
        topic = tuple(None if s == "*" else s for s in path.split("/"))
        self._starting.add(path)
        try:
            consumer = await self.www.master.data.mq.startConsuming(self._deliver, topic)
        finally:
            self._starting.discard(path)
        if self._closed:
            consumer.stopConsuming()
            return
        self.consumers[path] = consumer
        self.reply(msg="OK", code=200, _id=_id)

    async def cmd_stopConsuming(self, path: Any, _id: Any) -> None:
        consumer = self.consumers.pop(path, None) if isinstance(path, str) else None
        if consumer is None:
            self.reply(error=f"path was not consumed '{path!s}'", code=400, _id=_id)
            return
        consumer.stopConsuming()
        self.reply(msg="OK", code=200, _id=_id)

    async def cmd_ping(self, _id: Any) -> None:
        self.reply(msg="pong", code=200, _id=_id)

    COMMANDS: ClassVar[dict[str, tuple[Any, tuple[str, ...]]]] = {
        "startConsuming": (cmd_startConsuming, ("path",)),
        "stopConsuming": (cmd_stopConsuming, ("path",)),
        "ping": (cmd_ping, ()),
    }

    # -- events ------------------------------------------------------------------------
    def _deliver(self, key: tuple[str, ...], body: Any) -> None:
        if self._gate is not None:
            self._gate.deliver(key, body)

    def _send_event(self, key: tuple[str, ...], body: Any) -> None:
        self.send(self.factory.encoder.get(key, body))

    def _gate_overflow(self) -> None:
        msg = "websocket client {peer}: authorization backlog too long: disconnecting"
        log.warn(msg, peer=self.peer)  # noqa: G010
        self._closed = True
        self.dropConnection(abort=True)


def _size(payload: bytes | PreparedMessage) -> int:
    return len(payload.payload if isinstance(payload, PreparedMessage) else payload)


class WsResource(WebSocketResource):
    """`/ws`: upgrades to a `WsProtocol`; keeps the open connections for shutdown."""

    def __init__(self, www: Any) -> None:
        factory = WebSocketServerFactory()
        factory.protocol = WsProtocol
        factory.www = www  # type: ignore[attr-defined]  # read by WsProtocol.www
        # one frame per event for all connections
        factory.encoder = SharedEncoding(  # type: ignore[attr-defined]  # our own attribute
            lambda key, body: factory.prepareMessage(_dumps({"k": "/".join(key), "m": body})))
        factory.setProtocolOptions(maxMessagePayloadSize=1 << 20, maxFramePayloadSize=1 << 20)
        super().__init__(factory)
        self.www = www
        self.factory = factory
        self.connections: set[WsProtocol] = set()

    def reconfigure(self) -> None:
        """Settings are read per connection (ping interval at open)."""

    def render(self, request: server.Request) -> Any:
        site = getattr(request.channel, "site", None)
        channels = getattr(site, "channels", None)
        if channels is not None:  # the connection now belongs to the WebSocket protocol
            for wrapper in [c for c in channels
                            if getattr(c, "_channel", c) is request.channel]:
                channels.discard(wrapper)
        return super().render(request)

    def close_all(self) -> None:
        for proto in list(self.connections):
            proto.dropConnection(abort=False)
        self.connections.clear()


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
Subscription = internal_class(__name__, "Subscription", _INTERNAL_WHY)
WsProtocolFactory = internal_class(__name__, "WsProtocolFactory", _INTERNAL_WHY)
get_ws_sitepath = internal_function(__name__, "get_ws_sitepath", _INTERNAL_WHY)
parse_cookies = internal_function(__name__, "parse_cookies", _INTERNAL_WHY)
for _cls in (WsProtocol, WsResource,):
    differs_internally(_INTERNAL_WHY)(_cls)
