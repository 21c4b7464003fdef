"""Logs: rows, appending and reading, codecs, recompression, logMaxSize, the horizon."""

from __future__ import annotations

import pytest
import pytest_twisted
import sqlalchemy as sa

from buildbot.db import compression
from buildbot.db.connector import DBConnector
from buildbot.db.errors import (
    InvalidValueError,
    LogCompressionFormatUnavailableError,
    LogSlugExistsError,
)
from buildbot.db.logchunks import MAX_CHUNK_SIZE
from buildbot.db.logs import LogModel
from tests.db import rows

pytestmark = pytest.mark.db


async def _chunks(db: DBConnector, logid: int) -> list[tuple[int, int, int]]:
    c = db.tables.logchunks
    return await db.pool.run(lambda conn: [tuple(r) for r in conn.execute(
        sa.select(c.c.first_line, c.c.last_line, c.c.compressed)
        .where(c.c.logid == logid).order_by(c.c.first_line))])


@pytest_twisted.ensureDeferred
async def test_add_log_and_slug_collision(db: DBConnector) -> None:
    _, stepid = await rows.step(db)
    logid = await db.logs.addLog(stepid, "std io", "std_io", "s")
    with pytest.raises(LogSlugExistsError):
        await db.logs.addLog(stepid, "other", "std_io", "t")
    with pytest.raises(InvalidValueError):
        await db.logs.addLog(stepid, "x", "x", "q")
    assert await db.logs.getLog(logid) == LogModel(logid, "std io", "std_io", stepid, False,
                                                   0, "s")
    assert await db.logs.getLogBySlug(stepid, "std_io") == await db.logs.getLog(logid)
    assert [lg.id for lg in await db.logs.getLogs(stepid)] == [logid]


@pytest_twisted.ensureDeferred
async def test_append_numbers_lines_and_reads_them_back(db: DBConnector) -> None:
    logid = await rows.log(db)
    assert await db.logs.appendLog(logid, "ohello\neworld\n") == (0, 1)
    assert await db.logs.appendLog(logid, "o\u00e9t\u00e9\n") == (2, 2)
    assert await db.logs.getLogLines(logid, 0, 2) == "ohello\neworld\no\u00e9t\u00e9\n"
    assert await db.logs.getLogLines(logid, 1, 1) == "eworld\n"
    assert await db.logs.getLogLines(logid, 5, 9) == ""
    assert await db.logs.appendLog(999, "x\n") is None
    assert await db.logs.getLogLines(999, 0, 10) == ""
    assert [line async for line in db.logs.iter_log_lines(logid, 1)] == ["eworld\n",
                                                                        "o\u00e9t\u00e9\n"]
    got = await db.logs.getLog(logid)
    assert got is not None and got.num_lines == 3


@pytest.mark.parametrize("method", sorted(compression.CODECS))
@pytest_twisted.ensureDeferred
async def test_every_codec_round_trips(db: DBConnector, method: str) -> None:
    db.logs.configure(compression_method=method)
    logid = await rows.log(db, "t")
    text = "".join(f"line {i} of some rather repetitive output\n" for i in range(3000))
    assert await db.logs.appendLog(logid, text) == (0, 2999)
    assert await db.logs.appendLog(logid, "tail\n") == (3000, 3000)
    assert await db.logs.getLogLines(logid, 0, 3000) == text + "tail\n"
    codecs = {cid for _, _, cid in await _chunks(db, logid)}
    expected = compression.CODECS[method].id
    assert codecs == ({0} if method == "raw" else {expected, 0})
    await db.logs.finishLog(logid)
    await db.logs.compressLog(logid, force=True)
    assert await db.logs.getLogLines(logid, 0, 3000) == text + "tail\n"
    assert await db.logs.getLogLines(logid, 2999, 2999) == "line 2999 of some rather " \
        "repetitive output\n"


def test_unknown_codec_is_refused() -> None:
    with pytest.raises(LogCompressionFormatUnavailableError):
        compression.codec("snappy")
    with pytest.raises(LogCompressionFormatUnavailableError):
        compression.decompress(b"x", 42)


@pytest_twisted.ensureDeferred
async def test_big_appends_split_into_64k_chunks(db: DBConnector) -> None:
    db.logs.configure(compression_method="raw")
    logid = await rows.log(db, "t")
    line = "x" * 1000 + "\n"
    await db.logs.appendLog(logid, line * 200)
    chunks = await _chunks(db, logid)
    assert [(f, la) for f, la, _ in chunks] == [(0, 64), (65, 129), (130, 194), (195, 199)]
    assert await db.logs.getLogLines(logid, 0, 199) == line * 200


