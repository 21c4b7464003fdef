"""The `logs` and `logchunks` tables: log rows, appending and reading lines, recompression,
the logMaxSize limit and the log horizon.

Storage format (shared with Buildbot 4.3): a chunk row holds lines `first_line..last_line`,
UTF-8, joined by newlines without the final one, compressed with the codec whose id is in
`compressed` (see `compression.py`). Appends to one log are serialised by the caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger

from buildbot.db.base import Clock, DbComponent, inserted_id
from buildbot.db.compression import FAST_CODECS, Codec, CompressionPool, codec, default_method
from buildbot.db.errors import InvalidValueError, LogSlugExistsError
from buildbot.db.logchunks import (
    PlannedChunk,
    TrimState,
    lines_of,
    plan_chunks,
    plan_chunks_text,
    recompress,
    regroup,
)
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.metrics_registry import LOG_BYTES

log = Logger()

LOG_TYPES = frozenset({"s", "t", "h"})
#: Appends up to this size with a fast codec are compressed on the DB thread (no extra hop).
INLINE_COMPRESS_LIMIT = 16384
#: Chunk rows fetched per query when reading a log.
READ_BATCH = 100
#: Logs purged per transaction by `deleteOldLogChunks`.
PURGE_BATCH = 50
#: Stored bytes regrouped per transaction by `compressLog`.
RECOMPRESS_WINDOW = 1 << 20


@dataclass(frozen=True, slots=True)
class LogModel:
    """A log of a step; `type` is s (stdio), t (text), h (html) or d (content purged)."""

    id: int
    name: str
    slug: str
    stepid: int
    complete: bool
    num_lines: int
    type: str


def _log(r: Any) -> LogModel:
    return LogModel(id=r.id, name=r.name, slug=r.slug, stepid=r.stepid,
                    complete=bool(r.complete), num_lines=r.num_lines, type=r.type)


class LogsDb(DbComponent):
    """Logs and their content."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock,
                 reactor: IReactorFromThreads | None = None) -> None:
        super().__init__(pool, tables, clock)
        self.compression = CompressionPool(reactor)
        self._codec: Codec = codec(default_method())
        self._max_size: int | None = None
        self._max_tail_size: int | None = None
        self._trims: dict[int, TrimState] = {}
        logs, chunks = tables.logs, tables.logchunks
        self._bump_lines = logs.update().where(logs.c.id == sa.bindparam("_logid")).values(
            num_lines=logs.c.num_lines + sa.bindparam("_n", type_=sa.Integer))
        self._bump_lines_returning = self._bump_lines.returning(logs.c.num_lines)
        self._read_lines = sa.select(logs.c.num_lines).where(logs.c.id == sa.bindparam("_logid"))
        self._insert_chunk = chunks.insert()

    # -- configuration -----------------------------------------------------------------------
    def configure(self, compression_method: str | None = None, max_size: int | None = None,
                  max_tail_size: int | None = None) -> None:
        """Apply c['logCompressionMethod'] (None = default: zstd if installed, else gz),
        c['logMaxSize'] (bytes kept at the head of a log; None = unlimited) and
        c['logMaxTailSize'] (bytes kept at its end once the limit is hit).

        Raises `LogCompressionFormatUnavailableError` for an unusable method.
        """
        self._codec = codec(compression_method or default_method())
        self._max_size = max_size if max_size else None
        self._max_tail_size = max_tail_size if max_tail_size else None

    def set_compression_method(self, method: str) -> None:
        """Change only the compression method (used by `buildbot cleanupdb`)."""
        self._codec = codec(method)

    @property
    def compression_method(self) -> str:
        return self._codec.name

    async def stop(self) -> None:
        """Stop the compression threads."""
        await self.compression.stop()

    # -- log rows ----------------------------------------------------------------------------
    async def _logs(self, *where: Any) -> list[LogModel]:
        t = self._tables.logs

        def thd_list(conn: sa.Connection) -> list[LogModel]:
            return [_log(r) for r in conn.execute(sa.select(t).where(*where).order_by(t.c.id))]

        return await self._pool.run(thd_list)

    async def getLog(self, logid: int) -> LogModel | None:
        """The log, or None."""
        found = await self._logs(self._tables.logs.c.id == logid)
        return found[0] if found else None

    async def getLogBySlug(self, stepid: int, slug: str) -> LogModel | None:
        """The step's log with this slug, or None."""
        t = self._tables.logs
        found = await self._logs(t.c.stepid == stepid, t.c.slug == slug)
        return found[0] if found else None

    async def getLogs(self, stepid: int | None = None) -> list[LogModel]:
        """Logs (of the step, if given), by id."""
        t = self._tables.logs
        return await self._logs(*([] if stepid is None else [t.c.stepid == stepid]))

    async def addLog(self, stepid: int, name: str, slug: str, type: str) -> int:
        """Add an empty log; `LogSlugExistsError` if the step has that slug already."""
        if type not in LOG_TYPES:
            raise InvalidValueError(f"log type must be one of s, t, h, not {type!r}")
        t = self._tables.logs
        self.check_length(t.c.slug, slug)

        def thd_add(conn: sa.Connection) -> int:
            try:
                return inserted_id(conn.execute(t.insert().values(
                    name=name, slug=slug, stepid=stepid, complete=0, num_lines=0, type=type)))
            except sa.exc.IntegrityError as e:
                raise LogSlugExistsError(
                    f"step {stepid} already has a log with slug {slug!r}") from e

        return await self._pool.run(thd_add)

    async def delete_unused_logs(self, stepid: int, logids: list[int]) -> None:
        """Delete logs of the step that were stored ahead and never written."""
        if not logids:
            return
        t, c = self._tables.logs, self._tables.logchunks

        def thd_delete(conn: sa.Connection) -> None:
            conn.execute(c.delete().where(c.c.logid.in_(logids)))
            conn.execute(t.delete().where(t.c.id.in_(logids), t.c.stepid == stepid))

        await self._pool.run(thd_delete)

    # -- writing -----------------------------------------------------------------------------
    async def appendLog(self, logid: int, content: str) -> tuple[int, int] | None:
        """Append whole lines (`content` ends with a newline); returns (first, last) line
        numbers written (an empty range, last = first - 1, when logMaxSize drops them all),
        or None if the log does not exist. One DB round trip."""
        if not content.endswith("\n"):
            content += "\n"
        raw = content.encode("utf-8")
        LOG_BYTES.inc((), len(raw))
        if self._max_size is None:  # the whole text, cut by byte ranges (no split per line)
            return await self._append_lines(logid, raw)
        state = self._trims.setdefault(logid, TrimState())
        return await self._append_lines(
            logid, state.take(raw.split(b"\n")[:-1], self._max_size, self._max_tail_size))

    async def _append_lines(self, logid: int, lines: list[bytes] | bytes
                            ) -> tuple[int, int] | None:
        """Store `lines` (a list of lines without newlines, or bytes of whole lines)."""
        codec_ = self._codec
        if isinstance(lines, bytes):
            text = lines
            n, size = text.count(b"\n"), len(text)

            def plan() -> list[PlannedChunk]:
                return plan_chunks_text(text, codec_)
        else:
            listed = lines
            n, size = len(listed), sum(map(len, listed))

            def plan() -> list[PlannedChunk]:
                return plan_chunks(listed, codec_)
        planned: list[PlannedChunk] | None = None
        if n and (codec_.name not in FAST_CODECS or size > INLINE_COMPRESS_LIMIT):
            planned = await self.compression.run(plan)
        params = {"_logid": logid, "_n": n}

        def thd_append(conn: sa.Connection) -> tuple[int, int] | None:
            if conn.dialect.update_returning:
                first = conn.execute(self._bump_lines_returning, params).scalar()
                if first is None:
                    return None
                first -= n
            else:
                first = conn.execute(self._read_lines, params).scalar()
                if first is None:
                    return None
                if n:
                    conn.execute(self._bump_lines, params)
            rows = []
            line = first
            for chunk in planned if planned is not None else plan():
                rows.append({"logid": logid, "first_line": line,
                             "last_line": line + chunk.nlines - 1,
                             "content": chunk.content, "compressed": chunk.codec_id})
                line += chunk.nlines
            if rows:
                conn.execute(self._insert_chunk, rows)
            return first, first + n - 1

        return await self._pool.run(thd_append)

    def take_plain_finish(self, logid: int) -> bool:
        """True if finishing the log only marks it complete (nothing of it was dropped by
        logMaxSize), so that another transaction may do it; its trim state is then
        forgotten, as `finishLog` does. False: finish it with `finishLog`."""
        state = self._trims.get(logid)
        if state is not None and state.overflowing and self._max_size is not None:
            return False
        self._trims.pop(logid, None)
        return True

    async def finishLog(self, logid: int) -> int | None:
        """Mark the log complete. If logMaxSize dropped part of it, first append a line
        saying how much, then the kept tail. Returns the final number of lines (None if
        the log does not exist)."""
        state = self._trims.pop(logid, None)
        if state is not None and state.overflowing and self._max_size is not None:
            row = await self.getLog(logid)
            if row is not None:
                await self._append_lines(
                    logid, state.closing_lines(self._max_size, stdio=row.type == "s"))
        t = self._tables.logs

        def thd_finish(conn: sa.Connection) -> int | None:
            conn.execute(t.update().where(t.c.id == logid).values(complete=1))
            found = conn.execute(sa.select(t.c.num_lines).where(t.c.id == logid)).scalar()
            return None if found is None else int(found)

        return await self._pool.run(thd_finish)

    # -- reading -----------------------------------------------------------------------------
    def _chunk_query(self, logid: int, first: int, last: int) -> sa.Select[Any]:
        c = self._tables.logchunks
        return sa.select(c.c.first_line, c.c.last_line, c.c.content, c.c.compressed).where(
            c.c.logid == logid, c.c.first_line <= last, c.c.last_line >= first
        ).order_by(c.c.first_line)

    async def getLogLines(self, logid: int, first_line: int, last_line: int) -> str:
        """Lines `first_line..last_line` (0-based, inclusive), each ending in a newline;
        '' for a missing log or no such lines."""
        if last_line < first_line or last_line < 0:
            return ""
        q = self._chunk_query(logid, first_line, last_line)

        def thd_read(conn: sa.Connection) -> list[tuple[int, int, bytes | None, int]]:
            return [(r.first_line, r.last_line, r.content, r.compressed)
                    for r in conn.execute(q)]

        rows = await self._pool.run(thd_read)
        if not rows:
            return ""
        if all(r[3] == 0 for r in rows) and sum(len(r[2] or b"") for r in rows) <= \
                INLINE_COMPRESS_LIMIT:
            return "".join(lines_of(rows, first_line, last_line))
        return "".join(await self.compression.run(lines_of, rows, first_line, last_line))

    async def iter_log_lines(self, logid: int, first_line: int | None = None,
                             last_line: int | None = None) -> AsyncIterator[str]:
        """The log's lines from `first_line` (default 0) to `last_line` (default: the
        end), each ending in a newline, read 100 chunks at a time."""
        upto = last_line if last_line is not None else 2 ** 31 - 1
        position = first_line or 0
        while position <= upto:
            q = self._chunk_query(logid, position, upto).limit(READ_BATCH)

            def thd_read(conn: sa.Connection, q: Any = q
                         ) -> list[tuple[int, int, bytes | None, int]]:
                return [(r.first_line, r.last_line, r.content, r.compressed)
                        for r in conn.execute(q)]

            rows = await self._pool.run(thd_read)
            if not rows:
                return
            for line in await self.compression.run(lines_of, rows, position, upto):
                yield line
            position = rows[-1][1] + 1

    # -- recompression -----------------------------------------------------------------------
    async def compressLog(self, logid: int, force: bool = False, *,
                          chunks_done: Callable[[int, int], None] | None = None) -> int:
        """Regroup consecutive small chunks (up to 64 KiB stored, 1000 lines) into single
        chunks compressed with the configured method; returns the bytes saved. Does nothing
        when no chunks would merge, unless `force` (then every chunk is recompressed).

        Each window of about RECOMPRESS_WINDOW stored bytes is one transaction, after which
        `chunks_done(chunks, bytes_saved)` is told how many of the log's chunks it covered
        (chunks left as they are are told at once, with 0 saved). The callback may raise to
        stop between two windows: the log is then partly regrouped, its lines intact, and a
        later call goes on from there."""
        c = self._tables.logchunks
        codec_ = self._codec

        def thd_sizes(conn: sa.Connection) -> list[tuple[int, int, int]]:
            return [(r.first_line, r.last_line, int(r.size or 0)) for r in conn.execute(
                sa.select(c.c.first_line, c.c.last_line,
                          sa.func.length(c.c.content).label("size"))
                .where(c.c.logid == logid).order_by(c.c.first_line))]

        chunks = await self._pool.run(thd_sizes)
        groups = regroup(chunks)
        if len(groups) == len(chunks) and not force:
            if chunks_done is not None and chunks:
                chunks_done(len(chunks), 0)
            return 0
        todo = [[chunks[i] for i in g] for g in groups if len(g) > 1 or force]
        untouched = len(chunks) - sum(len(g) for g in todo)
        if chunks_done is not None and untouched:
            chunks_done(untouched, 0)
        saved, start = 0, 0
        while start < len(todo):
            end, size = start, 0
            while end < len(todo) and (end == start or size < RECOMPRESS_WINDOW):
                size += sum(stored for _, _, stored in todo[end])
                end += 1
            gain = await self._recompress_window(logid, todo[start:end], codec_)
            saved += gain
            if chunks_done is not None:
                chunks_done(sum(len(g) for g in todo[start:end]), gain)
            start = end
        return saved

    async def _recompress_window(self, logid: int, groups: list[list[tuple[int, int, int]]],
                                 codec_: Codec) -> int:
        c = self._tables.logchunks
        lo, hi = groups[0][0][0], groups[-1][-1][0]

        def thd_read(conn: sa.Connection) -> dict[int, tuple[bytes | None, int]]:
            return {r.first_line: (r.content, r.compressed) for r in conn.execute(
                sa.select(c.c.first_line, c.c.content, c.c.compressed).where(
                    c.c.logid == logid, c.c.first_line >= lo, c.c.first_line <= hi))}

        stored = await self._pool.run(thd_read)

        def thd_pack() -> list[tuple[int, int, bytes, int, int]]:
            out = []
            for g in groups:
                content, cid = recompress([stored[first] for first, _, _ in g], codec_)
                old = sum(len(stored[first][0] or b"") for first, _, _ in g)
                out.append((g[0][0], g[-1][1], content, cid, old - len(content)))
            return out

        packed = await self.compression.run(thd_pack)

        def thd_replace(conn: sa.Connection) -> int:
            for (first, last, content, cid, _), g in zip(packed, groups, strict=True):
                conn.execute(c.delete().where(c.c.logid == logid, c.c.first_line >= first,
                                              c.c.first_line <= g[-1][0]))
                conn.execute(c.insert().values(logid=logid, first_line=first, last_line=last,
                                               content=content, compressed=cid))
            return sum(p[4] for p in packed)

        return await self._pool.run(thd_replace)

    async def count_chunks(self) -> int:
        """How many chunks all logs hold (what `cleanupdb` counts its progress towards)."""
        c = self._tables.logchunks

        def thd_count(conn: sa.Connection) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(c)).scalar() or 0)

        return await self._pool.run(thd_count)

    async def compress_all_logs(self, force: bool = False,
                                progress: Callable[[int, int, int], None] | None = None) -> int:
        """`compressLog` on every log (for `buildbot cleanupdb`); `progress(done, total,
        saved)` is called after each log. Returns the total bytes saved."""
        t = self._tables.logs

        def thd_ids(conn: sa.Connection) -> list[int]:
            return [r.id for r in conn.execute(sa.select(t.c.id).where(t.c.type != "d")
                                               .order_by(t.c.id))]

        ids = await self._pool.run(thd_ids)
        saved = 0
        for done, logid in enumerate(ids, start=1):
            saved += await self.compressLog(logid, force=force)
            if progress is not None:
                progress(done, len(ids), saved)
        return saved

    # -- horizon -----------------------------------------------------------------------------
    async def deleteOldLogChunks(self, older_than_timestamp: int) -> int:
        """Purge the content of logs of steps started before the time (their type becomes
        `d`, line counts stay); returns the chunk rows deleted. Works in transactions of
        50 logs, so the master keeps running meanwhile."""
        t = self._tables

        def thd_horizon(conn: sa.Connection) -> int | None:
            found = conn.execute(sa.select(sa.func.max(t.steps.c.id)).where(
                t.steps.c.started_at < older_than_timestamp)).scalar()
            return None if found is None else int(found)

        last_stepid = await self._pool.run(thd_horizon)
        if last_stepid is None:
            return 0
        logs, chunks = t.logs, t.logchunks

        def thd_purge(conn: sa.Connection) -> tuple[int, int]:
            ids = [r.id for r in conn.execute(
                sa.select(logs.c.id).where(logs.c.stepid <= last_stepid, logs.c.type != "d")
                .order_by(logs.c.id).limit(PURGE_BATCH))]
            if not ids:
                return 0, 0
            conn.execute(logs.update().where(logs.c.id.in_(ids)).values(type="d"))
            deleted = conn.execute(chunks.delete().where(chunks.c.logid.in_(ids))).rowcount
            return len(ids), int(deleted)

        total = 0
        while True:
            nlogs, deleted = await self._pool.run(thd_purge)
            total += deleted
            if nlogs < PURGE_BATCH:
                return total

