"""Pure functions behind log storage: cutting appended text into `logchunks` rows, reading
lines back out of rows, regrouping rows (`compressLog`), and the logMaxSize trimming state.

Nothing here touches the database or the reactor; `logs.py` runs these on DB or
compression threads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from twisted.logger import Logger

from buildbot.db.compression import Codec, compress, decompress

log = Logger()

#: Largest stored chunk we write; a longer single line is truncated to fit.
MAX_CHUNK_SIZE = 65536
#: Most lines `compressLog` puts in one regrouped chunk.
MAX_CHUNK_LINES = 1000


@dataclass(frozen=True, slots=True)
class PlannedChunk:
    """A row to insert: `nlines` lines, stored bytes and their codec id."""

    nlines: int
    content: bytes
    codec_id: int


def _truncate_line(line: bytes) -> bytes:
    cut = line[:MAX_CHUNK_SIZE - 1]
    # Back off to a UTF-8 character boundary.
    return cut.decode("utf-8", "ignore").encode("utf-8")


def plan_chunks(lines: Sequence[bytes], codec: Codec) -> list[PlannedChunk]:
    """Group lines (without their newline) into chunks of at most 64 KiB, each compressed
    with `codec` (raw when that would not shrink it). A line over 64 KiB gets its own
    chunk and is truncated if even compressed it does not fit."""
    out: list[PlannedChunk] = []
    group: list[bytes] = []
    size = 0

    def flush() -> None:
        nonlocal group, size
        if group:
            stored, codec_id = compress(b"\n".join(group), codec)
            out.append(PlannedChunk(len(group), stored, codec_id))
            group, size = [], 0

    for line in lines:
        if len(line) + 1 > MAX_CHUNK_SIZE:
            flush()
            stored, codec_id = compress(line, codec)
            if len(stored) > MAX_CHUNK_SIZE:
                log.info("truncating long line of {size} bytes in a log", size=len(line))
                stored, codec_id = compress(_truncate_line(line), codec)
            out.append(PlannedChunk(1, stored, codec_id))
            continue
        if size + len(line) + 1 > MAX_CHUNK_SIZE:
            flush()
        group.append(line)
        size += len(line) + 1
    flush()
    return out


def plan_chunks_text(raw: bytes, codec: Codec) -> list[PlannedChunk]:
    """`plan_chunks` of `raw` (whole lines, each ending in a newline), cut by byte ranges:
    the same rows, with no Python work per line (a find for each 64 KiB, not a split)."""
    out: list[PlannedChunk] = []
    start, size = 0, len(raw)
    while start < size:
        end = raw.rfind(b"\n", start, start + MAX_CHUNK_SIZE)
        if end == -1:  # a line of 64 KiB or more: its own chunk, as plan_chunks does
            end = raw.find(b"\n", start)
            out.extend(plan_chunks([raw[start:end]], codec))
        else:
            stored, codec_id = compress(raw[start:end], codec)
            out.append(PlannedChunk(raw.count(b"\n", start, end + 1), stored, codec_id))
        start = end + 1
    return out


def lines_of(rows: Iterable[tuple[int, int, bytes | None, int]], first: int, last: int
             ) -> list[str]:
    """Lines `first..last` (each ending in a newline) out of (first_line, last_line,
    content, codec id) rows ordered by first_line."""
    out: list[str] = []
    for row_first, _row_last, content, codec_id in rows:
        text = decompress(content, codec_id).decode("utf-8", "replace")
        for i, line in enumerate(text.split("\n"), start=row_first):
            if i < first:
                continue
            if i > last:
                return out
            out.append(line + "\n")
    return out


def regroup(chunks: Sequence[tuple[int, int, int]]) -> list[list[int]]:
    """Greedy groups of consecutive chunks for `compressLog`, as indexes into `chunks`
    ((first_line, last_line, stored size) ordered by first_line): a group stays within
    64 KiB of stored data and 1000 lines."""
    groups: list[list[int]] = []
    size = 0
    for i, (first, last, stored) in enumerate(chunks):
        if groups:
            g = groups[-1]
            g_first = chunks[g[0]][0]
            if size + stored <= MAX_CHUNK_SIZE and last - g_first <= MAX_CHUNK_LINES:
                g.append(i)
                size += stored
                continue
        groups.append([i])
        size = stored
    return groups


def recompress(contents: Sequence[tuple[bytes | None, int]], codec: Codec) -> tuple[bytes, int]:
    """One chunk made of several stored chunks, compressed with `codec` (kept raw when
    compressing would make it larger; Buildbot 4.3 stores the larger form)."""
    return compress(b"\n".join(decompress(c, cid) for c, cid in contents), codec)


@dataclass
class TrimState:
    """logMaxSize bookkeeping of one log being written: bytes kept at the head, the tail
    kept in memory (at most `max_tail_size` bytes), and what was dropped in between."""

    head_bytes: int = 0
    overflowing: bool = False
    dropped_bytes: int = 0
    dropped_lines: int = 0
    tail: deque[bytes] = field(default_factory=deque)
    tail_bytes: int = 0

    def take(self, lines: Sequence[bytes], max_size: int, max_tail_size: int | None
             ) -> list[bytes]:
        """The lines to store now; the others go to the tail or are dropped."""
        keep: list[bytes] = []
        i = 0
        if not self.overflowing:
            for i, line in enumerate(lines):
                if self.head_bytes + len(line) + 1 > max_size:
                    self.overflowing = True
                    break
                self.head_bytes += len(line) + 1
                keep.append(line)
            else:
                return keep
        for line in lines[i:]:
            if max_tail_size:
                self.tail.append(line)
                self.tail_bytes += len(line) + 1
                while self.tail and self.tail_bytes > max_tail_size:
                    old = self.tail.popleft()
                    self.tail_bytes -= len(old) + 1
                    self.dropped_bytes += len(old) + 1
                    self.dropped_lines += 1
            else:
                self.dropped_bytes += len(line) + 1
                self.dropped_lines += 1
        return keep

    def closing_lines(self, max_size: int, stdio: bool) -> list[bytes]:
        """What to append when the log finishes: a line saying what was dropped, then the
        tail. Empty if nothing overflowed."""
        if not self.overflowing:
            return []
        note = (f"*** {self.dropped_bytes} bytes ({self.dropped_lines} lines) of this log "
                f"were dropped: it is limited to {max_size} bytes (logMaxSize), "
                f"followed by the last {self.tail_bytes} bytes (logMaxTailSize) ***")
        return [(b"h" if stdio else b"") + note.encode("utf-8"), *self.tail]
