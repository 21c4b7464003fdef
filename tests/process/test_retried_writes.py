"""RetriedWrites: the end records of builds, kept while the database refuses them."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import task

from buildbot.data.exceptions import StorageError
from buildbot.process.retried_writes import RetriedWrites, storage_reason


def refused(text: str = "database or disk is full") -> StorageError:
    """What the DB pool raises: the driver's error as the cause."""
    cause = Exception(text)
    err = StorageError("LogsDb._append_lines.thd_append", cause)
    err.__cause__ = cause
    return err


class Database:
    """Stands in for the data API's update methods: refuses writes while `full`."""

    def __init__(self) -> None:
        self.full = False
        self.stored: list[str] = []
        self.attempts = 0

    def write(self, what: str) -> Any:
        async def run() -> None:
            self.attempts += 1
            if self.full:
                raise refused()
            self.stored.append(what)
        return run


@pytest_twisted.ensureDeferred
async def test_write_goes_through_at_once_when_the_database_takes_it() -> None:
    db, clock = Database(), task.Clock()
    writes = RetriedWrites(clock)
    assert await writes.store("finish build 1", db.write("b1")) is True
    assert (db.stored, writes.waiting) == (["b1"], [])


@pytest_twisted.ensureDeferred
async def test_refused_writes_are_stored_in_order_once_space_returns(logged_errors: Any) -> None:
    db, clock = Database(), task.Clock()
    recovered: list[bool] = []
    writes = RetriedWrites(clock, first_delay=1, max_delay=4,
                           on_recovered=lambda: recovered.append(True))
    db.full = True
    assert await writes.store("finish step 1", db.write("s1")) is False
    # Queued behind the first even though it is never tried alone: order is kept.
    assert await writes.store("finish build 1", db.write("b1")) is False
    assert writes.waiting == ["finish step 1", "finish build 1"]
    assert db.attempts == 1
    clock.advance(1)
    clock.advance(2)
    clock.advance(4)
    clock.advance(4)  # the delay stops growing at max_delay
    assert db.attempts == 5 and db.stored == []
    db.full = False
    clock.advance(4)
    assert (db.stored, writes.waiting, recovered) == (["s1", "b1"], [], [True])
    await writes.stop()


@pytest_twisted.ensureDeferred
async def test_stop_makes_a_last_attempt_then_reports_what_is_lost(logged_errors: Any) -> None:
    db, clock = Database(), task.Clock()
    writes = RetriedWrites(clock)
    db.full = True
    await writes.store("finish build 7", db.write("b7"))
    await writes.stop()  # returns at once: nothing waits for the retry delay
    assert len(writes) == 0 and clock.getDelayedCalls() == []
    lost = logged_errors.flush("not stored")
    assert [ev["lost"] for ev in lost] == ["finish build 7"]


@pytest_twisted.ensureDeferred
async def test_stop_stores_what_the_database_takes_again() -> None:
    db, clock = Database(), task.Clock()
    writes = RetriedWrites(clock)
    db.full = True
    await writes.store("finish build 8", db.write("b8"))
    db.full = False
    await writes.stop()
    assert db.stored == ["b8"]


@pytest_twisted.ensureDeferred
async def test_a_write_failing_for_another_reason_is_dropped_not_retried(
        logged_errors: Any) -> None:
    db, clock = Database(), task.Clock()
    writes = RetriedWrites(clock)
    db.full = True
    await writes.store("finish step 1", db.write("s1"))

    async def wrong() -> None:
        raise ValueError("a request cannot be completed with a retry status")

    await writes.store("complete build requests [1]", wrong)
    db.full = False
    clock.advance(1)
    assert (db.stored, writes.waiting) == (["s1"], [])
    assert logged_errors.flush("dropped")
    await writes.stop()


def test_storage_reason_is_the_drivers_message() -> None:
    assert storage_reason(refused()) == "database or disk is full"
