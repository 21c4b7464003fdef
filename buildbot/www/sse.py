# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""Server-Sent Events `/sse`: live events as a `text/event-stream` (not used by the UI).

`GET /sse[/listen][/<pattern>]` opens a stream (first event `handshake` with its uuid);
`/sse/add/<uuid>/<pattern>` and `/sse/remove/<uuid>/<pattern>` change its subscriptions.
Unlike the reference, add/remove replies carry only `ok`, query strings are ignored
instead of failing with 500, and — when an auth plugin is configured — a stream needs the
right to read `masters` and carries only the events its user may read (as `/ws`). A
pattern whose first segment no event can have is `404 not implemented`.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from typing import Any

from twisted.logger import Logger
from twisted.web import resource, server

from buildbot.util.internal import differs_internally, internal_class
from buildbot.www.authz import Forbidden
from buildbot.www.encoding import json_default
from buildbot.www.eventgate import EventGate, SharedEncoding
from buildbot.www.resource import FlowControl, request_gone

log = Logger()

MAX_QUEUED = 10000


def _event_bytes(key: tuple[str, ...], body: Any) -> bytes:
    data = json.dumps({"key": list(key), "message": body}, default=json_default)
    return f"event: event\ndata: {data}\n\n".encode()


# Pure (bytes from the message alone): one cache serves every stream of the process.
_ENCODING: SharedEncoding[bytes] = SharedEncoding(_event_bytes)


class EventStream:
    """One open SSE response and its subscriptions."""

    def __init__(self, www: Any, request: server.Request, user_info: dict[str, Any]) -> None:
        self.www = www
        self.request = request
        self.gate = EventGate(www, user_info, self._send_event, self.close, MAX_QUEUED)
        self.uuid = str(uuid.uuid4())
        self.consumers: dict[tuple[str | None, ...], Any] = {}
        self.flow = FlowControl()
        self.queue: deque[bytes] = deque()
        self.closed = False

    def start(self) -> None:
        req = self.request
        req.setHeader(b"content-type", b"text/event-stream")
        req.setHeader(b"cache-control", b"no-cache")
        req.registerProducer(_Resumer(self), True)
        self.write(f"event: handshake\ndata: {self.uuid}\n\n".encode())

    def write(self, data: bytes) -> None:
        if self.closed or request_gone(self.request):
            return
        if self.flow.paused or self.queue:
            self.queue.append(data)
            if len(self.queue) > MAX_QUEUED:
                msg = "SSE client too slow: closing stream {uuid}"
                log.warn(msg, uuid=self.uuid)  # noqa: G010
                self.close()
            return
        self.request.write(data)

    def flush(self) -> None:
        while self.queue and not self.flow.paused and not request_gone(self.request):
            self.request.write(self.queue.popleft())

    def deliver(self, key: tuple[str, ...], body: Any) -> None:
        self.gate.deliver(key, body)

    def _send_event(self, key: tuple[str, ...], body: Any) -> None:
        self.write(_ENCODING.get(key, body))

    async def add(self, topic: tuple[str | None, ...]) -> None:
        if topic in self.consumers:
            return
        consumer = await self.www.master.data.mq.startConsuming(self.deliver, topic)
        if self.closed or topic in self.consumers:
            consumer.stopConsuming()
            return
        self.consumers[topic] = consumer

    def remove(self, topic: tuple[str | None, ...]) -> bool:
        consumer = self.consumers.pop(topic, None)
        if consumer is None:
            return False
        consumer.stopConsuming()
        return True

    def stop_consuming(self) -> None:
        self.closed = True
        self.gate.close()
        for consumer in self.consumers.values():
            consumer.stopConsuming()
        self.consumers.clear()
        self.queue.clear()

    def close(self) -> None:
        self.stop_consuming()
        if not request_gone(self.request):
            self.request.unregisterProducer()
            self.request.finish()


