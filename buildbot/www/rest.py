# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""REST API (`/api`, `/api/v2`): getters, JSON-RPC control, raw downloads, CORS.

Error mapping lives in `rest_error` (the only place where data-layer exceptions become
HTTP statuses and JSON-RPC codes).
"""

from __future__ import annotations

import fnmatch
import json
from email.utils import formatdate
from enum import IntEnum
from typing import Any
from urllib.parse import unquote

from twisted.logger import Logger
from twisted.web import resource, server

from buildbot.data.base import Endpoint, EndpointKind
from buildbot.data.exceptions import (
    ControlParamsError,
    InvalidControlException,
    InvalidPathError,
    InvalidQueryParameter,
)
from buildbot.data.resultspec import MAX_ID, ResultSpec, resultspec_from_jsonapi
from buildbot.util.internal import differs_internally, internal_class
from buildbot.www.authz import Forbidden
from buildbot.www.encoding import (
    choose_encoding,
    dumps,
    envelope_chunks,
    json_default,
    send_body,
    stream_async,
)
from buildbot.www.resource import AsyncResource, finish, query_args

log = Logger()

#: Distinct URLs whose endpoint and query options are remembered (emptied when full).
RESOLVED_CACHE_SIZE = 2048

class JsonRpcError(IntEnum):
    """The error codes JSON-RPC 2.0 reserves (jsonrpc.org/specification#error_object)."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603


# 4.3's public name for them, by lower-case name
JSONRPC_CODES = {code.name.lower(): int(code) for code in JsonRpcError}


class BadJsonRpc2(Exception):
    """A malformed JSON-RPC request (`code` is the JSON-RPC error code)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class BadPath(Exception):
    """A path that can name nothing (REST 400, JSON-RPC -32600)."""


def checked_path(path: tuple[str, ...]) -> tuple[str, ...]:
    """`path`, unless a numeric segment is beyond any id the database can hold (Buildbot
    4.3 passes it to the database driver and answers 500)."""
    for segment in path:
        if segment.isdigit() and (len(segment) > 19 or int(segment) > MAX_ID):
            raise BadPath(f"invalid path: id {segment} is out of range")
    return path


def rest_error(e: BaseException) -> tuple[int, int, Any]:
    """(HTTP status, JSON-RPC code, message) for an exception raised while serving."""
    if isinstance(e, BadPath):
        return 400, JSONRPC_CODES["invalid_request"], str(e)
    if isinstance(e, InvalidPathError):
        return 404, JSONRPC_CODES["invalid_request"], str(e) or "invalid path"
    if isinstance(e, InvalidControlException):
        return 501, JSONRPC_CODES["method_not_found"], str(e) or "invalid control action"
    if isinstance(e, ControlParamsError):
        return 400, JSONRPC_CODES["invalid_params"], e.errors
    if isinstance(e, InvalidQueryParameter):
        return 400, JSONRPC_CODES["invalid_request"], str(e)
    if isinstance(e, Forbidden):
        return 403, JSONRPC_CODES["invalid_request"], e.message
    if isinstance(e, BadJsonRpc2):
        return 400, e.code, e.message
    return 500, JSONRPC_CODES["internal_error"], repr(e)


def origin_allowed(origin: str, patterns: list[str]) -> bool:
    origin = origin.lower()
    return any(fnmatch.fnmatchcase(origin, p.lower()) for p in patterns)


def same_origin(origin: str, host: str | None) -> bool:
    """Whether `Origin` names the server the request was sent to (not a cross-origin call:
    a UI reached under another name than buildbotURL)."""
    if not host:
        return False
    netloc = origin.split("://", 1)[-1].rstrip("/").lower()
    return netloc == host.lower()


class ApiVersionsResource(resource.Resource):
    """`/api`: the list of API versions; `/api/v2` and `/api/latest` below it."""

    def __init__(self, www: Any) -> None:
        super().__init__()
        self.www = www
        v2: Any = V2RootResource(www)
        self.putChild(b"v2", v2)
        self.putChild(b"latest", v2)

    def getChild(self, path: bytes, request: server.Request) -> Any:
        if path == b"":
            return self
        return resource.NoResource()

    def render_GET(self, request: server.Request) -> bytes:
        cfg = self.www.www_config
        versions = {}
        if 2 > int(cfg.get("rest_minimum_version") or 0):
            versions["v2"] = f"{self.www.buildbot_url}api/v2"
        request.setHeader(b"content-type", b"application/json")
        return json.dumps({"api_versions": versions}).encode()


class V2RootResource(AsyncResource):
    """Everything under `/api/v2`."""

    isLeaf = True

    def __init__(self, www: Any) -> None:
        super().__init__(www)
        # (path, query string) -> (endpoint, path arguments, query options): what a request
        # asks for, worked out once per distinct URL (the web UI polls the same few).
        self._resolved: dict[tuple[tuple[str, ...], bytes],
                             tuple[Endpoint, dict[str, Any], ResultSpec]] = {}
        self._resolved_for: Any = None

    # -- entry: CORS and method dispatch -------------------------------------------------
    def render(self, request: server.Request) -> Any:
        origin = request.getHeader(b"origin")
        method = request.method
        if origin is not None:
            text = origin.decode("latin-1")
            host = (request.getHeader(b"host") or b"").decode("latin-1")
            if not origin_allowed(text, self.www.allowed_origins) and \
                    not same_origin(text, host):
                if method == b"POST":
                    return self._json_error(request, 400, {"error": {"message": "invalid origin"}})
                return self._json_error(request, 400, {"error": "invalid origin"})
            request.setHeader(b"access-control-allow-origin", origin.lower())
            request.setHeader(b"access-control-allow-headers", b"Content-Type")
            request.setHeader(b"access-control-max-age", b"3600")
            if method == b"OPTIONS":
                wanted = request.getHeader(b"access-control-request-method")
                if wanted not in (b"GET", b"POST", b"HEAD"):
                    return self._json_error(request, 400, {"error": "invalid method"})
                return b""
        metrics = self.www.metrics
        if metrics is not None:
            metrics.track_rest(request, self._path(request))
        if method in (b"GET", b"HEAD"):
            return self.render_async(request, self._render_rest)
        if method == b"POST":
            return self.render_async(request, self._render_jsonrpc)
        return self._json_error(request, 400, {"error": "invalid HTTP method"})

    def _json_error(self, request: server.Request, status: int, body: Any) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return json.dumps(body).encode()

    def _path(self, request: server.Request) -> tuple[str, ...]:
        return tuple(unquote(p.decode("utf-8", "replace")) for p in request.postpath or [])

    # -- REST getters -------------------------------------------------------------------
    async def _write_rest_error(self, request: server.Request, status: int, message: Any) -> None:
        if self.www.debug:
            log.info("REST error {status}: {msg}", status=status, msg=message)
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        body = b"" if request.method == b"HEAD" else json.dumps({"error": message}).encode()
        if request.method == b"HEAD":
            request.setHeader(b"content-length", b"0")
        finish(request, body)

    def _resolve(self, request: server.Request, path: tuple[str, ...]
                 ) -> tuple[Endpoint, dict[str, Any], ResultSpec]:
        """The endpoint serving `path`, its arguments and the request's query options
        (InvalidPathError, InvalidQueryParameter...). A spec of the cache: never changed."""
        data = self.www.master.data
        if data is not self._resolved_for:
            self._resolved.clear()
            self._resolved_for = data
        uri = request.uri or b""
        query = uri.partition(b"?")[2]
        key = (path, query)
        hit = self._resolved.get(key)
        if hit is not None:
            return hit[0], dict(hit[1]), hit[2]
        endpoint, kwargs = data.getEndpoint(path)
        rspec = resultspec_from_jsonapi(
            query_args(request), endpoint.rtype.entityType,
            endpoint.kind == EndpointKind.COLLECTION or endpoint.isPseudoCollection)
        if len(self._resolved) >= RESOLVED_CACHE_SIZE:
            self._resolved.clear()
        self._resolved[key] = (endpoint, dict(kwargs), rspec)
        return endpoint, kwargs, rspec

    async def _render_rest(self, request: server.Request) -> None:
        path = self._path(request)
        www = self.www
        user_info = www.user_info(request)
        data = www.master.data
        try:
            checked_path(path)
            await www.assert_allowed(path, request.method.decode(), {}, user_info)
            endpoint, kwargs, rspec = self._resolve(request, path)
            kind = endpoint.kind
            if kind is EndpointKind.RAW or kind is EndpointKind.RAW_INLINE:
                raw = await data.get_from_endpoint(endpoint, dict(kwargs), rspec)
                await self._render_raw(request, endpoint, path, rspec, raw[0])
                return
            result, total = await data.get_from_endpoint(endpoint, dict(kwargs), rspec)
        except Exception as e:  # noqa: BLE001 - answered by kind; unexpected ones (500) logged
            status, _, message = rest_error(e)
            if status == 500:
                log.failure("REST request {path} failed", path="/".join(path))
            await self._write_rest_error(request, status, message)
            return
        is_collection = kind is EndpointKind.COLLECTION
        if result is None:
            await self._write_rest_error(
                request, 404, f"not found while getting from {endpoint!r} with arguments "
                f"{rspec!r} and {kwargs!r}")
            return
        plural = endpoint.rtype.plural
        if is_collection:
            items = result if isinstance(result, list) else list(result)
            meta: dict[str, Any] = {"total": total if total is not None else len(items)}
        else:
            items, meta = [result], {}
        compact = b"application/json" in (request.getHeader(b"accept") or b"")
        request.setHeader(b"content-type", b"application/json; charset=utf-8" if compact
                          else b"text/plain; charset=utf-8")
        cache = www.www_config.get("json_cache_seconds") or 0
        if cache:
            request.setHeader(b"expires", formatdate(www.now() + cache, usegmt=True).encode())
            request.setHeader(b"pragma", b"no-cache")
        coding = choose_encoding(b",".join(request.requestHeaders.getRawHeaders(b"accept-encoding", [])))
        await send_body(request, envelope_chunks(plural, items, meta, compact), coding)

    async def _render_raw(self, request: server.Request, endpoint: Any, path: tuple[str, ...],
                          rspec: Any, raw: Any) -> None:
        if raw is None:
            await self._write_rest_error(
                request, 404, f"not found while getting from {endpoint!r} with arguments "
                f"{rspec!r} and {path!r}")
            return
        mime = raw.get("mime-type") or "text/plain"
        request.setHeader(b"content-type", f"{mime}; charset=utf-8".encode())
        if endpoint.kind == EndpointKind.RAW and raw.get("filename"):
            filename = str(raw["filename"]).replace("\r", "").replace("\n", "")
            request.setHeader(b"content-disposition",
                              f"attachment; filename={filename}".encode())
        body = raw.get("raw")
        if body is None:
            body = b""
        if isinstance(body, (str, bytes)):
            body = [body]
        coding = choose_encoding(b",".join(request.requestHeaders.getRawHeaders(b"accept-encoding", [])))
        await stream_async(request, body, coding)

    # -- JSON-RPC control ---------------------------------------------------------------
    def _decode_jsonrpc(self, request: server.Request) -> tuple[str, Any, dict[str, Any]]:
        ctype = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        if ctype != b"application/json":
            raise BadJsonRpc2("Invalid content-type (use application/json)",
                              JSONRPC_CODES["invalid_request"])
        try:
            body = request.content.read() if request.content is not None else b""
            data = json.loads(body)
        except (ValueError, RecursionError) as e:  # bad UTF-8 or JSON; nesting too deep
            raise BadJsonRpc2(f"JSON parse error: {e!s}", JSONRPC_CODES["parse_error"]) from e
        if isinstance(data, list):
            raise BadJsonRpc2("JSONRPC batch requests are not supported",
                              JSONRPC_CODES["invalid_request"])
        if not isinstance(data, dict):
            raise BadJsonRpc2("JSONRPC root object must be an object",
                              JSONRPC_CODES["invalid_request"])
        for name, types, typename in (("jsonrpc", (str,), "a string"),
                                      ("method", (str,), "a string"),
                                      ("id", (str, int, float, type(None)),
                                       "a string, number, or null"),
                                      ("params", (dict,), "an object")):
            if name not in data:
                raise BadJsonRpc2(f"missing key '{name}'", JSONRPC_CODES["invalid_request"])
            if not isinstance(data[name], types):
                raise BadJsonRpc2(f"'{name}' must be {typename}", JSONRPC_CODES["invalid_request"])
        if data["jsonrpc"] != "2.0":
            raise BadJsonRpc2("only JSONRPC 2.0 is supported", JSONRPC_CODES["invalid_request"])
        return data["method"], data["id"], data["params"]

    async def _render_jsonrpc(self, request: server.Request) -> None:
        reply: dict[str, Any] = {"jsonrpc": "2.0"}
        www = self.www
        path = self._path(request)
        try:
            method, reply["id"], params = self._decode_jsonrpc(request)
            checked_path(path)
            user_info = www.user_info(request)
            await www.assert_allowed(path, method, params, user_info)
            www.master.data.getEndpoint(path)
            params["owner"] = owner_of(user_info)
            result = await www.master.data.control(method, params, path)
        except Exception as e:  # noqa: BLE001 - answered by kind; unexpected ones (500) logged
            status, code, message = rest_error(e)
            if status == 500:
                log.failure("JSON-RPC {method} on {path} failed",
                            method=reply.get("id"), path="/".join(path))
            elif www.debug:
                log.info("JSON-RPC error {status}: {msg}", status=status, msg=message)
            reply["error"] = {"code": code, "message": message}
            request.setResponseCode(status)
        else:
            reply["result"] = result
        request.setHeader(b"content-type", b"application/json")
        if "error" in reply:  # the reference's form: insertion order, default separators
            body = json.dumps(reply, default=json_default).encode()
        else:
            body = dumps(reply, compact=True).encode()
        request.setHeader(b"content-length", str(len(body)).encode())
        finish(request, body)


def owner_of(user_info: dict[str, Any]) -> str:
    """The `owner` the web layer puts in control params: `anonymous`, or the first
    non-empty of the user's email, username, full name."""
    if user_info.get("anonymous"):
        return "anonymous"
    for key in ("email", "username", "full_name"):
        value = user_info.get(key)
        if value:
            return str(value)
    return "anonymous"


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
JSON_ENCODED = b"application/json"
URL_ENCODED = b"application/x-www-form-urlencoded"
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
ContentTypeParser = internal_class(__name__, "ContentTypeParser", _INTERNAL_WHY)
RestRootResource = internal_class(__name__, "RestRootResource", _INTERNAL_WHY)
for _cls in (V2RootResource, BadJsonRpc2,):
    differs_internally(_INTERNAL_WHY)(_cls)
