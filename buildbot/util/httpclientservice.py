# mypy: disable-error-code="no-untyped-call"
# (treq, twisted.web.client and twisted.internet.ssl are unannotated)
"""Outgoing HTTP for master services (reporters, custom services), at the reference's import
path `buildbot.util.httpclientservice`.

`HTTPClientService` owns a connection pool and the agents built on it; `HTTPSession` holds the
per-caller settings (base URL, auth, headers, TLS verification, client certificate) and offers
`get/put/post/delete`, each returning a Deferred of a response with `code`, `url`,
`content()` and `json()`. Plugins written for Buildbot 4.3 do
`HTTPSession(self.master.httpservice, base_url, ...)` and `yield session.post(...)`.

Bodies are read completely before the Deferred fires, so every connection goes back to the
pool and `stop()` (which waits for requests in flight, then closes the pool) leaves no socket
or timer behind.
"""

from __future__ import annotations

import datetime
import hashlib
import json as jsonmodule
from typing import Any

import treq
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from buildbot.util.deferred import ensure_deferred
from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.service import AsyncService

log = Logger()

DEFAULT_TIMEOUT = 120  # seconds, for requests given no `timeout=`


def _json_default(obj: Any) -> Any:
    """JSON encoding of values the reference encodes too: datetimes as epoch seconds, sets
    and tuples as lists."""
    if isinstance(obj, datetime.datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=datetime.UTC)
        return int(obj.timestamp())
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def encode_json(value: Any) -> str:
    """The JSON text HTTPSession sends for `json=value`."""
    return jsonmodule.dumps(value, default=_json_default)


class HttpResponse:
    """A completed response: status `code`, final `url`, and the body already read.

    `content()` and `json()` return Deferreds, as in the reference's response wrappers.
    """

    def __init__(self, code: int, url: str, body: bytes, headers: Any = None) -> None:
        self.code = code
        self.url = url
        self.headers = headers
        self._body = body

    def content(self) -> defer.Deferred[bytes]:
        return defer.succeed(self._body)

    def json(self) -> defer.Deferred[Any]:
        try:
            return defer.succeed(jsonmodule.loads(self._body.decode("utf-8")))
        except ValueError:
            return defer.fail()

    def __repr__(self) -> str:
        return f"<HttpResponse {self.code} {self.url}>"


# The reference names its wrappers this way; plugins sometimes check the type.
TreqResponseWrapper = HttpResponse


@implementer(IPolicyForHTTPS)
class _TLSPolicy:
    """TLS settings of one session: `verify` (True/None: system trust, False: none, str: a CA
    bundle file) and `cert` (a PEM file holding certificate and key, or a (cert, key) pair)."""

    def __init__(self, verify: Any, cert: Any) -> None:
        self.verify = verify
        self.cert = cert
        self._default = BrowserLikePolicyForHTTPS()

    def _client_certificate(self) -> Any:
        from twisted.internet import ssl

        if not self.cert:
            return None
        if isinstance(self.cert, (tuple, list)):
            pem = b""
            for path in self.cert:
                with open(path, "rb") as f:
                    pem += f.read() + b"\n"
        else:
            with open(self.cert, "rb") as f:
                pem = f.read()
        return ssl.PrivateCertificate.loadPEM(pem)

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        from twisted.internet import ssl

        client_cert = self._client_certificate()
        if self.verify is False:
            kwargs: dict[str, Any] = {"verify": False}
            if client_cert is not None:
                kwargs.update(privateKey=client_cert.privateKey.original,
                              certificate=client_cert.original)
            return ssl.CertificateOptions(**kwargs)
        trust_root = None
        if isinstance(self.verify, str):
            with open(self.verify, "rb") as f:
                trust_root = ssl.trustRootFromCertificates(
                    [ssl.Certificate.loadPEM(block) for block in _pem_blocks(f.read())])
        if trust_root is None and client_cert is None:
            return self._default.creatorForNetloc(hostname, port)
        return ssl.optionsForClientTLS(hostname.decode("ascii"), trustRoot=trust_root,
                                       clientCertificate=client_cert)


