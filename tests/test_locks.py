"""Lock declarations, real locks (fairness, capacity changes, wake-ups, cancellation), the
registry and LockSet acquisition."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.locks import LockAccess, MasterLock, RealMasterLock, RealWorkerLock, WorkerLock
from buildbot.process.locks import BaseLock, LockRegistry, LockSet, as_access


class Owner:
    """A build or step standing in as a lock owner (compared by identity)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def master_lock(max_count: int = 1, name: str = "m") -> tuple[MasterLock, RealMasterLock]:
    lockid = MasterLock(name, maxCount=max_count)
    real = RealMasterLock(name)
    real.updateFromLockId(lockid, 0)
    return lockid, real


class Waits:
    """Records which owners' wait Deferreds fired."""

    def __init__(self, lock: BaseLock) -> None:
        self.lock = lock
        self.fired: list[str] = []
        self.pending: dict[str, defer.Deferred[Any]] = {}

    def wait(self, owner: Owner, access: LockAccess) -> defer.Deferred[Any]:
        d = self.lock.waitUntilMaybeAvailable(owner, access)
        d.addCallback(lambda result: self.fired.append(owner.name) or result)
        self.pending[owner.name] = d
        return d

    def take(self) -> list[str]:
        fired, self.fired = self.fired, []
        return fired


# --- declarations -------------------------------------------------------------------------


def test_access_records_lock_mode_and_count() -> None:
    lock = MasterLock("m", maxCount=3)
    access = lock.access("counting", count=2)
    assert (access.lockid, access.mode, access.count) == (lock, "counting", 2)
    assert (lock.access("exclusive").count, lock.access("counting", 0).count) == (1, 0)
    assert as_access(lock) == lock.defaultAccess() == LockAccess(lock, "counting", 1)


@pytest.mark.parametrize(("mode", "count"), [
    ("exclusive", 2), ("exclusive", 0), ("shared", 1), ("counting", -1), ("counting", 1.5),
    ("counting", "1"),
])
def test_invalid_access_is_an_assertion_failure(mode: str, count: Any) -> None:
    with pytest.raises(AssertionError):
        MasterLock("m").access(mode, count)


def test_declarations_compare_by_class_name_and_capacity() -> None:
    assert MasterLock("m") == MasterLock("m")
    assert hash(MasterLock("m")) == hash(MasterLock("m"))
    assert MasterLock("m") != MasterLock("m", maxCount=2)
    assert MasterLock("m") != WorkerLock("m")
    assert WorkerLock("w", 2, {"a": 3}) == WorkerLock("w", 2, {"a": 3})
    assert WorkerLock("w", 2, {"a": 3}) != WorkerLock("w", 2, {"a": 4})
    assert MasterLock("m").access("counting") == MasterLock("m").access("counting")
    assert len({MasterLock("m").access("exclusive"), MasterLock("m").access("exclusive")}) == 1


# --- one real lock --------------------------------------------------------------------------


def test_counting_claims_up_to_capacity() -> None:
    lockid, lock = master_lock(2)
    a, b, c = Owner("a"), Owner("b"), Owner("c")
    counting = lockid.access("counting")
    lock.claim(a, counting)
    lock.claim(b, counting)
    assert not lock.isAvailable(c, counting)
    assert not lock.isAvailable(c, lockid.access("exclusive"))
    assert (lock.isOwner(a, counting), lock.isOwner(c, counting)) == (True, False)
    assert not lock.isOwner(a, lockid.access("counting", 2))


def test_count_zero_is_always_available_and_claims_nothing() -> None:
    lockid, lock = master_lock(1)
    lock.claim(Owner("x"), lockid.access("exclusive"))
    zero = lockid.access("counting", 0)
    z = Owner("z")
    assert lock.isAvailable(z, zero)
    lock.claim(z, zero)
    assert [o.name for o, _ in lock.owners] == ["x"]


def test_claim_without_availability_fails() -> None:
    lockid, lock = master_lock(1)
    lock.claim(Owner("a"), lockid.access("exclusive"))
    with pytest.raises(AssertionError, match="ask for isAvailable"):
        lock.claim(Owner("b"), lockid.access("counting"))