class _Resumer:
    """IPushProducer adapter flushing the stream's queue when the client reads again."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream

    def pauseProducing(self) -> None:
        self.stream.flow.pauseProducing()

    def resumeProducing(self) -> None:
        self.stream.flow.resumeProducing()
        self.stream.flush()

    def stopProducing(self) -> None:
        self.stream.flow.stopProducing()
        self.stream.stop_consuming()


def _topic(segments: list[str]) -> tuple[str | None, ...]:
    return tuple(None if s == "*" else s for s in segments)


class EventResource(resource.Resource):
    """`/sse/...`."""

    isLeaf = True

    def __init__(self, www: Any) -> None:
        super().__init__()
        self.www = www
        self.streams: dict[str, EventStream] = {}

    def _text(self, request: server.Request, status: int, text: bytes) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"text/plain")
        return text

    def render_GET(self, request: server.Request) -> Any:
        segments = [p.decode("utf-8", "replace") for p in request.postpath or [] if p != b""]
        if segments and segments[0] in ("add", "remove"):
            command = segments[0]
            if len(segments) < 2:
                return self._text(request, 400, b"need uuid")
            stream = self.streams.get(segments[1])
            if stream is None:
                return self._text(request, 400, b"unknown uuid")
            topic = _topic(segments[2:])
            if command == "remove":
                if not stream.remove(topic):
                    return self._text(request, 404, b"consumer is not listening to this event")
                return self._text(request, 200, b"ok")
            if segments[2:] and not self._known_topic(segments[2]):
                return self._text(request, 404, b"not implemented")
            self.www.tasks.spawn("sse subscription", self._add(request, stream, topic))
            return server.NOT_DONE_YET
        if segments and segments[0] == "listen":
            segments = segments[1:]
        if segments and not self._known_topic(segments[0]):
            # (Buildbot 4.3 opens a stream that can never carry an event.)
            return self._text(request, 404, b"not implemented")
        self.www.tasks.spawn("sse stream", self._open(request, segments))
        return server.NOT_DONE_YET

    def _known_topic(self, first: str) -> bool:
        """Whether events can have `first` as the first segment of their routing key: a
        resource type's plural (or event path root), `control`, or the wildcard."""
        if first in ("*", "control"):
            return True
        data = self.www.master.data
        if first in getattr(data, "plural_rtypes", {}):
            return True
        return any(p.split("/", 2)[1:2] == [first]
                   for rtype in getattr(data, "rtypes_by_name", {}).values()
                   for p in (getattr(rtype, "eventPathPatterns", "") or "").split())

    async def _open(self, request: server.Request, segments: list[str]) -> None:
        user_info = self.www.user_info(request)
        if self.www.auth_configured:
            try:
                await self.www.assert_allowed(("masters",), "get", {}, user_info)
            except Forbidden as e:
                if not request_gone(request):
                    request.setResponseCode(403)
                    request.setHeader(b"content-type", b"text/plain")
                    request.write(e.message.encode())
                    request.finish()
                return
        if request_gone(request):
            return
        stream = EventStream(self.www, request, user_info)
        self.streams[stream.uuid] = stream

        def gone(_: Any) -> None:
            stream.stop_consuming()
            self.streams.pop(stream.uuid, None)

        request.notifyFinish().addBoth(gone)
        stream.start()
        if segments:
            await stream.add(_topic(segments))

    async def _add(self, request: server.Request, stream: EventStream,
                   topic: tuple[str | None, ...]) -> None:
        await stream.add(topic)
        if not request_gone(request):
            request.setHeader(b"content-type", b"text/plain")
            request.write(b"ok")
            request.finish()

    def close_all(self) -> None:
        for stream in list(self.streams.values()):
            stream.close()
        self.streams.clear()


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
Consumer = internal_class(__name__, "Consumer", _INTERNAL_WHY)
for _cls in (EventResource,):
    differs_internally(_INTERNAL_WHY)(_cls)
