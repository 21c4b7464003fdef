"""Log chunk codecs (`logchunks.compressed`) and the thread pool compression runs on.

| id | name | format |
|---|---|---|
| 0 | raw  | as is |
| 1 | gz   | zlib stream (RFC 1950), level 9 |
| 2 | bz2  | bzip2, level 9 |
| 3 | lz4  | lz4 block with its 4-byte size prefix (python-lz4 `lz4.block`) |
| 4 | zstd | zstandard frame, level 9 or 3 (`_ZstdContexts`); read without content size too |
| 5 | br   | brotli, quality 11, text mode |

The ids are Buildbot's: databases written by Buildbot 4.3 read back, and the other way round.
lz4, zstandard and brotli are optional modules; a chunk using a missing one cannot be read
(`LogCompressionFormatUnavailableError`).
"""

from __future__ import annotations

import bz2
import importlib
import os
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from twisted.internet import threads
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.threadpool import ThreadPool

from buildbot.db.errors import LogCompressionFormatUnavailableError

T = TypeVar("T")

RAW = 0


@dataclass(frozen=True, slots=True)
class Codec:
    """One compression format."""

    id: int
    name: str
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes], bytes]


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


#: zstd level of a first, fast pass; its result is kept when it is this many times smaller
#: than the input, else the input is compressed again at Buildbot's level (9).
ZSTD_FAST_LEVEL = 3
ZSTD_LEVEL = 9
ZSTD_FAST_ENOUGH_RATIO = 32


class _ZstdContexts(threading.local):
    """zstd (de)compression contexts, one set per thread (a context is not thread-safe;
    reusing one saves its allocation on every chunk).

    Level 9 (Buildbot's) costs 30-60 ns per byte on any text; on highly repetitive text
    (a build printing the same line with a counter) its deeper match search finds nothing
    that level 3 misses, at 60 times the cost. So a chunk is compressed at level 3 first
    and that result is kept when it is already 32 times smaller than the input: level 9
    could save a few percent of those 3 %, about 0.1 % of the input at most. Other text
    is compressed again at level 9 (the level-3 pass adds 7-17 % to its cost), so it is stored
    exactly as before. Both are standard frames with the content size: any zstd reader,
    Buildbot 4.3's included, reads them.
    """

    def __init__(self, zstd: Any) -> None:
        self.fast = zstd.ZstdCompressor(level=ZSTD_FAST_LEVEL)
        self.strong = zstd.ZstdCompressor(level=ZSTD_LEVEL)
        self.reader = zstd.ZstdDecompressor()

    def compress(self, data: bytes) -> bytes:
        packed = self.fast.compress(data)
        if len(packed) * ZSTD_FAST_ENOUGH_RATIO <= len(data):
            return bytes(packed)
        return bytes(self.strong.compress(data))

    def decompress(self, data: bytes) -> bytes:
        # decompressobj copes with frames that do not record their content size.
        return bytes(self.reader.decompressobj().decompress(data))


def _codecs() -> dict[str, Codec]:
    found = {
        "raw": Codec(0, "raw", bytes, bytes),
        "gz": Codec(1, "gz", lambda d: zlib.compress(d, 9), zlib.decompress),
        "bz2": Codec(2, "bz2", lambda d: bz2.compress(d, 9), bz2.decompress),
    }
    lz4_block = _optional("lz4.block")
    if lz4_block is not None:
        found["lz4"] = Codec(3, "lz4", lz4_block.compress, lz4_block.decompress)
    zstd = _optional("zstandard")
    if zstd is not None:
        contexts = _ZstdContexts(zstd)
        found["zstd"] = Codec(4, "zstd", contexts.compress, contexts.decompress)
    brotli = _optional("brotli")
    if brotli is not None:
        found["br"] = Codec(5, "br",
                            lambda d: bytes(brotli.compress(d, mode=brotli.MODE_TEXT,
                                                            quality=11)),
                            lambda d: bytes(brotli.decompress(d)))
    return found


#: Codecs available here, by configuration name.
CODECS: dict[str, Codec] = _codecs()
#: Every codec id Buildbot knows, by configuration name (available or not).
ALL_CODEC_IDS = {"raw": 0, "gz": 1, "bz2": 2, "lz4": 3, "zstd": 4, "br": 5}
_BY_ID = {c.id: c for c in CODECS.values()}
#: Codecs worth running on the DB thread for small inputs (microseconds each).
FAST_CODECS = frozenset({"raw", "gz", "lz4", "zstd"})


def default_method() -> str:
    """Buildbot's default `c['logCompressionMethod']`: zstd when installed, else gz."""
    return "zstd" if "zstd" in CODECS else "gz"


def codec(name: str) -> Codec:
    """The codec called `name`; `LogCompressionFormatUnavailableError` if unknown or its
    module is not installed."""
    found = CODECS.get(name)
    if found is None:
        why = "its module is not installed" if name in ALL_CODEC_IDS else "unknown"
        raise LogCompressionFormatUnavailableError(
            f"log compression method {name!r} is not available ({why}); "
            f"available: {', '.join(sorted(CODECS))}")
    return found


def compress(data: bytes, codec_: Codec) -> tuple[bytes, int]:
    """(stored bytes, codec id): raw when compressing would not make the data smaller."""
    if codec_.id == RAW:
        return data, RAW
    packed = codec_.compress(data)
    if len(packed) >= len(data):
        return data, RAW
    return packed, codec_.id


def decompress(data: bytes | None, codec_id: int) -> bytes:
    """The raw bytes of a stored chunk."""
    if data is None:
        return b""
    if codec_id == RAW:
        return bytes(data)
    found = _BY_ID.get(codec_id)
    if found is None:
        names = {v: k for k, v in ALL_CODEC_IDS.items()}
        raise LogCompressionFormatUnavailableError(
            f"log chunk compressed with codec {codec_id} "
            f"({names.get(codec_id, 'unknown')}), which is not available here")
    return found.decompress(bytes(data))


class CompressionPool:
    """The "DBLogCompression" threads: CPU-heavy (de)compression off the reactor and off
    the DB threads. Started on first use."""

    def __init__(self, reactor: IReactorFromThreads | None = None) -> None:
        self._reactor = reactor
        self._pool: ThreadPool | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a compression thread."""
        if self._pool is None:
            if self._reactor is None:
                from twisted.internet import reactor

                self._reactor = reactor
            self._pool = ThreadPool(minthreads=1, maxthreads=max(1, (os.cpu_count() or 2) // 2),
                                    name="DBLogCompression")
            self._pool.start()
        assert self._reactor is not None
        result: T = await threads.deferToThreadPool(self._reactor, self._pool, fn, *args)
        return result

    async def stop(self) -> None:
        """Wait for running work and stop the threads."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await threads.deferToThread(pool.stop)