def test_exclusive_waiter_blocks_later_counting_requests() -> None:
    lockid, lock = master_lock(3)
    counting, exclusive = lockid.access("counting"), lockid.access("exclusive")
    holder, x, c = Owner("holder"), Owner("x"), Owner("c")
    lock.claim(holder, counting)
    waits = Waits(lock)
    waits.wait(x, exclusive)
    # There is room for a counting claim, but the exclusive waiter came first.
    assert not lock.isAvailable(c, counting)
    waits.wait(c, counting)
    lock.release(holder, counting)
    assert waits.take() == ["x"]  # the counting waiter behind stays asleep
    lock.claim(x, exclusive)
    lock.release(x, exclusive)
    assert waits.take() == ["c"]


def test_counting_availability_counts_waiters_ahead_not_their_counts() -> None:
    # Buildbot 4.3's rule: held + number of waiters ahead + count <= maxCount.
    lockid, lock = master_lock(4)
    lock.claim(Owner("h"), lockid.access("counting", 1))
    Waits(lock).wait(Owner("big"), lockid.access("counting", 4))
    b = Owner("b")
    assert [lock.isAvailable(b, lockid.access("counting", n)) for n in (1, 2, 3)] == [
        True, True, False]


def test_release_wakes_front_to_back_until_one_does_not_fit() -> None:
    lockid, lock = master_lock(3)
    exclusive = lockid.access("exclusive")
    holder = Owner("holder")
    lock.claim(holder, exclusive)
    waits = Waits(lock)
    for name, access in [("c1", lockid.access("counting")), ("c2", lockid.access("counting")),
                         ("x", exclusive), ("c3", lockid.access("counting"))]:
        waits.wait(Owner(name), access)
    lock.release(holder, exclusive)
    assert waits.take() == ["c1", "c2"]


def queue_behind_holder(*names: str) -> tuple[BaseLock, LockAccess, Owner, list[Owner], Waits]:
    """A lock of capacity 1 held (counting) by 'holder', with `names` queued in order."""
    lockid, lock = master_lock(1)
    counting = lockid.access("counting")
    holder, queued = Owner("holder"), [Owner(n) for n in names]
    lock.claim(holder, counting)
    waits = Waits(lock)
    for owner in queued:
        waits.wait(owner, counting)
    return lock, counting, holder, queued, waits


def test_woken_waiter_keeps_its_place_until_it_claims() -> None:
    lock, counting, holder, (a, b), waits = queue_behind_holder("a", "b")
    lock.release(holder, counting)
    assert waits.take() == ["a"]
    assert (lock.isAvailable(a, counting), lock.isAvailable(b, counting)) == (True, False)
    lock.claim(a, counting)
    assert [w.owner for w in lock.waiting] == [b]


def test_stop_waiting_leaves_the_queue_and_wakes_those_behind() -> None:
    lock, counting, holder, (a, b), waits = queue_behind_holder("a", "b")
    lock.release(holder, counting)
    assert waits.take() == ["a"]
    lock.stopWaitingUntilAvailable(a, counting, waits.pending["a"])
    assert waits.take() == ["b"]
    lock.stopWaitingUntilAvailable(a, counting)  # not waiting any more: nothing happens
    assert [w.owner for w in lock.waiting] == [b]


def test_cancelling_the_wait_deferred_leaves_the_queue() -> None:
    lockid, lock = master_lock(1)
    counting = lockid.access("counting")
    lock.claim(Owner("holder"), counting)
    a = Owner("a")
    d = lock.waitUntilMaybeAvailable(a, counting)
    d.addErrback(lambda f: f.trap(defer.CancelledError))
    d.cancel()
    assert lock.waiting == []


def test_waiting_when_available_fires_at_once_without_queueing() -> None:
    lockid, lock = master_lock(1)
    d = lock.waitUntilMaybeAvailable(Owner("a"), lockid.access("counting"))
    assert d.called
    assert lock.waiting == []


def test_waiting_again_keeps_the_place_and_wakes_the_old_deferred() -> None:
    lock, counting, _, (a, b), waits = queue_behind_holder("a", "b")
    waits.wait(a, counting)
    assert waits.take() == ["a"]  # the first Deferred: an advisory wake-up
    assert [w.owner for w in lock.waiting] == [a, b]


def test_release_of_something_not_held_does_nothing() -> None:
    lockid, lock = master_lock(1)
    lock.claim(Owner("a"), lockid.access("counting"))
    lock.release(Owner("b"), lockid.access("counting"))
    assert len(lock.owners) == 1


def test_same_owner_may_claim_twice_and_releases_one_at_a_time() -> None:
    lockid, lock = master_lock(2)
    a, counting = Owner("a"), lockid.access("counting")
    lock.claim(a, counting)
    lock.claim(a, counting)
    lock.release(a, counting)
    assert lock.isOwner(a, counting)


