"""Members of 4.3's util classes that user code reads or calls (issue 12): LRU cache
bookkeeping, line splitting state, action handlers, maildir notification, RunProcess."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, task

from buildbot.util.deferwaiter import DeferWaiter, NonRepeatedActionHandler
from buildbot.util.lineboundaries import LineBoundaryFinder
from buildbot.util.lru import AsyncLRUCache, LRUCache
from buildbot.util.maildir import MaildirService
from buildbot.util.runprocess import RunProcess


class Value:
    def __init__(self, key: Any) -> None:
        self.key = key


def test_lru_evicts_the_least_recently_used_key_not_the_oldest_stored() -> None:
    cache = LRUCache(lambda k: k * 10, max_size=2)
    cache.get(1)
    cache.get(2)
    cache.get(1)  # 1 is now more recent than 2
    cache.get(3)
    assert (sorted(cache.keys()), cache.hits, cache.misses) == ([1, 3], 1, 3)
    cache.inv()
    assert list(cache.queue)[-1] == 3 and cache.refcount[1] >= 1


def test_lru_recency_log_stays_bounded_by_max_queue() -> None:
    cache = LRUCache(lambda k: k, max_size=3)
    assert (cache.max_queue, LRUCache.QUEUE_SIZE_FACTOR) == (30, 10)
    for _ in range(100):
        cache.get(1)
    assert len(cache.queue) <= cache.max_queue
    assert cache.cache == {1: 1} and cache.refcount[1] == list(cache.queue).count(1)
    cache.inv()


def test_lru_set_max_size_evicts_least_recent_and_rescales_the_log() -> None:
    cache = LRUCache(lambda k: k, max_size=4)
    for k in (1, 2, 3, 4, 1):
        cache.get(k)
    cache.set_max_size(2)
    assert (sorted(cache.keys()), cache.max_queue) == ([1, 4], 20)
    cache.inv()


def test_lru_refhit_brings_back_an_evicted_value_still_alive() -> None:
    cache = LRUCache(Value, max_size=1)
    first = cache.get("a")
    cache.get("b")
    assert "a" not in cache.cache and cache.weakrefs["a"] is first
    assert cache.get("a") is first and cache.refhits == 1
    assert cache.get("zzz", ) is not LRUCache.sentinel


@pytest_twisted.ensureDeferred
async def test_async_lru_exposes_pending_misses_in_concurrent() -> None:
    pending: defer.Deferred[Value] = defer.Deferred()
    cache = AsyncLRUCache(lambda k: pending, max_size=2)
    d1, d2 = cache.get("k"), cache.get("k")
    assert list(cache.concurrent) == ["k"] and cache.misses == 1
    value = Value("k")
    pending.callback(value)
    assert (await d1, await d2, cache.concurrent) == (value, value, {})


def test_line_finder_cuts_an_over_long_line_and_warns_once(caplog: Any) -> None:
    finder = LineBoundaryFinder()
    size = finder.MAX_LINELENGTH
    assert finder.append("x" * (size + 10)) is None
    assert (finder.warned, finder.partialLine) == (False, "x" * (size + 10))
    out = finder.append("tail\n")
    assert out == "x" * size + "\n" + "x" * 10 + "\n" + "tail\n"
    assert finder.warned is True and finder.partialLine is None
    finder.append("y" * (size + 1))
    assert finder.flush() == "y" * size + "\ny\n"


def test_line_finder_keeps_a_trailing_cr_of_a_cut_line_for_crlf() -> None:
    finder = LineBoundaryFinder()
    finder.append("z" * (finder.MAX_LINELENGTH + 1) + "\r")
    assert finder.append("\nnext\n") == "z" * finder.MAX_LINELENGTH + "\nz\n\nnext\n"


def _handler(clock: task.Clock) -> tuple[NonRepeatedActionHandler, list[defer.Deferred[None]]]:
    runs: list[defer.Deferred[None]] = []

    def action() -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        runs.append(d)
        return d

    return NonRepeatedActionHandler(clock, DeferWaiter(), action), runs


def test_force_while_running_is_dropped_unless_asked_to_run_again() -> None:
    handler, runs = _handler(task.Clock())
    assert handler.force() is None
    handler.force()  # dropped: the first run is still going
    assert len(runs) == 1
    handler.force(invoke_again_if_running=True)
    runs[0].callback(None)
    assert len(runs) == 2  # exactly one more run, after the first finished
    runs[1].callback(None)
    assert len(runs) == 2


def test_schedule_keeps_the_earliest_request() -> None:
    clock = task.Clock()
    handler, runs = _handler(clock)
    handler.schedule(10)
    handler.schedule(30)  # later: ignored
    clock.advance(10)
    assert len(runs) == 1
    runs[0].callback(None)
    handler.schedule(30)
    handler.schedule(5)  # earlier: moves it
    clock.advance(5)
    assert len(runs) == 2
    runs[1].callback(None)
    assert clock.getDelayedCalls() == []


def test_maildir_notification_scans_new_messages(tmp_path: Path) -> None:
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "new" / "1.msg").write_text("hello")
    seen: list[str] = []

    class Recorder(MaildirService):
        def messageReceived(self, filename: str) -> None:
            seen.append(self.moveToCurDir(filename).read())

    Recorder(str(tmp_path)).dnotify_callback()
    assert seen == ["hello"] and os.listdir(tmp_path / "cur") == ["1.msg"]


def test_resolve_environment_adds_to_and_removes_from_the_os_environment() -> None:
    class Run(RunProcess):
        def get_os_env(self) -> dict[str, str]:
            return {"KEEP": "1", "DROP": "2", "CHANGE": "3"}

    run = Run(None, ["true"])
    assert run.resolve_environment({"DROP": None, "CHANGE": "4", "NEW": "5"}) == {
        "KEEP": "1", "CHANGE": "4", "NEW": "5"}
    assert run.resolve_environment(None) == {"KEEP": "1", "DROP": "2", "CHANGE": "3"}
    assert (RunProcess.TIMEOUT_KILL, RunProcess.interrupt_signal) == (5, "KILL")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_run_process_streams_to_a_consumer_and_removes_env_vars() -> None:
    from twisted.internet import reactor
    chunks: list[bytes] = []
    os.environ["BB_TEST_GONE"] = "x"
    try:
        cmd = [sys.executable, "-c",
               "import os; print(os.environ.get('BB_TEST_GONE', 'unset'), os.environ['PWD'])"]
        rc = await RunProcess(reactor, cmd, workdir="/", env={"BB_TEST_GONE": None},
                              collect_stdout=chunks.append, collect_stderr=False).start()
    finally:
        del os.environ["BB_TEST_GONE"]
    assert (rc, b"".join(chunks)) == (0, b"unset /\n")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_run_process_silent_too_long_is_killed_with_rc_minus_one() -> None:
    from twisted.internet import reactor
    run = RunProcess(reactor, ["sh", "-c", "echo started; exec sleep 30"], io_timeout=0.3)
    assert await run.start() == (-1, b"started\n", b"")
    assert (run.killed, run.result_signal, run.is_dead()) == (True, 15, True)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_run_process_ignoring_sigterm_gets_the_interrupt_signal() -> None:
    from twisted.internet import reactor
    script = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " \
             "print('ready', flush=True); time.sleep(30)"
    run = RunProcess(reactor, [sys.executable, "-c", script], runtime_timeout=None,
                     io_timeout=0.5, sigterm_timeout=0.2)
    rc, out, _ = await run.start()
    assert (rc, out, run.result_signal) == (-1, b"ready\n", 9)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_run_process_stderr_as_error_kills_at_the_first_byte() -> None:
    from twisted.internet import reactor
    run = RunProcess(reactor, ["sh", "-c", "echo bad >&2; exec sleep 30"], stderr_is_error=True)
    assert await run.start() == (-1, b"", b"bad\n")
    assert run.killed is True
