"""Where reporters get their HTTP sessions from.

The master's shared `master.httpservice` when it has one (as in 4.3); otherwise an
`HTTPClientService` child of the reporter itself, so that its connections are closed when the
reporter stops.
"""

from __future__ import annotations

from typing import Any

from buildbot.util.httpclientservice import HTTPClientService, HTTPSession

_OWN_SERVICE = "_own_httpservice"


async def http_service(service: Any) -> HTTPClientService:
    """The HTTP client service `service` (a reporter) should use."""
    shared = getattr(service.master, "httpservice", None)
    if shared is not None:
        result: HTTPClientService = shared
        return result
    own = getattr(service, _OWN_SERVICE, None)
    if own is None:
        own = HTTPClientService("")
        setattr(service, _OWN_SERVICE, own)
        await service.add_child(own)
    return own


async def http_session(service: Any, base_url: str, **kwargs: Any) -> HTTPSession:
    """A session on `base_url` (trailing '/' removed) through `http_service(service)`.

    The `debug` and `verify` options given are also kept on `service` (4.3's reporters
    expose them as attributes)."""
    for option in ("debug", "verify"):
        if option in kwargs:
            setattr(service, option, kwargs[option])
    return HTTPSession(await http_service(service), base_url.rstrip("/"), **kwargs)