def test_capacity_increase_wakes_waiters_and_decrease_evicts_nobody() -> None:
    lock, counting, a, (b, _), waits = queue_behind_holder("b", "c")
    assert isinstance(lock, RealMasterLock)
    lock.updateFromLockId(MasterLock("m", maxCount=2), 1)
    assert waits.take() == ["b"]
    lock.claim(b, counting)
    lock.updateFromLockId(MasterLock("m", maxCount=1), 2)
    assert (lock.isOwner(a, counting), lock.isOwner(b, counting)) == (True, True)
    lock.release(a, counting)
    assert waits.take() == []  # still 1 held with capacity 1


def test_older_config_does_not_change_capacity() -> None:
    _, lock = master_lock(1)
    lock.updateFromLockId(MasterLock("m", maxCount=3), 5)
    lock.updateFromLockId(MasterLock("m", maxCount=2), 4)
    assert lock.maxCount == 3
    with pytest.raises(AssertionError):
        lock.updateFromLockId(MasterLock("other"), 6)


def test_worker_lock_has_one_lock_per_worker_with_its_capacity() -> None:
    lockid = WorkerLock("w", maxCount=1, maxCountForWorker={"big": 2})
    real = RealWorkerLock("w")
    real.updateFromLockId(lockid, 0)
    big, small = real.getLockForWorker("big"), real.getLockForWorker("small")
    assert real.getLockForWorker("big") is big
    assert (big.maxCount, small.maxCount) == (2, 1)
    counting = lockid.access("counting")
    small.claim(Owner("a"), counting)
    assert big.isAvailable(Owner("b"), counting)  # other workers are unaffected
    real.updateFromLockId(WorkerLock("w", maxCount=4), 1)
    assert (big.maxCount, small.maxCount) == (4, 4)
    assert repr(big) == "<WorkerLock(w, 4)[big]>"


# --- registry ---------------------------------------------------------------------------


def test_registry_keeps_one_real_lock_per_kind_and_name() -> None:
    registry = LockRegistry()
    first = registry.get_real_lock(MasterLock("deploy"), 1)
    again = registry.get_real_lock(MasterLock("deploy", maxCount=3).access("counting"), 2)
    worker = registry.get_real_lock(WorkerLock("deploy"), 2)
    assert first is again
    assert isinstance(first, RealMasterLock) and first.maxCount == 3  # newest config wins
    assert isinstance(worker, RealWorkerLock)


def test_registry_resolves_lock_lists_for_a_worker() -> None:
    registry = LockRegistry()
    m, w = MasterLock("m"), WorkerLock("w", maxCountForWorker={"wk": 2})
    pairs = registry.resolve([m, w.access("exclusive")], 1, workername="wk")
    worker_real = registry.get_real_lock(w, 1)
    assert isinstance(worker_real, RealWorkerLock)
    assert pairs == [(registry.get_real_lock(m, 1), m.access("counting")),
                     (worker_real.getLockForWorker("wk"), w.access("exclusive"))]
    with pytest.raises(ValueError, match="used without a worker"):
        registry.resolve([w], 1)


# --- LockSet ----------------------------------------------------------------------------


def two_locks() -> tuple[list[tuple[BaseLock, LockAccess]], LockAccess, LockAccess]:
    registry = LockRegistry()
    l1, l2 = MasterLock("l1"), MasterLock("l2")
    pairs = registry.resolve([l1.access("exclusive"), l2.access("exclusive")], 1)
    return pairs, pairs[0][1], pairs[1][1]


@pytest_twisted.ensureDeferred
async def test_lock_set_claims_everything_when_free() -> None:
    pairs, _, _ = two_locks()
    build = Owner("build")
    locks = LockSet(build, pairs)
    assert await locks.acquire() is True
    assert [lock.isOwner(build, access) for lock, access in pairs] == [True, True]
    locks.release_all()
    assert [lock.owners for lock, _ in pairs] == [[], []]


@pytest_twisted.ensureDeferred
async def test_lock_set_never_holds_some_locks_while_waiting() -> None:
    pairs, _, a2 = two_locks()
    (l1, _), (l2, _) = pairs
    other = Owner("other")
    l2.claim(other, a2)
    build = Owner("build")
    locks = LockSet(build, pairs)
    acquired = defer.ensureDeferred(locks.acquire())
    assert not acquired.called
    assert l1.owners == [] and [w.owner for w in l2.waiting] == [build]
    l2.release(other, a2)
    assert await acquired is True
    assert l1.isOwner(build, pairs[0][1]) and l2.isOwner(build, a2)