def _pem_blocks(data: bytes) -> list[bytes]:
    marker = b"-----END CERTIFICATE-----"
    return [part + marker for part in data.split(marker) if b"-----BEGIN" in part]


class HTTPClientService(AsyncService):
    """A pool of HTTP connections shared by the sessions that use it.

    Also usable the 4.3 way, as a service with one built-in session
    (`HTTPClientService(base_url, ...)` then `.get/.post`), deprecated there as here.
    """

    PREFER_TREQ = True
    MAX_THREADS = 20  # kept for plugins that read it: maximum persistent connections per host

    def __init__(self, base_url: str = "", auth: Any = None, headers: Any = None,
                 verify: Any = None, cert: Any = None, debug: bool = False,
                 skipEncoding: bool = False, reactor: Any = None) -> None:
        super().__init__(name=None)
        self._reactor = reactor
        self._session = HTTPSession(self, base_url, auth=auth, headers=headers, verify=verify,
                                    cert=cert, debug=debug, skip_encoding=skipEncoding)
        self._pool: HTTPConnectionPool | None = None
        self._agents: dict[tuple[Any, Any], Any] = {}
        self._in_flight: set[defer.Deferred[Any]] = set()

    # -- shared-service compatibility ---------------------------------------------------
    @classmethod
    def getName(cls, *args: Any, **kwargs: Any) -> str:
        digest = hashlib.sha1(repr((args, sorted(kwargs.items()))).encode()).hexdigest()
        return f"{cls.__name__}_{digest}"

    @classmethod
    def getService(cls, parent: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """The instance of this service attached to `parent` for these arguments, created
        (and started if `parent` runs) on first use, as the reference's SharedService does."""
        name = cls.getName(*args, **kwargs)
        existing = getattr(parent, "namedServices", {}).get(name)
        if existing is not None:
            return defer.succeed(existing)
        svc = cls(*args, **kwargs)
        svc.setName(name)
        svc.setServiceParent(parent)
        return defer.succeed(svc)

    @property
    def master(self) -> Any:
        parent = self.parent
        return getattr(parent, "master", None) if parent is not None else None

    @property
    def reactor(self) -> Any:
        if self._reactor is not None:
            return self._reactor
        master = self.master
        if master is not None and getattr(master, "reactor", None) is not None:
            return master.reactor
        from twisted.internet import reactor

        return reactor

    def updateHeaders(self, headers: dict[str, str]) -> None:
        self._session.update_headers(headers)

    @staticmethod
    def checkAvailable(from_module: str) -> None:
        """Kept for plugins: treq is always available."""

    # -- lifecycle ----------------------------------------------------------------------
    async def stop(self) -> None:
        while self._in_flight:
            await defer.DeferredList(list(self._in_flight), consumeErrors=True)
        pool, self._pool = self._pool, None
        self._agents = {}
        if pool is not None:
            await pool.closeCachedConnections()
        await super().stop()

    # -- requests -----------------------------------------------------------------------
    def _agent(self, session: HTTPSession) -> Any:
        key = (session.verify if isinstance(session.verify, (str, bool)) or
               session.verify is None else id(session.verify),
               tuple(session.cert) if isinstance(session.cert, list) else session.cert)
        agent = self._agents.get(key)
        if agent is None:
            if self._pool is None:
                self._pool = HTTPConnectionPool(self.reactor, persistent=True)
                self._pool.maxPersistentPerHost = self.MAX_THREADS
            agent = Agent(self.reactor, contextFactory=_TLSPolicy(session.verify, session.cert),
                          pool=self._pool)
            self._agents[key] = agent
        return agent

    def _prepare_request(self, session: HTTPSession, ep: str,
                         kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if ep.startswith(("http://", "https://")):
            url = ep
        else:
            if ep != "" and not ep.startswith("/"):
                raise ValueError(f"ep should start with /: {ep}")
            url = session.base_url + ep
        if session.auth is not None and "auth" not in kwargs:
            kwargs["auth"] = session.auth
        headers = dict(kwargs.get("headers") or {})
        if session.headers is not None:
            headers.update(session.headers)
        kwargs["headers"] = headers
        json_value = kwargs.pop("json", None)
        # 4.3 encodes only dicts and lists and silently sends an empty body for anything
        # else (a plain-text report body, a number)
        if json_value is not None:
            text = encode_json(json_value)
            headers["Content-Type"] = "application/json"
            kwargs["data"] = text if session.skip_encoding else text.encode("utf-8")
        return url, kwargs

    def _do_request(self, session: HTTPSession, method: str, ep: str,
                    **kwargs: Any) -> defer.Deferred[HttpResponse]:
        d = ensure_deferred(self._request(session, method, ep, kwargs))
        self._in_flight.add(d)

        def done(result: Any) -> Any:
            self._in_flight.discard(d)
            return result

        d.addBoth(done)
        return d

    async def _request(self, session: HTTPSession, method: str, ep: str,
                       kwargs: dict[str, Any]) -> HttpResponse:
        url, kwargs = self._prepare_request(session, ep, kwargs)
        if session.debug:
            log.debug("http {method} {url} {kwargs}", method=method, url=url, kwargs=kwargs)
        headers = kwargs.pop("headers")
        kwargs["headers"] = {k: [v] if isinstance(v, (str, bytes)) else v
                             for k, v in headers.items()}
        data = kwargs.get("data")
        if isinstance(data, str):
            kwargs["data"] = data.encode("utf-8")
        for unsupported in ("verify", "cert"):
            kwargs.pop(unsupported, None)
        kwargs["agent"] = self._agent(session)
        # without a timeout a server that never answers would hold the caller (and the
        # stop of this service) forever
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        res = await getattr(treq, method)(url, **kwargs)
        body = await treq.content(res)
        if session.debug:
            log.debug("==> {code}: {content}", code=res.code, content=body)
        return HttpResponse(res.code, res.request.absoluteURI.decode(), body, res.headers)

    def get(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self._do_request(self._session, "get", ep, **kwargs)

    def put(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self._do_request(self._session, "put", ep, **kwargs)

    def delete(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self._do_request(self._session, "delete", ep, **kwargs)

    def post(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self._do_request(self._session, "post", ep, **kwargs)


class HTTPSession:
    """Settings for requests to one base URL through an `HTTPClientService`.

    `ep` arguments are paths starting with `/` (joined to `base_url`), `""`, or absolute
    URLs. `json=` bodies are encoded (datetimes as epoch seconds) with
    `Content-Type: application/json`; session headers override per-request ones.
    """

    def __init__(self, http: HTTPClientService, base_url: str, auth: Any = None,
                 headers: dict[str, str] | None = None, verify: Any = None, cert: Any = None,
                 debug: bool = False, skip_encoding: bool = False) -> None:
        if base_url.endswith("/"):
            raise ValueError(f"baseurl should not end with /: {base_url}")
        self.http = http
        self.base_url = base_url
        self.auth = auth
        self.headers = headers
        self.verify = verify
        self.cert = cert
        self.debug = debug
        self.skip_encoding = skip_encoding

    def update_headers(self, headers: dict[str, str]) -> None:
        if self.headers is None:
            self.headers = {}
        self.headers.update(headers)

    def get(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self.http._do_request(self, "get", ep, **kwargs)

    def put(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self.http._do_request(self, "put", ep, **kwargs)

    def delete(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self.http._do_request(self, "delete", ep, **kwargs)

    def post(self, ep: str, **kwargs: Any) -> defer.Deferred[HttpResponse]:
        return self.http._do_request(self, "post", ep, **kwargs)


TxRequestsResponseWrapper = internal_class(
    __name__, "TxRequestsResponseWrapper", "HTTP requests are made with treq only")
differs_internally("made by HTTPSession from a treq response")(TreqResponseWrapper)
