"""Which master reports an event when every master hears every event (a shared mq)."""

from __future__ import annotations

from collections.abc import Set
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_twisted

from buildbot.reporters.base import ReporterBase

pytestmark = pytest.mark.multimaster


class FakeData:
    def __init__(self, requests: list[dict[str, Any]], taken_over: set[int]) -> None:
        self.requests = requests
        self.taken_over = taken_over

    async def get(self, path: Any, filters: Any = None) -> list[dict[str, Any]]:
        assert path == ("buildrequests",)
        return self.requests


class Reporter(ReporterBase):
    master: Any = None  # a plain attribute here (no service tree)


def reporter(me: int, *, active: set[int], taken_over: Set[int] = frozenset(),
             mq: str = "wamp", requests: list[dict[str, Any]] | None = None) -> Any:
    master = SimpleNamespace(
        masterid=me, active_masterids=active,
        config=SimpleNamespace(multiMaster=True, mq={"type": mq}),
        data=FakeData(requests or [], set(taken_over)))
    r = object.__new__(Reporter)
    r.master = master
    return r


@pytest_twisted.ensureDeferred
async def test_build_events_are_reported_by_the_builds_master_or_its_expirer() -> None:
    key, msg = ("builds", "7", "finished"), {"buildid": 7, "masterid": 2}
    assert await reporter(2, active={1, 2})._reports_here(key, msg)
    assert not await reporter(1, active={1, 2})._reports_here(key, msg)
    # master 2 died; master 1 expired it and ended its builds RETRY
    assert await reporter(1, active={1}, taken_over={2})._reports_here(key, msg)
    assert not await reporter(3, active={1, 3})._reports_here(key, msg)
    # master 2 is back under the same id: it reports its builds itself again
    assert not await reporter(1, active={1, 2}, taken_over={2})._reports_here(key, msg)


@pytest_twisted.ensureDeferred
async def test_buildset_completion_is_reported_by_the_master_completing_it() -> None:
    reqs = [{"buildrequestid": 1, "complete": True, "complete_at": 100,
             "claimed_by_masterid": 1},
            {"buildrequestid": 2, "complete": True, "complete_at": 105,
             "claimed_by_masterid": 3}]
    key, msg = ("buildsets", "4", "complete"), {"bsid": 4}
    assert await reporter(3, active={1, 3}, requests=reqs)._reports_here(key, msg)
    assert not await reporter(1, active={1, 3}, requests=reqs)._reports_here(key, msg)


@pytest_twisted.ensureDeferred
async def test_other_events_by_the_lowest_active_master_and_all_with_a_private_mq() -> None:
    key, msg = ("buildrequests", "9", "new"), {"buildrequestid": 9}
    assert await reporter(2, active={2, 5})._reports_here(key, msg)
    assert not await reporter(5, active={2, 5})._reports_here(key, msg)
    # the simple mq: each master hears only its own events, and reports them all
    assert await reporter(5, active={2, 5}, mq="simple")._reports_here(key, msg)
    assert await reporter(5, active={2, 5}, mq="simple")._reports_here(
        ("builds", "1", "new"), {"masterid": 2})