@pytest_twisted.ensureDeferred
async def test_lock_set_restarts_the_check_after_each_wake_up() -> None:
    pairs, a1, a2 = two_locks()
    (l1, _), (l2, _) = pairs
    first, second, build = Owner("first"), Owner("second"), Owner("build")
    l1.claim(first, a1)
    acquired = defer.ensureDeferred(LockSet(build, pairs).acquire())
    l2.claim(second, a2)  # taken while the build waits on l1
    l1.release(first, a1)
    assert not acquired.called  # l1 free now, but l2 is not: wait on l2, keep l1's place
    assert l1.owners == [] and [w.owner for w in l1.waiting] == [build]
    assert not l1.isAvailable(Owner("late"), a1)
    l2.release(second, a2)
    assert await acquired is True


@pytest_twisted.ensureDeferred
async def test_cancel_makes_acquire_return_false_and_leaves_every_queue() -> None:
    pairs, a1, a2 = two_locks()
    (l1, _), (l2, _) = pairs
    first, second, build = Owner("first"), Owner("second"), Owner("build")
    l1.claim(first, a1)
    l2.claim(second, a2)
    locks = LockSet(build, pairs)
    acquired = defer.ensureDeferred(locks.acquire())
    l1.release(first, a1)  # the build moves on to wait for l2, keeping its place on l1
    locks.cancel()
    assert await acquired is False
    assert (l1.waiting, l2.waiting) == ([], [])
    assert l1.isAvailable(Owner("late"), a1)
    locks.release_all()  # nothing held: nothing to do
    assert l2.isOwner(second, a2)


@pytest_twisted.ensureDeferred
async def test_cancelling_the_acquire_deferred_leaves_the_queues() -> None:
    pairs, a1, _ = two_locks()
    (l1, _), _ = pairs
    l1.claim(Owner("first"), a1)
    acquired = defer.ensureDeferred(LockSet(Owner("build"), pairs).acquire())
    acquired.cancel()
    with pytest.raises(defer.CancelledError):
        await acquired
    assert l1.waiting == []


@pytest_twisted.ensureDeferred
async def test_release_all_lets_the_next_lock_set_in() -> None:
    pairs, _, _ = two_locks()
    one, two = LockSet(Owner("one"), pairs), LockSet(Owner("two"), pairs)
    assert one.try_claim() is True
    assert two.is_available() is False
    waiting = defer.ensureDeferred(two.acquire())
    one.release_all()
    assert await waiting is True
    assert one.try_claim() is False


def test_try_claim_takes_nothing_when_one_lock_is_busy() -> None:
    pairs, _, a2 = two_locks()
    (l1, _), (l2, _) = pairs
    l2.claim(Owner("other"), a2)
    locks = LockSet(Owner("build"), pairs)
    assert locks.try_claim() is False
    assert l1.owners == [] and l2.waiting == []


@pytest_twisted.ensureDeferred
async def test_lock_listed_twice_that_cannot_take_both_accesses_fails() -> None:
    lockid, lock = master_lock(1)
    counting = lockid.access("counting")
    locks = LockSet(Owner("build"), [(lock, counting), (lock, counting)])
    with pytest.raises(AssertionError, match="listed more than once"):
        await locks.acquire()
    assert lock.owners == []


@pytest_twisted.ensureDeferred
async def test_fifo_order_across_many_lock_sets() -> None:
    lockid, lock = master_lock(2)
    exclusive, counting = lockid.access("exclusive"), lockid.access("counting")
    order: list[str] = []
    holder = LockSet(Owner("holder"), [(lock, exclusive)])
    assert holder.try_claim()

    async def run(name: str, access: LockAccess) -> LockSet:
        locks = LockSet(Owner(name), [(lock, access)])
        await locks.acquire()
        order.append(name)
        return locks

    c1 = defer.ensureDeferred(run("c1", counting))
    x = defer.ensureDeferred(run("x", exclusive))
    c2 = defer.ensureDeferred(run("c2", counting))
    holder.release_all()
    assert order == ["c1"]  # x waits for c1; c2 waits behind x
    (await c1).release_all()
    assert order == ["c1", "x"]
    (await x).release_all()
    assert order == ["c1", "x", "c2"]
    (await c2).release_all()
