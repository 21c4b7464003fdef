# mypy: disable-error-code="no-untyped-call"
# (treq and twisted.web.client are unannotated)
"""HTTP request steps (HTTPStep and one per method: GET, POST, PUT, DELETE, HEAD, OPTIONS).

They run on the master, not on a worker. The reference sends its requests with
txrequests/requests; here they go through treq, with the same step arguments (the names of
`requests.request` keywords) and the same logs: `log` (request, response headers, status,
content) and `content` (the body). A status below 400 is SUCCESS, anything else or an
unreachable server FAILURE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import treq
from twisted.internet import defer, error
from twisted.web.client import Agent, HTTPConnectionPool, ResponseFailed
from twisted.web.http_headers import Headers

from buildbot import config
from buildbot.process.buildstep import BuildStep, BuildStepCancelled
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.util.httpclientservice import _TLSPolicy  # HTTPSession's verify/cert handling
from buildbot.util.internal import internal_function

METHODS = ("POST", "GET", "PUT", "DELETE", "HEAD", "OPTIONS")

# Without a `timeout` argument a request to a server that never answers would hang the
# step; requests has no default timeout, so this one is ours.
DEFAULT_TIMEOUT = 120

# Errors meaning the request got no response; the step ends FAILURE saying why.
# ConnectingCancelledError is what a cancel raises while the connection is still being made
# (it is not a ConnectError): a build stopped at that moment must still end CANCELLED.
_REQUEST_ERRORS = (error.ConnectError, error.DNSLookupError, error.TimeoutError,
                   error.ConnectingCancelledError, defer.CancelledError, ResponseFailed,
                   ConnectionError, OSError)

# requests keywords treq has no counterpart for: accepted, and said to be ignored in the log
_IGNORED_PARAMS = ("proxies", "hooks", "stream")


# 4.3 keeps one txrequests session for all HTTP steps behind these; each step here makes its
# own client, so there is no session to get or replace.
_NO_SESSION = "HTTP steps send their requests with treq, one client per step, not a shared session"
getSession = internal_function(__name__, "getSession", _NO_SESSION)
setSession = internal_function(__name__, "setSession", _NO_SESSION)
closeSession = internal_function(__name__, "closeSession", _NO_SESSION)


def _header_set(headers: Any) -> frozenset[str]:
    return frozenset(h.casefold() for h in headers or [])


def _decode_body(body: bytes, headers: Headers) -> str:
    for value in headers.getRawHeaders(b"content-type") or []:
        for part in value.decode("latin-1").split(";")[1:]:
            key, _, charset = part.strip().partition("=")
            if key.lower() == "charset" and charset:
                try:
                    return body.decode(charset.strip('"'), "replace")
                except LookupError:
                    break
    return body.decode("utf-8", "replace")


def _joined(headers: Headers) -> dict[str, str]:
    # as requests shows them: one entry a header, repeated values joined by ", "
    joined: dict[str, list[str]] = {}
    for name, values in headers.getAllRawHeaders():
        joined.setdefault(name.decode("latin-1"), []).extend(v.decode("latin-1")
                                                             for v in values)
    return {name: ", ".join(values) for name, values in joined.items()}


@dataclass(frozen=True)
class RequestView:
    """The request a response answers: its URL and headers."""

    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class ResponseView:
    """A treq response seen through the attributes of `requests.Response` that 4.3's
    `HTTPStep.log_response` reads (`url`, `status_code`, `headers`, `text`, `request`)."""

    url: str
    status_code: int
    headers: dict[str, str]
    text: str
    request: RequestView


def _view(response: Any, body: bytes | None, fallback_url: str) -> ResponseView:
    request = getattr(response, "request", None)
    url = request.absoluteURI.decode("utf-8") if request is not None else fallback_url
    # treq keeps no body of the redirects it followed: theirs are logged empty
    text = _decode_body(body, response.headers) if body is not None else ""
    return ResponseView(url=url, status_code=response.code, headers=_joined(response.headers),
                        text=text, request=RequestView(url, _joined(
                            request.headers if request is not None else Headers())))


class HTTPStep(BuildStep):
    """Send one HTTP request from the master (`method` one of GET, POST, PUT, DELETE, HEAD,
    OPTIONS); header values listed in `hide_request_headers`/`hide_response_headers` are
    logged as <HIDDEN>."""

    name = "HTTPStep"
    description: Any = "Requesting"
    descriptionDone: Any = "Requested"
    requestsParams = ["params", "data", "json", "headers", "cookies", "files", "auth",
                      "timeout", "allow_redirects", "proxies", "hooks", "stream", "verify",
                      "cert"]
    renderables = [*requestsParams, "method", "url"]
    session = None
    _in_flight: defer.Deferred[Any] | None = None
    # the requests keywords, set from the arguments (None: not given)
    params: Any = None
    data: Any = None
    json: Any = None
    headers: Any = None
    cookies: Any = None
    files: Any = None
    auth: Any = None
    timeout: Any = None
    allow_redirects: Any = None
    proxies: Any = None
    hooks: Any = None
    stream: Any = None
    verify: Any = None
    cert: Any = None

    def __init__(self, url: Any, method: Any, hide_request_headers: Any = None,
                 hide_response_headers: Any = None, **kwargs: Any) -> None:
        if method not in METHODS:
            config.error(f"Wrong method given: '{method}' is not known")
        self.method = method
        self.url = url
        self.hide_request_headers = _header_set(hide_request_headers)
        self.hide_response_headers = _header_set(hide_response_headers)
        for param in self.requestsParams:
            setattr(self, param, kwargs.pop(param, None))
        super().__init__(**kwargs)

    async def _log_request(self, log: Any) -> list[tuple[Any, Any]] | None:
        await log.addHeader(f"Performing {self.method} request to {self.url}\n")
        params = None
        if self.params:
            params = sorted(self.params.items(), key=lambda kv: kv[0])
            await log.addHeader("Parameters:\n")
            for k, v in params:
                await log.addHeader(f"\t{k}: {v}\n")
        if self.data:
            await log.addHeader("Data:\n")
            if isinstance(self.data, dict):
                for k, v in self.data.items():
                    await log.addHeader(f"\t{k}: {v}\n")
            else:
                await log.addHeader(f"\t{self.data}\n")
        for param in _IGNORED_PARAMS:
            if getattr(self, param, None) is not None:
                await log.addHeader(f"Argument {param} is not supported by this master and "
                                    f"is ignored\n")
        return params

    def interrupt(self, reason: Any) -> defer.Deferred[None]:
        """Stop the step; a request in flight is cancelled (the step ends CANCELLED)."""
        d = super().interrupt(reason)
        if self._in_flight is not None:
            self._in_flight.cancel()
        return d

    def _treq_arguments(self, params: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = params
        data = self.data
        if isinstance(data, str):
            data = data.encode("utf-8")
        for name, value in (("data", data), ("json", self.json), ("headers", self.headers),
                            ("cookies", self.cookies), ("files", self.files)):
            if value is not None:
                kwargs[name] = value
        if self.auth is not None:
            if not (isinstance(self.auth, (tuple, list)) and len(self.auth) == 2):
                raise ValueError("auth must be a (username, password) pair")
            kwargs["auth"] = tuple(self.auth)
        timeout = self.timeout
        if isinstance(timeout, (tuple, list)):  # requests' (connect, read) pair
            timeout = sum(t for t in timeout if t is not None) or None
        kwargs["timeout"] = timeout if timeout is not None else DEFAULT_TIMEOUT
        kwargs["allow_redirects"] = True if self.allow_redirects is None \
            else bool(self.allow_redirects)
        return kwargs

    async def run(self) -> int:
        log = await self.addLog("log")
        params = await self._log_request(log)
        reactor = self.master.reactor
        pool = HTTPConnectionPool(reactor, persistent=False)
        verify = True if self.verify is None else self.verify
        agent = Agent(reactor, contextFactory=_TLSPolicy(verify, self.cert), pool=pool)
        client = treq.client.HTTPClient(agent)  # type: ignore[arg-type]  # Agent is an IAgent
        try:
            self._in_flight = client.request(self.method, self.url,
                                             **self._treq_arguments(params))
            response = await self._in_flight
            self._in_flight = treq.content(response)
            body = await self._in_flight
        except _REQUEST_ERRORS as e:
            if self.stopped:  # the build was stopped: interrupt() cancelled the request
                raise BuildStepCancelled("request cancelled") from e
            reason = e.reasons[0].getErrorMessage() if isinstance(e, ResponseFailed) \
                and e.reasons else str(e) or type(e).__name__
            await log.addStderr(
                f"An exception occurred while performing the request: {reason}\n")
            return FAILURE
        finally:
            self._in_flight = None
            await pool.closeCachedConnections()

        history = response.history()
        if history:
            await log.addStdout(f"\nRedirected {len(history)} times:\n\n")
            for previous in history:
                await self.log_response(log, _view(previous, None, self.url))
                await log.addStdout("=" * 60 + "\n")
        await self.log_response(log, _view(response, body, self.url))
        await log.finish()
        self.descriptionDone = [f"Status code: {response.code}"]
        return SUCCESS if response.code < 400 else FAILURE

    async def log_response(self, log: Any, response: ResponseView) -> None:
        """Write one response to `log` (request headers, URL, status, response headers,
        content) and its body to a new `content` log; 4.3's hook, which subclasses may
        override, given here the same attributes of a `requests.Response`."""
        await log.addHeader("Request Headers:\n")
        for k, v in response.request.headers.items():
            shown = "<HIDDEN>" if k.casefold() in self.hide_request_headers else v
            await log.addHeader(f"\t{k}: {shown}\n")
        await log.addStdout(f"URL: {response.url}\n")
        status = f"Status: {response.status_code}\n"
        await (log.addStdout(status) if response.status_code == 200 else log.addStderr(status))
        await log.addHeader("Response Headers:\n")
        for k, v in response.headers.items():
            shown = "<HIDDEN>" if k.casefold() in self.hide_response_headers else v
            await log.addHeader(f"\t{k}: {shown}\n")
        await log.addStdout(f" ------ Content ------\n{response.text}")
        # one `content` log per response, redirects included, as the reference does
        content = await self.addLog("content")
        await content.addStdout(response.text)


class _OneMethodStep(HTTPStep):
    """An HTTPStep whose method is fixed by the class."""

    http_method: ClassVar[str]

    def __init__(self, url: Any, **kwargs: Any) -> None:
        super().__init__(url, method=self.http_method, **kwargs)


class POST(_OneMethodStep):
    http_method = "POST"


class GET(_OneMethodStep):
    http_method = "GET"


class PUT(_OneMethodStep):
    http_method = "PUT"


class DELETE(_OneMethodStep):
    http_method = "DELETE"


class HEAD(_OneMethodStep):
    http_method = "HEAD"


class OPTIONS(_OneMethodStep):
    http_method = "OPTIONS"


__all__ = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "HTTPStep"]
