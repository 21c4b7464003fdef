"""Behaviour of the reference's helper classes and services that plugins use, checked
against what Buildbot 4.3 does with the same calls (values noted from its virtualenv)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, task

from buildbot.process.users import users
from buildbot.util import ComparableMixin, Notifier, asyncSleep, deferredLocked, eventual
from buildbot.util.backoff import BackoffTimeoutExceededError, ExponentialBackoffEngine
from buildbot.util.debounce import method as debounced
from buildbot.util.internal import InternalToReferenceError
from buildbot.util.lru import AsyncLRUCache, LRUCache
from buildbot.util.poll import method as polled
from buildbot.util.service import (
    AsyncMultiService,
    ReconfigurableServiceMixin,
    SharedService,
)
from buildbot.util.subscription import SubscriptionPoint
from buildbot.util.watchdog import Watchdog


class Value:
    """Weak-referenceable cache value."""

    def __init__(self, key: int) -> None:
        self.key = key


def test_lru_finds_an_evicted_value_still_in_use_instead_of_recomputing_it() -> None:
    calls: list[int] = []
    cache = LRUCache(lambda k: calls.append(k) or Value(k), max_size=2)
    first = cache.get(1)
    assert cache.get(1) is first
    cache.get(2)
    cache.get(3)  # evicts 1 from the LRU part; `first` keeps it alive
    assert cache.get(1) is first
    # 4.3: calls [1, 2, 3], hits 1, refhits 1, misses 3
    assert (calls, cache.hits, cache.refhits, cache.misses) == ([1, 2, 3], 1, 1, 3)


def test_lru_does_not_keep_none() -> None:
    cache = LRUCache(lambda k: None, max_size=2)
    assert cache.get(1) is None
    assert (list(cache.cache), cache.misses) == ([], 1)


@pytest_twisted.ensureDeferred
async def test_async_lru_shares_one_miss_between_concurrent_gets() -> None:
    pending: list[defer.Deferred[Value]] = []

    def miss(key: int) -> defer.Deferred[Value]:
        pending.append(defer.Deferred())
        return pending[-1]

    cache = AsyncLRUCache(miss, max_size=3)
    d1, d2 = cache.get(7), cache.get(7)
    value = Value(7)
    pending[0].callback(value)
    assert (await d1, await d2, len(pending)) == (value, value, 1)
    assert await cache.get(7) is value


def test_backoff_waits_grow_until_the_budget_is_spent() -> None:
    engine = ExponentialBackoffEngine(1, 2, 10)
    waits = [engine.calculate_wait_on_failure_seconds() for _ in range(4)]
    assert waits == [1, 2, 4, 3]  # as 4.3
    with pytest.raises(BackoffTimeoutExceededError):
        engine.calculate_wait_on_failure_seconds()
    engine.on_success()
    assert engine.calculate_wait_on_failure_seconds() == 1


def test_notifier_wakes_all_current_waiters_once() -> None:
    n = Notifier()
    got: list[object] = []
    n.wait().addCallback(got.append)
    n.wait().addCallback(got.append)
    assert n
    n.notify("x")
    later = n.wait()
    assert got == ["x", "x"] and not later.called


@pytest_twisted.ensureDeferred
async def test_eventually_runs_calls_in_order_on_a_later_turn() -> None:
    clock = task.Clock()
    eventual._setReactor(clock)
    try:
        seen: list[int] = []
        eventual.eventually(seen.append, 1)
        d = eventual.fireEventually(2)
        d.addCallback(seen.append)
        flushed = eventual.flushEventualQueue()
        assert seen == [] and not flushed.called
        clock.advance(0)
        await flushed
        assert seen == [1, 2]
    finally:
        eventual._setReactor(None)


def test_async_sleep_fires_after_the_delay() -> None:
    clock = task.Clock()
    d = asyncSleep(5, reactor=clock)
    clock.advance(4.9)
    assert not d.called
    clock.advance(0.1)
    assert d.called


def test_deferred_locked_serialises_calls() -> None:
    class Thing:
        def __init__(self) -> None:
            self.lock = defer.DeferredLock()
            self.gates: list[defer.Deferred[None]] = []

        @deferredLocked("lock")
        def work(self) -> defer.Deferred[None]:
            self.gates.append(defer.Deferred())
            return self.gates[-1]

    t = Thing()
    t.work()
    done: list[int] = []
    t.work().addCallback(lambda _: done.append(2))
    assert len(t.gates) == 1  # the second waits for the lock
    t.gates[0].callback(None)
    assert len(t.gates) == 2 and done == []
    t.gates[1].callback(None)
    assert done == [2]


def test_comparable_mixin_compares_the_attributes_of_every_class() -> None:
    class A(ComparableMixin):
        compare_attrs = ("x",)

        def __init__(self, x: int, y: int | None = None) -> None:
            self.x, self.y = x, y

    class B(A):
        compare_attrs = ("y",)

    # 4.3: True False False {'x': 1, 'y': 2}
    assert (B(1, 2) == B(1, 2), B(1, 2) == B(1, 3), A(1) == B(1)) == (True, False, False)
    assert B(1, 2).getConfigDict() == {"x": 1, "y": 2}
    assert [a.x for a in sorted([A(3), A(1), A(2)])] == [1, 2, 3]


def test_shared_service_name_depends_only_on_the_arguments() -> None:
    class S(SharedService):
        pass

    # recorded from 4.3
    assert S.getName("http://x", auth=("u", "p"), n=1) == \
        "S_cc88efde360a790ea8d11277ed24c49086288512"


@pytest_twisted.ensureDeferred
async def test_shared_service_is_created_once_per_parent() -> None:
    class S(SharedService):
        def __init__(self, url: str) -> None:
            super().__init__()
            self.url = url

    parent = AsyncMultiService()
    await parent.startService()
    a = await S.getService(parent, "http://a")
    b = await S.getService(parent, "http://a")
    c = await S.getService(parent, "http://b")
    assert a is b and a is not c and a.running
    assert parent.services[:2] == [c, a]  # shared services stop last
    await parent.stopService()


@pytest_twisted.ensureDeferred
async def test_reconfigurable_mixin_reconfigures_children_by_priority() -> None:
    order: list[str] = []

    class Child(ReconfigurableServiceMixin, AsyncMultiService):
        def __init__(self, name: str, prio: int) -> None:
            super().__init__(name=name)
            self.reconfig_priority = prio

        def reconfigServiceWithBuildbotConfig(self, new_config: object) -> None:
            order.append(self.name)

    class Parent(ReconfigurableServiceMixin, AsyncMultiService):
        pass

    parent = Parent()
    for name, prio in (("low", 1), ("high", 500), ("mid", 128)):
        Child(name, prio).setServiceParent(parent)
    await parent.reconfigServiceWithBuildbotConfig(object())
    assert order == ["high", "mid", "low"]


def test_debounced_method_runs_once_per_burst_and_once_more_if_called_while_running() -> None:
    clock = task.Clock()

    class Thing:
        def __init__(self) -> None:
            self.runs: list[defer.Deferred[None]] = []

        @debounced(wait=2, get_reactor=lambda self: clock)
        def refresh(self) -> defer.Deferred[None]:
            self.runs.append(defer.Deferred())
            return self.runs[-1]

    t = Thing()
    t.refresh()
    t.refresh()
    clock.advance(2)
    assert len(t.runs) == 1
    t.refresh()  # while running: queued for after
    t.runs[0].callback(None)
    clock.advance(2)
    assert len(t.runs) == 2
    t.runs[1].callback(None)
    assert t.refresh.stop().called


def test_poll_method_polls_periodically_and_on_demand() -> None:
    clock = task.Clock()

    class Master:
        reactor = clock

    class Poller:
        master = Master()

        def __init__(self) -> None:
            self.count = 0

        @polled
        def poll(self) -> None:
            self.count += 1

    p = Poller()
    p.poll.start(interval=10, now=True)
    clock.advance(0)
    assert p.count == 1
    clock.advance(10)
    assert p.count == 2
    forced = p.poll()
    clock.advance(0)
    assert forced.called and p.count == 3
    assert p.poll.stop().called
    clock.advance(100)
    assert p.count == 3


def test_subscription_point_delivers_and_keeps_exceptions() -> None:
    point = SubscriptionPoint("changes")
    got: list[int] = []
    sub = point.subscribe(got.append)

    def broken(_: int) -> None:
        raise ValueError("boom")

    point.subscribe(broken)
    point.deliver(1)
    sub.unsubscribe()
    point.deliver(2)
    failures = point.pop_exceptions()
    assert got == [1] and failures is not None and len(failures) == 2
    assert point.pop_exceptions() is None


def test_watchdog_fires_unless_notified() -> None:
    clock = task.Clock()
    fired: list[bool] = []
    dog = Watchdog(clock, lambda: fired.append(True), 5)
    dog.start()
    clock.advance(4)
    dog.notify()
    clock.advance(4)
    assert fired == []
    clock.advance(1)
    assert fired == [True]


def test_password_made_by_buildbot_4_3_is_checked() -> None:
    stored = "7b228e607e91741cb67b2d208e6db51ce18e50a8a15844876dd54c31"  # 4.3 encrypt("secret")
    assert users.check_passwd("secret", stored)
    assert not users.check_passwd("other", stored)
    assert users.check_passwd("x", users.encrypt("x"))


def test_a_4_3_internal_imports_and_says_what_it_is_when_used() -> None:
    from buildbot.util.sautils import InsertFromSelect
    with pytest.raises(InternalToReferenceError, match="buildbot.util.sautils.InsertFromSelect "
                                                       "is internal to Buildbot 4.3"):
        InsertFromSelect(None, None)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_run_process_result_shape_follows_what_is_collected() -> None:
    from twisted.internet import reactor

    from buildbot.util.runprocess import run_process
    cmd = ["sh", "-c", "echo out $X; echo err >&2; exit 3"]
    # 4.3: (3, b'out y\n', b'err\n'), (3, b'err\n'), 3, (-1, b'out\n', b'err\n')
    assert await run_process(reactor, cmd, env={"X": "y"}) == (3, b"out y\n", b"err\n")
    assert await run_process(reactor, cmd, collect_stdout=False) == (3, b"err\n")
    assert await run_process(reactor, cmd, collect_stdout=False, collect_stderr=False) == 3
    assert await run_process(reactor, cmd, stderr_is_error=True) == (-1, b"out\n", b"err\n")
    with pytest.raises(FileNotFoundError):
        await run_process(reactor, ["/nonexistent/program"])


@pytest_twisted.ensureDeferred
async def test_metric_events_reach_the_running_observer() -> None:
    from buildbot.process import metrics
    observer = metrics.MetricLogObserver()
    await observer.startService()
    try:
        metrics.MetricCountEvent.log("builds", 2)
        metrics.MetricCountEvent.log("builds", 1)
        metrics.MetricTimeEvent.log("step", 0.5)
        metrics.MetricAlarmEvent.log("disk", msg="low", level=metrics.ALARM_WARN)
        handler = metrics.MetricCountHandler(observer)
        assert (handler.get("builds"), metrics.MetricTimeHandler(observer).get("step"),
                observer.alarms["disk"]) == (3, 0.5, ("WARN", "low"))
    finally:
        await observer.stopService()
    metrics.MetricCountEvent.log("builds", 1)  # no longer observed
    assert observer.counters["builds"] == 3


def test_properties_expose_the_sources_a_renderer_reads() -> None:
    from buildbot.process.properties import Properties
    props = Properties()
    with pytest.raises(AttributeError, match="neither build nor _sourcestamps are set"):
        props.getSourceStamp()
    props.sourcestamps = [{"codebase": "", "revision": "abc"}, {"codebase": "lib", "revision": "d"}]
    props.changes = [{"files": ["a", "b"]}, {"files": ["c"]}]
    assert (props.getSourceStamp(), props.getSourceStamp("lib")["revision"],
            props.getSourceStamp("none"), props.files) == \
        ({"codebase": "", "revision": "abc"}, "d", None, ["a", "b", "c"])


def test_secret_details_and_keyed_sets_behave_as_in_4_3() -> None:
    from buildbot.secrets.secret import SecretDetails
    from buildbot.util.bbcollections import KeyedSets
    s = SecretDetails("file", "k", "v")
    # 4.3: "file k: 'v'", equal to an identical one, not to another value
    assert (str(s), s == SecretDetails("file", "k", "v"), s == SecretDetails("file", "k", "w")) \
        == ("file k: 'v'", True, False)
    ks = KeyedSets()
    ks.add("a", 1)
    ks.add("a", 2)
    ks.discard("a", 1)
    assert (ks["a"], "a" in ks, ks["zz"], ks.pop("a"), "a" in ks) == ({2}, True, set(), {2},
                                                                       False)


def test_enforce_chosen_worker_keeps_a_request_on_the_worker_it_names() -> None:
    from buildbot.process.builder import enforceChosenWorker
    from buildbot.process.properties import Properties

    class Request:
        def __init__(self, **props: object) -> None:
            self.properties = Properties(**props)

    class WorkerForBuilder:
        class worker:  # stands for the worker object
            workername = "w1"

    wfb = WorkerForBuilder()
    # 4.3: True False True True
    assert [enforceChosenWorker(None, wfb, Request(workername="w1")),
            enforceChosenWorker(None, wfb, Request(workername="w2")),
            enforceChosenWorker(None, wfb, Request()),
            enforceChosenWorker(None, wfb, Request(workername=5))] == [True, False, True, True]


def test_protect_redirect_url_cuts_at_the_first_line_break() -> None:
    from buildbot.www.resource import protect_redirect_url
    # recorded from 4.3
    assert [protect_redirect_url(u) for u in (b"http://a\r\nX: y", b"http://a/b\nc", b"a\rb\rc",
                                               b"ok")] == [b"http://a", b"http://a/b", b"a", b"ok"]


@pytest_twisted.ensureDeferred
async def test_async_sort_sorts_in_place_by_awaited_keys() -> None:
    from buildbot.util.async_sort import async_sort

    async def key(x: int) -> int:
        return -x

    items = [3, 1, 2]
    await async_sort(items, key)
    assert items == [3, 2, 1]


@pytest_twisted.ensureDeferred
async def test_async_to_deferred_and_defer_waiter() -> None:
    from buildbot.util.deferwaiter import DeferWaiter
    from buildbot.util.twisted import async_to_deferred

    @async_to_deferred
    async def double(x: int) -> int:
        return 2 * x

    d = double(4)
    assert isinstance(d, defer.Deferred) and await d == 8
    waiter = DeferWaiter()
    pending: defer.Deferred[None] = defer.Deferred()
    waiter.add(pending)
    done = waiter.wait()
    assert waiter.has_waited() and not done.called
    pending.callback(None)
    assert done.called and not waiter.has_waited()


def test_private_temporary_directory_is_owner_only_and_removed(tmp_path: Path) -> None:
    import os
    import stat

    from buildbot.util.private_tempdir import PrivateTemporaryDirectory
    with PrivateTemporaryDirectory(dir=str(tmp_path)) as path:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
        os.chmod(path, 0o500)  # even a read-only directory is removed
    assert not os.path.exists(path)
