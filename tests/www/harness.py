"""A small master for web-layer tests: the real db (state table), mq and data connector,
with resource types defined here (small, fully controlled), and a config.

`WebMaster.start_www(**www)` starts a real `WWWService` on 127.0.0.1:0; `url(path)` gives
addresses on it. HTTP goes through treq over real sockets.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from twisted.internet import defer

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, update_method
from buildbot.data.connector import DataConnector
from buildbot.data.exceptions import ControlParamsError, InvalidControlException
from buildbot.mq.simple import SimpleMQ
from buildbot.util.resultspec import ResultSpec
from buildbot.www.service import WWWService

# Generous: waits return as soon as the answer comes, and a loaded machine is slow.
DEFAULT_TIMEOUT = 60.0


# -- test resource types -------------------------------------------------------------------

THINGS: dict[int, dict[str, Any]] = {}


class ThingEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/things/n:thingid /things/i:name"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        for t in self.master.things.values():
            if t["thingid"] == kwargs.get("thingid") or t["name"] == kwargs.get("name"):
                return dict(t)
        return None

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        self.master.control_calls.append((action, dict(args), kwargs))
        if action == "poke":
            return [kwargs.get("thingid"), {3: 40}]
        if action == "validate":
            raise ControlParamsError({"reason": "too short"})
        if action == "boom":
            raise RuntimeError("kaboom")
        raise InvalidControlException(f"action: {action} is not supported")


class ThingsEndpoint(Endpoint):
    kind = EndpointKind.COLLECTION
    pathPatterns = "/things"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return [dict(t) for t in self.master.things.values()]


class ThingLogRawEndpoint(Endpoint):
    kind = EndpointKind.RAW
    pathPatterns = "/things/n:thingid/raw"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        lines = self.master.raw_lines.get(kwargs["thingid"])
        if lines is None:
            return None
        master = self.master

        async def chunks() -> AsyncIterator[str]:
            line = "x" * 99 + "\n"
            for i in range(lines):
                master.raw_produced = i + 1
                yield line * 100  # 10 KB per chunk, produced on demand

        return {"raw": chunks(), "mime-type": "text/plain", "filename": f"thing_{kwargs['thingid']}"}


class ThingLogRawInlineEndpoint(ThingLogRawEndpoint):
    kind = EndpointKind.RAW_INLINE
    pathPatterns = "/things/n:thingid/raw_inline"


class Thing(ResourceType):
    name = "thing"
    plural = "things"
    endpoints = [ThingEndpoint, ThingsEndpoint, ThingLogRawEndpoint, ThingLogRawInlineEndpoint]  # noqa: RUF012
    eventPathPatterns = "/things/:thingid"
    entityType = types.Entity("thing", {
        "thingid": types.Integer(), "name": types.Identifier(50),
        "tags": types.List(of=types.String()), "text": types.String()})

    @update_method
    async def addThing(self, name: str, tags: list[str] | None = None, text: str = "") -> int:
        thingid = len(self.master.things) + 1
        body = {"thingid": thingid, "name": name, "tags": tags or [], "text": text}
        self.master.things[thingid] = body
        self.produceEvent(body, "new")
        return thingid


class MasterEndpoint(Endpoint):
    kind = EndpointKind.COLLECTION
    pathPatterns = "/masters"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return [{"masterid": 1, "name": "test", "active": True, "last_active": 0}]


class MasterType(ResourceType):
    name = "master"
    plural = "masters"
    endpoints = [MasterEndpoint]  # noqa: RUF012
    entityType = types.Entity("master", {"masterid": types.Integer(), "name": types.String(),
                                         "active": types.Boolean(),
                                         "last_active": types.Integer()})


class BuilderBuildsEndpoint(Endpoint):
    kind = EndpointKind.COLLECTION
    pathPatterns = "/builders/s:buildername/builds"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return [dict(b) for b in self.master.builds if b["builder"] == kwargs["buildername"]]


def _find(rows: list[dict[str, Any]], key: str, value: Any) -> Any:
    return next((dict(r) for r in rows if r.get(key) == value), None)


class BuildEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/builds/n:buildid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return _find(self.master.builds, "buildid", kwargs["buildid"])

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        if action not in ("stop", "rebuild"):
            raise InvalidControlException(f"action: {action} is not supported")
        self.master.control_calls.append((action, dict(args), kwargs))
        return None


class BuildType(ResourceType):
    name = "build"
    plural = "builds"
    endpoints = [BuilderBuildsEndpoint, BuildEndpoint]  # noqa: RUF012
    eventPathPatterns = "/builds/:buildid"
    entityType = types.Entity("build", {"buildid": types.Integer(), "number": types.Integer(),
                                        "builder": types.String(), "complete": types.Boolean(),
                                        "results": types.NoneOk(types.Integer())})


class BuilderEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/builders/n:builderid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return _find(self.master.builders, "builderid", kwargs["builderid"])


class BuilderType(ResourceType):
    name = "builder"
    plural = "builders"
    endpoints = [BuilderEndpoint]  # noqa: RUF012
    entityType = types.Entity("builder", {"builderid": types.Integer(), "name": types.String()})


class BuildRequestEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/buildrequests/n:buildrequestid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return _find(self.master.buildrequests, "buildrequestid", kwargs["buildrequestid"])


class BuildRequestType(ResourceType):
    name = "buildrequest"
    plural = "buildrequests"
    endpoints = [BuildRequestEndpoint]  # noqa: RUF012
    entityType = types.Entity("buildrequest", {"buildrequestid": types.Integer(),
                                               "buildsetid": types.Integer()})


class BuildsetEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/buildsets/n:bsid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        bs = self.master.buildsets.get(kwargs["bsid"])
        return {"bsid": kwargs["bsid"], "sourcestamps": bs["sourcestamps"]} if bs else None


class BuildsetPropertiesEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/buildsets/n:bsid/properties"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        bs = self.master.buildsets.get(kwargs["bsid"])
        return dict(bs["properties"]) if bs else None


class BuildsetType(ResourceType):
    name = "buildset"
    plural = "buildsets"
    endpoints = [BuildsetEndpoint, BuildsetPropertiesEndpoint]  # noqa: RUF012
    entityType = types.Entity("buildset", {"bsid": types.Integer()})


class ForceSchedulerEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/forceschedulers/i:schedulername"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return {"name": kwargs["schedulername"], "builder_names": ["lin", "win"]}

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        self.master.control_calls.append((action, dict(args), kwargs))
        return [1, {"1": 1}]


class ForceSchedulerType(ResourceType):
    name = "forcescheduler"
    plural = "forceschedulers"
    endpoints = [ForceSchedulerEndpoint]  # noqa: RUF012
    entityType = types.Entity("forcescheduler", {"name": types.String()})


class ChangeType(ResourceType):
    """Records `addChange` calls (the change hooks' only way in)."""

    name = "change"
    plural = "changes"
    endpoints: list[type[Endpoint]] = []  # noqa: RUF012

    @update_method
    async def addChange(self, **kwargs: Any) -> int:
        self.master.changes.append(kwargs)
        return len(self.master.changes)


class WebConfig:
    """The MasterConfig attributes the web layer reads."""

    def __init__(self, www: dict[str, Any], buildbotURL: str = "http://localhost:8080/") -> None:
        self.www = {"port": None, "plugins": {}, "auth": None, "authz": None,
                    "avatar_methods": None, "logfileName": None}
        self.www.update(www)
        self.buildbotURL = buildbotURL
        self.title = "Buildbot"
        self.titleURL = "http://buildbot.net/"
        self.multiMaster = False


class WebMaster:
    """Just enough master for the web layer."""

    def __init__(self, basedir: str, db: Any) -> None:
        from twisted.internet import reactor

        self.basedir = basedir
        self.reactor = reactor
        self.mq = SimpleMQ()
        self.db = db  # a real DBConnector (the session secret lives in its state table)
        self.masterid = 1
        self.things: dict[int, dict[str, Any]] = {}
        self.raw_lines: dict[int, int] = {}
        self.raw_produced = 0
        self.control_calls: list[Any] = []
        self.changes: list[dict[str, Any]] = []
        self.builds: list[dict[str, Any]] = []
        self.builders: list[dict[str, Any]] = []
        self.buildrequests: list[dict[str, Any]] = []
        self.buildsets: dict[int, dict[str, Any]] = {}
        self.change_svc: list[Any] = []
        self.data = DataConnector(self, modules=[])
        for rtype in (Thing, MasterType, ChangeType, BuildType, BuilderType, BuildRequestType,
                      BuildsetType, ForceSchedulerType):
            self.data._add_rtype(rtype(self.data))
        self.www: WWWService | None = None
        self.config: WebConfig | None = None

    async def start_www(self, buildbotURL: str | None = None, **www: Any) -> WWWService:
        www.setdefault("port", "tcp:0:interface=127.0.0.1")
        self.config = WebConfig(www)
        service = WWWService(self)
        self.www = service
        await service.reconfigure(self.config)
        await defer.ensureDeferred(service.startService())
        port = service.port_number
        self.config.buildbotURL = buildbotURL or f"http://127.0.0.1:{port}/"
        await service.reconfigure(self.config)
        return service

    async def reconfigure(self, **www: Any) -> None:
        assert self.www is not None and self.config is not None
        www.setdefault("port", self.config.www["port"])
        cfg = WebConfig(www, self.config.buildbotURL)
        self.config = cfg
        await self.www.reconfigure(cfg)

    async def stop(self) -> None:
        if self.www is not None and self.www.running:
            await defer.ensureDeferred(self.www.stopService())

    def url(self, path: str) -> str:
        assert self.www is not None
        return f"http://127.0.0.1:{self.www.port_number}/{path.lstrip('/')}"


class Response:
    """A response read in full: `code`, `headers` (twisted Headers), `body`."""

    def __init__(self, code: int, headers: Any, body: bytes) -> None:
        self.code, self.headers, self.body = code, headers, body

    async def content(self) -> bytes:
        return self.body

    async def json(self) -> Any:
        return json.loads(self.body)

    def cookie(self, name: str = "TWISTED_SESSION") -> str | None:
        """The value of the last `Set-Cookie` for `name`."""
        found = None
        for raw in self.headers.getRawHeaders("set-cookie") or []:
            k, _, rest = raw.partition("=")
            if k == name:
                found = rest.split(";", 1)[0]
        return found


class http:
    """Plain HTTP client over one-shot connections: no automatic gzip, redirects or cookies
    (tests look at exactly what the server sent)."""

    @staticmethod
    async def request(method: str, url: str, headers: dict[str, Any] | None = None,
                      data: bytes | str | None = None, timeout: float = DEFAULT_TIMEOUT,
                      **_: Any) -> Response:
        from io import BytesIO

        from twisted.internet import reactor
        from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
        from twisted.web.http_headers import Headers

        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        hdrs = Headers()
        for k, v in (headers or {}).items():
            hdrs.setRawHeaders(k, v if isinstance(v, list) else [v])
        body = None
        if data is not None:
            body = FileBodyProducer(BytesIO(data.encode() if isinstance(data, str) else data))
        d = agent.request(method.encode(), url.encode(), hdrs, body)
        d.addTimeout(timeout, reactor)
        res = await d
        content = await readBody(res) if method != "HEAD" else b""
        return Response(res.code, res.headers, content)

    @staticmethod
    async def get(url: str, **kwargs: Any) -> Response:
        return await http.request("GET", url, **kwargs)

    @staticmethod
    async def head(url: str, **kwargs: Any) -> Response:
        return await http.request("HEAD", url, **kwargs)

    @staticmethod
    async def post(url: str, **kwargs: Any) -> Response:
        return await http.request("POST", url, **kwargs)

    @staticmethod
    async def delete(url: str, **kwargs: Any) -> Response:
        return await http.request("DELETE", url, **kwargs)


async def get_json(url: str, **kwargs: Any) -> tuple[int, Any, Any]:
    """GET `url`; (status, parsed JSON body, headers)."""
    res = await http.get(url, **kwargs)
    body = await res.content()
    return res.code, json.loads(body) if body else None, res.headers


async def post_jsonrpc(url: str, body: Any, content_type: str = "application/json",
                       **kwargs: Any) -> tuple[int, Any]:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = kwargs.pop("headers", {})
    headers["Content-Type"] = content_type
    res = await http.post(url, data=data, headers=headers, **kwargs)
    content = await res.content()
    return res.code, json.loads(content) if content else None


# -- WebSocket client ----------------------------------------------------------------------

class WsClient:
    """An autobahn WebSocket client collecting the JSON frames it receives."""

    def __init__(self) -> None:
        self.frames: defer.DeferredQueue[Any] = defer.DeferredQueue()
        self.opened: defer.Deferred[None] = defer.Deferred()
        self.closed: defer.Deferred[Any] = defer.Deferred()
        self.proto: Any = None
        self.pings = 0

    @classmethod
    async def connect(cls, url: str, cookie: str | None = None,
                      origin: str | None = None) -> WsClient:
        """Open a connection; raises ConnectionRefusedByServer(code) on a refused handshake."""
        from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
        from twisted.internet import endpoints, reactor

        client = cls()

        class Proto(WebSocketClientProtocol):
            def onOpen(self) -> None:
                client.proto = self
                client.opened.callback(None)

            def onMessage(self, payload: bytes, isBinary: bool) -> None:
                client.frames.put(json.loads(payload))

            def onPing(self, payload: bytes) -> None:
                client.pings += 1
                super().onPing(payload)

            def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
                if not client.opened.called:
                    import re as _re
                    m = _re.search(r"\b(\d{3})\b", str(reason))
                    client.opened.errback(HandshakeRefused(int(m.group(1)) if m else None, reason))
                if not client.closed.called:
                    client.closed.callback(code)

        headers = {"Cookie": f"TWISTED_SESSION={cookie}"} if cookie else None
        factory = WebSocketClientFactory(url, headers=headers, origin=origin)
        factory.protocol = Proto
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        ep = endpoints.TCP4ClientEndpoint(reactor, host, int(port))
        await ep.connect(factory)
        await with_timeout(client.opened, "the WebSocket handshake to complete")
        return client

    def send(self, **frame: Any) -> None:
        self.proto.sendMessage(json.dumps(frame).encode())

    def send_raw(self, payload: bytes) -> None:
        self.proto.sendMessage(payload)

    async def next(self, what: str = "a frame") -> Any:
        return await with_timeout(self.frames.get(), what)

    async def call(self, **frame: Any) -> Any:
        self.send(**frame)
        return await self.next(f"the reply to {frame}")

    async def close(self) -> None:
        if self.proto is not None and not self.closed.called:
            self.proto.sendClose()
            await with_timeout(self.closed, "the WebSocket to close")


class HandshakeRefused(Exception):
    def __init__(self, status: Any, reason: Any) -> None:
        super().__init__(f"handshake refused: {status} {reason}")
        self.status = status


async def with_timeout(d: Any, what: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Await `d`, failing with a message naming what never happened."""
    from twisted.internet import reactor

    d = defer.ensureDeferred(d) if not isinstance(d, defer.Deferred) else d
    timer = reactor.callLater(timeout, d.cancel)
    try:
        return await d
    except defer.CancelledError:
        raise AssertionError(f"timed out waiting for {what}") from None
    finally:
        if timer.active():
            timer.cancel()
