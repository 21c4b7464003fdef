# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""JSON encoding and response compression for the REST API.

Big collections are encoded a batch of items at a time, giving the reactor a turn between
batches; a body that grows past `STREAM_THRESHOLD` is sent as it is produced (chunked
transfer, flow-controlled) instead of being held in memory. Compression (br, zstd, gzip per
`Accept-Encoding`) of a buffered body above `THREAD_THRESHOLD` runs in a thread.
"""

from __future__ import annotations

import datetime
import importlib
import json
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.web import server

from buildbot.util import datetime2epoch
from buildbot.util.internal import internal_class
from buildbot.util.timestamps import known_epochs
from buildbot.www.resource import FlowControl, finish, request_gone


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:  # optional: without it we fall back to the next coding
        return None


brotli: Any = _optional("brotli")
zstandard: Any = _optional("zstandard")

BATCH_ITEMS = 200
STREAM_THRESHOLD = 1 << 20
THREAD_THRESHOLD = 64 << 10


_known_epoch = known_epochs.get


def json_default(obj: Any) -> Any:
    """Values JSON cannot represent: datetimes become epoch ints, anything else null."""
    # Most datetimes in bodies come from database rows, whose epochs are known.
    hit = _known_epoch(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    if isinstance(obj, datetime.datetime):
        return datetime2epoch(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    return None


class _Epochs(dict[Any, Any]):
    """The compact encoder's `default`, as the bound `__getitem__` of this dict: the epoch
    of a datetime seen before is then found without a call into Python code (most bodies
    repeat the datetimes of the same rows); anything else goes through `json_default` (in
    `__missing__`), datetimes being remembered. An unhashable value raises TypeError from
    the lookup: `_encode_compact` then encodes again with `json_default` itself."""

    def __missing__(self, obj: Any) -> Any:
        value = json_default(obj)
        if type(obj) is datetime.datetime:  # immutable, and equal ones have one epoch
            if len(self) >= EPOCHS_CACHED:
                self.clear()
            self[obj] = value
        return value


EPOCHS_CACHED = 8192


def _encode_compact(obj: Any) -> str:
    try:
        return _FAST.encode(obj)
    except TypeError:  # an unhashable value for `default` (a set...): the general path
        return _COMPACT.encode(obj)


def _dump(obj: Any, compact: bool) -> str:
    if compact:
        return _encode_compact(obj)
    # The reference's indented form keeps a space after each comma (", " before newline).
    return json.dumps(obj, sort_keys=True, indent=2, separators=(", ", ": "),
                      default=json_default)


def dumps(obj: Any, compact: bool = True) -> str:
    """The REST encoding: keys sorted; compact or indented by 2."""
    return _dump(obj, compact)


_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=json_default)
_FAST = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_Epochs().__getitem__)


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def envelope_chunks(plural: str, items: list[Any], meta: dict[str, Any],
                    compact: bool) -> Iterator[str]:
    """Encode `{plural: items, "meta": meta}` exactly as `dumps` would, in pieces of at most
    `BATCH_ITEMS` items."""
    key = json.dumps(plural)
    total = meta.get("total")
    if compact and len(meta) == 1 and type(total) is int:  # a collection's: no encoder call
        meta_text = f'{{"total":{total}}}'
    else:
        meta_text = _dump(meta, compact)
    list_first = plural < "meta"
    if compact:
        if not list_first:
            yield '{"meta":' + meta_text + "," + key + ":["
        else:
            yield "{" + key + ":["
        for start in range(0, len(items), BATCH_ITEMS):
            # One encoder call per batch (a compact list is its items joined by ','): per
            # item, the call's set-up cost as much as a build's body.
            batch = _encode_compact(items[start:start + BATCH_ITEMS])[1:-1]
            yield ("," if start else "") + batch
        yield "]}" if not list_first else '],"meta":' + meta_text + "}"
        return
    meta_part = '  "meta": ' + _indent(meta_text, "  ")
    if not list_first:
        yield "{\n" + meta_part + ", \n  " + key + ": ["
    else:
        yield "{\n  " + key + ": ["
    for start in range(0, len(items), BATCH_ITEMS):
        batch = ", \n    ".join(_indent(_dump(i, False), "    ")
                                for i in items[start:start + BATCH_ITEMS])
        yield (", " if start else "") + "\n    " + batch
    close = "\n  ]" if items else "]"
    yield close + ("\n}" if not list_first else ", \n" + meta_part + "\n}")


# -- compression ----------------------------------------------------------------------------

def choose_encoding(accept_encoding: bytes | None) -> str | None:
    """The content coding we use for a request: br, else zstd, else gzip (if accepted)."""
    if not accept_encoding:
        return None
    accepted = set()
    for part in accept_encoding.decode("latin-1").lower().split(","):
        name, _, params = part.strip().partition(";")
        if params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(name.strip())
    if brotli is not None and "br" in accepted:
        return "br"
    if zstandard is not None and "zstd" in accepted:
        return "zstd"
    if "gzip" in accepted or "x-gzip" in accepted:
        return "gzip"
    return None


class Compressor:
    """Incremental compressor for one response body."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        if coding == "br":
            self._br = brotli.Compressor(quality=5)
        elif coding == "zstd":
            self._zstd = zstandard.ZstdCompressor(level=3).compressobj()
        else:
            self._gz = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def compress(self, data: bytes) -> bytes:
        """Compress `data`, returning whatever the compressor emits (flushed for streaming)."""
        if self.coding == "br":
            out: bytes = self._br.process(data) + self._br.flush()
            return out
        if self.coding == "zstd":
            zout: bytes = self._zstd.compress(data) + self._zstd.flush(
                zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            return zout
        return self._gz.compress(data) + self._gz.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        if self.coding == "br":
            bfin: bytes = self._br.finish()
            return bfin
        if self.coding == "zstd":
            zfin: bytes = self._zstd.flush()
            return zfin
        return self._gz.flush()


def compress_whole(coding: str, body: bytes) -> bytes:
    """Compress a complete body in one go (may run in a thread)."""
    if coding == "br":
        bout: bytes = brotli.compress(body, quality=5)
        return bout
    if coding == "zstd":
        zout: bytes = zstandard.ZstdCompressor(level=3).compress(body)
        return zout
    c = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(body) + c.flush()


def _reactor() -> Any:
    from twisted.internet import reactor  # the real one: these are network responses

    return reactor


async def cooperate() -> None:
    """Give the reactor one turn (between batches of a long encode)."""
    await deferLater(_reactor(), 0, lambda: None)


async def send_body(request: server.Request, chunks: Iterable[str | bytes],
                    coding: str | None) -> None:
    """Send a response body produced piecewise by `chunks` (headers other than
    Content-Length/Content-Encoding already set), then finish the request.

    Small bodies get a Content-Length; once the body passes STREAM_THRESHOLD it is streamed
    as it is produced. The reactor gets a turn between pieces.
    """
    if coding is not None:
        request.setHeader(b"content-encoding", coding.encode())
        request.setHeader(b"vary", b"Accept-Encoding")
    pending: list[bytes] = []
    size = 0
    it = iter(chunks)
    streaming = request.method != b"HEAD"
    for n, chunk in enumerate(it):
        data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
        pending.append(data)
        size += len(data)
        if streaming and size > STREAM_THRESHOLD:
            await _stream(request, pending, it, coding)
            return
        if n and n % 4 == 0:
            await cooperate()
            if request_gone(request):
                return
    body = b"".join(pending)
    if coding is not None:
        if len(body) > THREAD_THRESHOLD:
            reactor = _reactor()
            body = await deferToThreadPool(reactor, reactor.getThreadPool(),
                                           compress_whole, coding, body)
        else:
            body = compress_whole(coding, body)
    request.setHeader(b"content-length", str(len(body)).encode())
    finish(request, body)


async def _stream(request: server.Request, first: list[bytes], rest: Iterator[str | bytes],
                  coding: str | None) -> None:
    flow = FlowControl()
    request.registerProducer(flow, True)
    compressor = Compressor(coding) if coding is not None else None
    try:
        def out(data: bytes) -> None:
            if compressor is not None:
                data = compressor.compress(data)
            if data:
                request.write(data)

        out(b"".join(first))
        for chunk in rest:
            if not await flow.writable() or request_gone(request):
                return
            out(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            await cooperate()
        if compressor is not None and not request_gone(request):
            request.write(compressor.finish())
    finally:
        if not request_gone(request):
            request.unregisterProducer()
            request.finish()


async def stream_async(request: server.Request, chunks: Any, coding: str | None) -> None:
    """Stream an async iterator (or plain iterable) of str/bytes chunks with backpressure
    and constant memory (raw log download), then finish the request."""
    if coding is not None:
        request.setHeader(b"content-encoding", coding.encode())
        request.setHeader(b"vary", b"Accept-Encoding")
    if request.method == b"HEAD":
        finish(request)
        return
    flow = FlowControl()
    request.registerProducer(flow, True)
    compressor = Compressor(coding) if coding is not None else None
    try:
        async def pieces() -> Any:
            if hasattr(chunks, "__aiter__"):
                async for c in chunks:
                    yield c
            else:
                for c in chunks:
                    yield c

        async for chunk in pieces():
            if not await flow.writable() or request_gone(request):
                return
            data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
            if compressor is not None:
                data = compressor.compress(data)
            if data:
                request.write(data)
        if compressor is not None and not request_gone(request):
            request.write(compressor.finish())
    finally:
        if not request_gone(request):
            request.unregisterProducer()
            request.finish()


__all__ = ["Compressor", "choose_encoding", "cooperate", "dumps", "envelope_chunks",
           "json_default", "send_body", "stream_async"]


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "responses are compressed by buildbot.www.encoding's own encoders"
BrotliEncoderFactory = internal_class(__name__, "BrotliEncoderFactory", _INTERNAL_WHY)
ZstandardEncoderFactory = internal_class(__name__, "ZstandardEncoderFactory", _INTERNAL_WHY)
