# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""Base web resources: the one place where twisted.web rendering meets our coroutines.

Every dynamic resource of the web layer renders through `AsyncResource.render_async`: the
coroutine runs as a task of the web service (so `stop()` waits for it), a failure that
escapes it becomes a logged 500, and writes after the client went away are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.web import error as web_error
from twisted.web import resource, server
from zope.interface import implementer

from buildbot.util.deferred import maybe_await

if TYPE_CHECKING:
    from buildbot.www.service import WWWService

log = Logger()


class HttpError(Exception):
    """An error answered with `status` and `message` (text) by the resource that raised it."""

    def __init__(self, status: int, message: str | bytes) -> None:
        super().__init__(message)
        self.status = status
        self.message = message.decode("utf-8", "replace") if isinstance(message, bytes) \
            else message


class Redirect(HttpError):
    """Raised by plugins (avatar methods) to answer with a redirect to `url`."""

    def __init__(self, url: str | bytes) -> None:
        super().__init__(302, "redirect")
        self.url = url.decode("utf-8") if isinstance(url, bytes) else url


def request_gone(request: server.Request) -> bool:
    """True once the response is finished or the client disconnected."""
    return bool(request.finished or getattr(request, "_disconnected", False))


def finish(request: server.Request, body: bytes = b"") -> None:
    """Write `body` and finish the request, unless the client already went away."""
    if request_gone(request):
        return
    if body:
        request.write(body)
    request.finish()


def redirect_to(request: server.Request, location: str | bytes, status: int = 302) -> None:
    """Answer with a redirect to `location` (sent verbatim: the caller validated it)."""
    if isinstance(location, str):
        location = location.encode("utf-8")
    request.setResponseCode(status)
    request.setHeader(b"location", location)
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    finish(request)


@implementer(IPushProducer)
class FlowControl:
    """Backpressure for a streamed response: Twisted pauses us when the client reads slowly.

    Register with `request.registerProducer(flow, True)`; `await flow.writable()` before each
    write returns at once unless the transport buffer is full.
    """

    def __init__(self) -> None:
        self.paused = False
        self.stopped = False
        self._waiter: defer.Deferred[None] | None = None

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self._wake()

    def stopProducing(self) -> None:
        self.stopped = True
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.callback(None)

    async def writable(self) -> bool:
        """Wait until the client can take more; False if the connection is gone."""
        while self.paused and not self.stopped:
            self._waiter = defer.Deferred()
            await self._waiter
        return not self.stopped


class AsyncResource(resource.Resource):
    """A resource whose handlers are coroutines run as tasks of the web service."""

    def __init__(self, www: WWWService) -> None:
        super().__init__()
        self.www = www

    @property
    def master(self) -> Any:
        return self.www.master

    def render_async(self, request: server.Request,
                     handler: Callable[[server.Request], Awaitable[None]]) -> int:
        """Run `handler(request)` in the background; return NOT_DONE_YET to twisted.web.

        The handler writes and finishes the response itself. An exception that escapes it
        is logged with its traceback and answered with a short 500 (if nothing was sent yet).
        """
        async def run() -> None:
            try:
                await handler(request)
            except Redirect as e:
                if not request_gone(request):
                    redirect_to(request, e.url)
            except HttpError as e:
                if not request_gone(request):
                    request.setResponseCode(e.status)
                    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
                    finish(request, e.message.encode("utf-8"))
            except Exception as e:  # noqa: BLE001 - a bug of ours: logged, answered 500, site lives on
                log.failure("while rendering {uri}", uri=request.uri)
                if request_gone(request):
                    return
                if not request.startedWriting:
                    request.setResponseCode(500)
                    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
                    finish(request, f"Internal error: {e!r}".encode())
                else:  # headers are out: all we can do is cut the response short
                    request.loseConnection()

        # (`run` logs its failures with the URI; formatting one here for every request
        # cost as much as the endpoint lookup)
        self.www.tasks.spawn("web request", run())
        return server.NOT_DONE_YET


def query_args(request: server.Request) -> dict[str, list[str]]:
    """Query-string arguments only (never the body), decoded, keys repeated as lists."""
    from urllib.parse import parse_qs

    uri = request.uri or b""
    qs = uri.split(b"?", 1)[1] if b"?" in uri else b""
    return parse_qs(qs.decode("utf-8", "replace"), keep_blank_values=True)


# -- Base classes for web plugins written for Buildbot 4.3 ---------------------------------
_CR_LF = re.compile(rb"[\r\n]+.*", re.DOTALL)


def protect_redirect_url(url: bytes) -> bytes:
    """`url` cut at its first CR or LF, so a redirect cannot inject response headers."""
    return _CR_LF.sub(b"", url)


class Resource(resource.Resource):
    """The reference's base for web resources of plugins: `self.master`, `base_url`, and
    `asyncRenderHelper` to answer from a function that may return a Deferred or coroutine.

    With `needsReconfig = True`, `reconfigResource(new_config)` must be provided: the web
    service calls it on every reconfiguration once the resource is created.
    """

    needsReconfig = False

    def __init__(self, master: Any) -> None:
        super().__init__()
        self.master = master
        register = getattr(getattr(master, "www", None), "resourceNeedsReconfigs", None)
        if self.needsReconfig and register is not None:
            register(self)

    @property
    def base_url(self) -> bytes:
        url = getattr(getattr(self.master, "config", None), "buildbotURL", "") or ""
        return url.encode("utf-8") if isinstance(url, str) else bytes(url)

    def reconfigResource(self, new_config: Any) -> None:
        raise NotImplementedError

    def asyncRenderHelper(self, request: server.Request, _callable: Callable[[server.Request], Any],
                          writeError: Callable[..., None] | None = None) -> int:
        """Render with `_callable(request)`; its (awaited) bytes become the body.

        A `Redirect` redirects; an HTTP error (ours or twisted.web's) is answered with its
        status and message, anything else with 500 (and logged): through
        `writeError(message, errcode=...)` if given, else as plain text.
        """
        def plain_text(message: bytes, errcode: int = 400) -> None:
            request.setResponseCode(errcode)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            finish(request, message)

        async def answer() -> None:
            try:
                body = await maybe_await(_callable(request))
            except Exception as e:  # noqa: BLE001 - every failure is answered; bugs logged
                status, message = _failure_answer(e)
                if status == 500:
                    log.failure("while rendering {uri}", uri=request.uri)
                if request_gone(request):
                    return
                if isinstance(e, Redirect):
                    redirect_to(request, protect_redirect_url(e.url.encode("utf-8")))
                else:
                    (writeError or plain_text)(message, errcode=status)
                return
            finish(request, body if isinstance(body, bytes) else (body or b""))

        defer.ensureDeferred(answer())
        return server.NOT_DONE_YET


def _failure_answer(e: Exception) -> tuple[int, bytes]:
    """Status and message answering a render that raised `e`."""
    if isinstance(e, HttpError):
        return e.status, e.message.encode("utf-8")
    if isinstance(e, web_error.Error):
        return int(e.status), e.message or b""
    return 500, b"internal error - see logs"


class RedirectResource(Resource):
    """Redirects every request to `base_url + basepath`."""

    def __init__(self, master: Any, basepath: str) -> None:
        super().__init__(master)
        self.basepath = basepath

    def render(self, request: server.Request) -> bytes:
        target = self.base_url + self.basepath.encode("utf-8")
        request.redirect(protect_redirect_url(target))
        return target
