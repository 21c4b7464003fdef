"""Shared test policy: tests fail if they log errors, leave delayed calls behind, or (unit
tests) run longer than a second. Fixtures for real stacks live in `tests/fixtures/`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import txaio
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from tests.fixtures.reactor import global_reactor

# autobahn's WAMP modules bind to the async framework txaio has selected when they are first
# imported; a test module importing `autobahn.wamp.*` at collection, before anything imported
# `autobahn.twisted`, left them unbound and a later in-process WAMP mq never joined its
# router. The master selects Twisted itself (buildbot.mq.wamp); the suite does it first.
txaio.use_twisted()

pytest_plugins = ["tests.fixtures.plugin"]

# Tests run git in their own temporary repositories; a GIT_DIR inherited from a caller (a git
# hook, `git bisect run`) would point those commands at this project's repository instead.
for _var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX"):
    os.environ.pop(_var, None)

# A database server reached through a pure-Python driver (pymysql, psycopg) spends client CPU
# that the SQLite default does not, so the same unit test gets three times the budget there.
_SERVER_DB = not os.environ.get("BUILDBOT_TEST_DB_URL", "sqlite").startswith("sqlite")
UNIT_TEST_LIMIT_S = 3.0 if _SERVER_DB else 1.0
UNIT_TEST_WALL_LIMIT_S = 15.0


class LoggedErrors:
    """Errors logged during a test. A test that expects errors calls `flush` for them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("log_level") in (LogLevel.error, LogLevel.critical) or event.get("isError"):
            self.events.append(event)

    def flush(self, match: str | type[BaseException] | None = None) -> list[dict[str, Any]]:
        """Remove and return the logged errors matching `match` (exception type or text)."""
        taken, kept = [], []
        for ev in self.events:
            f = ev.get("log_failure")
            if match is None:
                hit = True
            elif isinstance(match, type):
                hit = f is not None and f.check(match) is not None
            else:
                hit = match in (formatEvent(ev) or "") or (f is not None and match in str(f.value))
            (taken if hit else kept).append(ev)
        self.events = kept
        return taken

    def describe(self) -> str:
        out = []
        for ev in self.events:
            text = formatEvent(ev)
            f = ev.get("log_failure")
            if f is not None:
                text += "\n" + f.getTraceback()
            out.append(text)
        return "\n---\n".join(out)


@pytest.fixture(autouse=True)
def logged_errors() -> Iterator[LoggedErrors]:
    errors = LoggedErrors()
    globalLogPublisher.addObserver(errors)
    yield errors
    globalLogPublisher.removeObserver(errors)
    if errors.events:
        pytest.fail(f"test logged {len(errors.events)} error(s):\n{errors.describe()}")


@pytest.fixture(autouse=True)
def no_leftover_delayed_calls() -> Iterator[None]:
    reactor = global_reactor()

    before = set(reactor.getDelayedCalls())
    yield
    left = [c for c in reactor.getDelayedCalls()
            if c not in before and c.active()]
    if left:
        for c in left:
            c.cancel()
        pytest.fail(f"test left delayed calls behind: {left!r}")


def _pool_threads() -> set[Any]:
    import threading

    # The reactor's own pool lives for the whole session (pytest-twisted stops it).
    return {t for t in threading.enumerate() if t.name.startswith("PoolThread-")
            and not t.name.startswith("PoolThread-twisted.internet.reactor")}


@pytest.fixture(autouse=True)
def no_leftover_thread_pools() -> Iterator[None]:
    """A thread pool left running (e.g. a DBConnector never stopped) would keep the test
    process from exiting; fail the test that started it."""
    before = _pool_threads()
    yield
    left = [t for t in _pool_threads() - before if t.is_alive()]
    if left:
        pytest.fail(f"test left thread pools running: {sorted(t.name for t in left)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # The limit is on the CPU this process spends (what "a fast unit test" means), so a busy
    # machine cannot break it; the wall clock only gets a generous bound that catches a unit
    # test waiting on something it should not (a timer, a subprocess, the network).
    wall, cpu = time.monotonic(), time.process_time()
    yield
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    slow_ok = any(item.get_closest_marker(m) for m in ("integration", "browser", "slow"))
    if not slow_ok and (cpu > UNIT_TEST_LIMIT_S or wall > UNIT_TEST_WALL_LIMIT_S):
        pytest.fail(f"unit test used {cpu:.2f}s of CPU in {wall:.2f}s (limits "
                    f"{UNIT_TEST_LIMIT_S}s CPU, {UNIT_TEST_WALL_LIMIT_S}s wall); "
                    "mark it integration or make it faster")