@pytest_twisted.ensureDeferred
async def test_overlong_line_is_truncated_to_a_chunk(db: DBConnector) -> None:
    db.logs.configure(compression_method="raw")
    logid = await rows.log(db, "t")
    await db.logs.appendLog(logid, "a\n" + "\u00e9" * 40000 + "\nb\n")
    lines = (await db.logs.getLogLines(logid, 0, 2)).split("\n")
    assert lines[0] == "a" and lines[2] == "b"
    assert len(lines[1].encode()) == MAX_CHUNK_SIZE - 2  # cut at a character boundary


@pytest_twisted.ensureDeferred
async def test_compress_log_merges_small_chunks(db: DBConnector) -> None:
    db.logs.configure(compression_method="gz")
    logid = await rows.log(db)
    for i in range(50):
        await db.logs.appendLog(logid, f"oline number {i} with the same words as the others\n")
    await db.logs.finishLog(logid)
    before = await db.logs.getLogLines(logid, 0, 49)
    saved = await db.logs.compressLog(logid)
    assert saved > 0
    assert await _chunks(db, logid) == [(0, 49, 1)]
    assert await db.logs.getLogLines(logid, 0, 49) == before
    assert await db.logs.compressLog(logid) == 0  # nothing left to merge


@pytest_twisted.ensureDeferred
async def test_max_size_keeps_head_and_tail_and_says_what_was_dropped(db: DBConnector) -> None:
    db.logs.configure(compression_method="raw", max_size=30, max_tail_size=10)
    logid = await rows.log(db)
    assert await db.logs.appendLog(logid, "o123456789\n" * 2) == (0, 1)  # 22 bytes
    assert await db.logs.appendLog(logid, "o123456789\n") == (2, 1)  # over 30: held back
    for i in range(5):
        await db.logs.appendLog(logid, f"olast{i}\n")
    assert await db.logs.finishLog(logid) == 4
    text = await db.logs.getLogLines(logid, 0, 10)
    assert text.splitlines() == [
        "o123456789", "o123456789",
        ("h*** 39 bytes (5 lines) of this log were dropped: it is limited to 30 bytes "
         "(logMaxSize), followed by the last 7 bytes (logMaxTailSize) ***"),
        "olast4"]


@pytest_twisted.ensureDeferred
async def test_max_size_without_tail(db: DBConnector) -> None:
    db.logs.configure(compression_method="raw", max_size=5)
    logid = await rows.log(db, "t")
    await db.logs.appendLog(logid, "abcd\nefgh\n")
    await db.logs.finishLog(logid)
    assert (await db.logs.getLogLines(logid, 0, 5)).splitlines()[0] == "abcd"
    assert (await db.logs.getLogLines(logid, 0, 5)).splitlines()[1].startswith(
        "*** 5 bytes (1 lines) of this log were dropped")


@pytest_twisted.ensureDeferred
async def test_old_log_chunks_are_purged_in_batches(db: DBConnector) -> None:
    db.clock.advance(100)
    old = await rows.log(db)
    _, stepid = await rows.step(db, "old2")
    await db.steps.startStep(stepid, 100, True)
    old_logs = [old] + [await db.logs.addLog(stepid, f"l{i}", f"l{i}", "t") for i in range(60)]
    first_step = (await db.logs.getLog(old))
    assert first_step is not None
    await db.steps.startStep(first_step.stepid, 100, True)
    db.clock.advance(100)
    _, new_step = await rows.step(db, "new")
    await db.steps.startStep(new_step, 200, True)
    new = await db.logs.addLog(new_step, "n", "n", "t")
    for logid in old_logs + [new]:
        await db.logs.appendLog(logid, "x\ny\n")
    assert await db.logs.deleteOldLogChunks(150) == len(old_logs)
    assert {(lg.type, lg.num_lines) for lg in [await db.logs.getLog(i) for i in old_logs]
            if lg} == {("d", 2)}
    assert await db.logs.getLogLines(new, 0, 1) == "x\ny\n"
    assert await db.logs.getLogLines(old, 0, 1) == ""
    assert await db.logs.deleteOldLogChunks(150) == 0


@pytest.mark.parametrize("method", ["raw", "gz"])
def test_chunks_planned_from_text_equal_the_line_by_line_plan(method: str) -> None:
    # appendLog cuts whole text by byte ranges; the rows must be those of the per-line plan,
    # including lines at and over the 64 KiB chunk limit and empty lines.
    from buildbot.db.logchunks import plan_chunks, plan_chunks_text
    codec = compression.codec(method)
    sizes = [0, 5, MAX_CHUNK_SIZE - 2, MAX_CHUNK_SIZE - 1, 3, MAX_CHUNK_SIZE, 0,
             MAX_CHUNK_SIZE + 10, 40000, 30000, 1]
    lines = [bytes([97 + i % 26]) * n for i, n in enumerate(sizes)]
    assert plan_chunks_text(b"".join(line + b"\n" for line in lines), codec) == \
        plan_chunks(lines, codec)
