"""The log hot path does its work per chunk and per reactor turn, not per line (issue 16).

Counted, not timed: database transactions and log messages for N lines, and that the
chunk-wise line cutting gives exactly the lines the line-by-line cutting gives.
"""

from __future__ import annotations

import random
from typing import Any

import pytest_twisted
from sqlalchemy import event
from twisted.internet import task

from buildbot.process.log import (
    STREAMING_SIZE,
    WRITE_INTERVAL,
    LineSplitter,
    new_log,
    tag_lines,
)
from buildbot.process.logobserver import LogLineObserver
from buildbot.util.eventual import fireEventually
from tests.fixtures.stack import Stack

LINE = "compiling src/module_%d.c -O2 -Wall -o build/m.o\n"


def _count_statements(stack: Stack) -> list[str]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(stack.db.pool.engine, "before_cursor_execute", before)
    return seen


@pytest_twisted.ensureDeferred
async def test_chunks_of_one_reactor_turn_are_stored_in_one_transaction(stack: Stack) -> None:
    row = await stack.make_log()
    loog: Any = new_log(stack.updates, "stdio", "s", row.id)
    appends = stack.mq_record(("logs", str(row.id), "append"))
    statements = _count_statements(stack)
    # 200 worker updates of 50 lines arriving in one turn (one PB message carries several),
    # the last one cut in the middle of a line
    pieces = ["".join(LINE % (i * 50 + j) for j in range(50)) for i in range(200)]
    pieces[-1] += "partial"
    stored = [loog.addStdout(p) if i % 7 else loog.addStderr(p) for i, p in enumerate(pieces)]
    for d in stored:
        await d
    assert statements.count("INSERT") == 1  # one transaction: one row batch
    assert statements.count("UPDATE") == 1
    assert len(appends) == 1
    await loog.finish()
    content = await stack.data.get(("logs", row.id, "contents"))
    lines = content["content"].splitlines()
    assert len(lines) == 10_001 and lines[-1] == "opartial"
    assert lines[0] == "e" + LINE.rstrip("\n") % 0 and lines[50] == "o" + LINE.rstrip("\n") % 50


@pytest_twisted.ensureDeferred
async def test_writes_arriving_during_a_write_go_out_together(stack: Stack) -> None:
    row = await stack.make_log()
    loog: Any = new_log(stack.updates, "stdio", "s", row.id)
    appends = stack.mq_record(("logs", str(row.id), "append"))
    first = loog.addStdout(LINE % 0)
    await first  # one transaction in flight at a time; then all that came meanwhile
    pending = [loog.addStdout(LINE % i) for i in range(1, 1001)]
    for d in pending:
        await d
    await loog.finish()
    assert len(appends) == 2
    assert appends[-1][1]["num_lines"] == 1001


def test_chunkwise_cutting_gives_the_lines_of_line_by_line_cutting() -> None:
    rnd = random.Random(16)
    atoms = ["a", "bb", "\n", "\r\n", "\r", "x" * 9, "\x08", "\x1b[u", "\x1b[2J"]
    for _ in range(500):
        text = "".join(rnd.choice(atoms) for _ in range(rnd.randint(0, 40)))
        cuts = sorted(rnd.sample(range(len(text) + 1), min(3, len(text) + 1)))
        whole, by_line = LineSplitter(8), LineSplitter(8)
        for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True):
            got = whole.append_text(text[a:b])
            lines = by_line.append(text[a:b])
            assert got == "".join(lines)
            assert all(line.endswith("\n") and "\n" not in line[:-1] for line in lines)
            if got:
                assert tag_lines("e", got) == "".join("e" + line for line in lines)
        assert whole.partial == by_line.partial and len(whole.partial) <= 8


def _streaming_piece(start: int) -> str:
    """Whole lines totalling at least STREAMING_SIZE characters."""
    count = STREAMING_SIZE // len(LINE % start) + 1
    return "".join(LINE % i for i in range(start, start + count))


@pytest_twisted.ensureDeferred
async def test_a_streaming_log_writes_once_per_interval(stack: Stack) -> None:
    row = await stack.make_log()
    clock = task.Clock()
    loog: Any = new_log(stack.updates, "stdio", "s", row.id, clock=clock)
    appends = stack.mq_record(("logs", str(row.id), "append"))
    pieces = [_streaming_piece(i * 1000) for i in range(6)]
    await loog.addStdout(pieces[0])  # the first goes out at the end of the turn
    held = [loog.addStdout(p) for p in pieces[1:]]
    for _ in range(3):  # worker messages arriving on later turns are held too
        await fireEventually()
    assert len(appends) == 1 and not any(d.called for d in held)

    clock.advance(WRITE_INTERVAL)
    for d in held:
        await d

    assert [body["num_lines"] for _, body in appends] == [
        sum(p.count("\n") for p in pieces[:n]) for n in (1, 6)]


@pytest_twisted.ensureDeferred
async def test_finishing_a_streaming_log_writes_what_is_held_at_once(stack: Stack) -> None:
    row = await stack.make_log()
    clock = task.Clock()  # never advanced
    loog: Any = new_log(stack.updates, "stdio", "s", row.id, clock=clock)
    pieces = [_streaming_piece(i * 1000) for i in range(3)]
    await loog.addStdout(pieces[0])
    held = [loog.addStdout(p) for p in pieces[1:]]

    await loog.finish()

    assert all(d.called for d in held) and not clock.getDelayedCalls()
    content = await stack.data.get(("logs", row.id, "contents"))
    assert content["content"] == "".join(tag_lines("o", p) for p in pieces)


@pytest_twisted.ensureDeferred
async def test_small_writes_are_not_held(stack: Stack) -> None:
    row = await stack.make_log()
    clock = task.Clock()  # never advanced: a held write would never complete
    loog: Any = new_log(stack.updates, "stdio", "s", row.id, clock=clock)
    appends = stack.mq_record(("logs", str(row.id), "append"))
    for i in range(5):
        await loog.addStdout(LINE % i)
    assert len(appends) == 5 and not clock.getDelayedCalls()
    await loog.finish()


def test_a_line_observer_gets_the_lines_of_line_by_line_cutting() -> None:
    rnd = random.Random(4)
    atoms = ["a", "bb", "\n", "\r\n", "\r", "x" * 9, "\x08", "\n\n"]

    class Lines(LogLineObserver):
        def __init__(self) -> None:
            super().__init__()
            self.got: list[tuple[str, str]] = []

        def outLineReceived(self, line: str) -> None:
            self.got.append(("o", line))

        def errLineReceived(self, line: str) -> None:
            self.got.append(("e", line))

    for _ in range(300):
        observer, by_line = Lines(), {"o": LineSplitter(), "e": LineSplitter()}
        observer.setMaxLineLength(8)
        for s in by_line.values():
            s.max_line_length = 8
        expected: list[tuple[str, str]] = []
        for _ in range(rnd.randint(0, 6)):
            stream = rnd.choice("oe")
            text = "".join(rnd.choice(atoms) for _ in range(rnd.randint(0, 12)))
            observer.gotData(stream, text)
            expected += [(stream, line[:-1]) for line in by_line[stream].append(text)]
        observer.gotData(None, None)
        for stream in "oe":
            expected += [(stream, line[:-1]) for line in by_line[stream].flush()]
        assert observer.got == expected
