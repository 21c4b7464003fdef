"""Locks: the master.cfg declarations and the real locks builds and steps claim.

Declarations (`MasterLock`, `WorkerLock`, re-exported by `buildbot.locks`) only name a lock
and its capacity; `lock.access(mode, count)` says how a builder or step uses it. The
`LockRegistry` keeps one real lock per (kind, name): a `RealMasterLock`, or a
`RealWorkerLock` holding one `BaseLock` per worker name.

A real lock is a FIFO queue with holders. A counting request fits iff there is no exclusive
holder, every waiter ahead of it is counting, and `held + waiters ahead + count <= maxCount`;
an exclusive request fits iff there are no holders and no waiters ahead. Wake-ups are advisory
(the woken owner checks again) and go front to back, stopping at the first waiter that does
not fit, so an exclusive waiter is never starved. A woken waiter keeps its place in the queue
until it claims or stops waiting.

Everything here is synchronous except waiting, which returns a Deferred; nothing touches the
reactor, so wake-ups run in the call that freed the lock, after its state is updated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from twisted.internet import defer

from buildbot.util.comparable import ConfigViewMixin
from buildbot.util.service import SharedService
from buildbot.util.subscription import Subscription, SubscriptionPoint

from buildbot.util.internal import internal_function

COUNTING = "counting"
EXCLUSIVE = "exclusive"


# --- declarations (master.cfg) --------------------------------------------------------------


class BaseLockId(ConfigViewMixin):
    """A lock declaration: a name and a capacity. Equal declarations (same class, name and
    capacities) stand for the same lock across reconfigurations."""

    name: str
    maxCount: int
    compare_attrs: tuple[str, ...] = ("name", "maxCount")
    lockClass: ClassVar[type[Any]]  # the real lock class (set below the real lock classes)

    def access(self, mode: str, count: int = 1) -> LockAccess:
        """How a builder or step uses this lock: 'counting' (count >= 0) or 'exclusive'."""
        return LockAccess(self, mode, count)

    def defaultAccess(self) -> LockAccess:
        """The access a bare lock in a `locks` list means: counting, count 1."""
        return LockAccess(self, COUNTING, 1)

    def _identity(self) -> tuple[Any, ...]:
        return (type(self), self.name, self.maxCount)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseLockId):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, maxCount={self.maxCount})"


class MasterLock(BaseLockId):
    """A lock for the whole master process (locks are never shared between masters)."""

    def __init__(self, name: str, maxCount: int = 1) -> None:
        self.name = name
        self.maxCount = maxCount


class WorkerLock(BaseLockId):
    """A lock per worker: each worker has its own copy, of capacity
    `maxCountForWorker.get(workername, maxCount)`."""

    def __init__(self, name: str, maxCount: int = 1,
                 maxCountForWorker: dict[str, int] | None = None) -> None:
        self.name = name
        self.maxCount = maxCount
        self.maxCountForWorker: dict[str, int] = dict(maxCountForWorker or {})

    compare_attrs = ("name", "maxCount", "_maxCountForWorkerList")

    @property
    def _maxCountForWorkerList(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(self.maxCountForWorker.items()))

    def _identity(self) -> tuple[Any, ...]:
        return (type(self), self.name, self.maxCount,
                tuple(sorted(self.maxCountForWorker.items())))

    def __repr__(self) -> str:
        return (f"WorkerLock({self.name!r}, maxCount={self.maxCount}, "
                f"maxCountForWorker={self.maxCountForWorker!r})")


class LockAccess(ConfigViewMixin):
    """One use of a lock: `lockid`, `mode` ('counting' or 'exclusive') and `count`.

    Invalid arguments raise AssertionError, as the reference's asserts do (raised explicitly
    so that `python -O` keeps the checks).
    """

    __slots__ = ("count", "lockid", "mode")
    compare_attrs = ("lockid", "mode", "count")

    def __init__(self, lockid: BaseLockId, mode: str, count: int = 1) -> None:
        if mode not in (COUNTING, EXCLUSIVE):
            raise AssertionError(f"lock access mode must be 'counting' or 'exclusive', "
                                 f"not {mode!r}")
        if not isinstance(count, int) or count < 0:
            raise AssertionError(f"lock access count must be an int >= 0, not {count!r}")
        if mode == EXCLUSIVE and count != 1:
            raise AssertionError(f"an exclusive lock access has count 1, not {count!r}")
        self.lockid = lockid
        self.mode = mode
        self.count = count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LockAccess):
            return NotImplemented
        return (self.lockid, self.mode, self.count) == (other.lockid, other.mode, other.count)

    def __hash__(self) -> int:
        return hash((self.lockid, self.mode, self.count))

    def __repr__(self) -> str:
        return f"LockAccess({self.lockid!r}, {self.mode!r}, count={self.count})"


def as_access(lock: BaseLockId | LockAccess) -> LockAccess:
    """A `locks` list entry as an access (a bare lock means counting, count 1)."""
    return lock if isinstance(lock, LockAccess) else lock.defaultAccess()


# --- real locks -----------------------------------------------------------------------------


class _Waiter:
    __slots__ = ("access", "d", "owner")

    def __init__(self, owner: Any, access: LockAccess, d: defer.Deferred[Any] | None) -> None:
        self.owner, self.access, self.d = owner, access, d


class BaseLock:
    """One real lock: holders and a FIFO queue of waiters (module docstring has the rules).

    Owners are compared by identity, accesses by value.
    """

    description = "<BaseLock>"
    _release_subs: SubscriptionPoint | None = None

    def subscribeToReleases(self, callback: Any) -> Subscription:
        """Call `callback()` after each release of this lock; returns the subscription."""
        if self._release_subs is None:
            self._release_subs = SubscriptionPoint(f"{self!r} releases")
        return self._release_subs.subscribe(callback)

    def __init__(self, name: str, maxCount: int = 1, description: str | None = None) -> None:
        self.lockName = name
        self.maxCount = maxCount
        self.description = description or f"<{type(self).__name__}({name})>"
        self.owners: list[tuple[Any, LockAccess]] = []
        self.waiting: list[_Waiter] = []
        self._held_counting = 0
        self._held_exclusive = 0

    def __repr__(self) -> str:
        return self.description

    def _waiter_index(self, owner: Any, access: LockAccess) -> int:
        """Position of the owner's waiter in the queue, or len(queue) if it is not there."""
        for i, w in enumerate(self.waiting):
            if w.owner is owner and w.access == access:
                return i
        return len(self.waiting)

    def _fits(self, access: LockAccess, ahead: int) -> bool:
        if access.mode == COUNTING:
            if self._held_exclusive:
                return False
            for i in range(ahead):
                if self.waiting[i].access.mode != COUNTING:
                    return False
            return self._held_counting + ahead + access.count <= self.maxCount
        return not self.owners and ahead == 0

    def isAvailable(self, requester: Any, access: LockAccess) -> bool:
        """Whether `requester` may claim `access` now (a count of 0 always may)."""
        if access.count == 0:
            return True
        return self._fits(access, self._waiter_index(requester, access))

    def claim(self, owner: Any, access: LockAccess) -> None:
        """Take the lock; AssertionError unless `isAvailable` said yes."""
        if not self.isAvailable(owner, access):
            raise AssertionError(f"{self}: claimed while not available; "
                                 "ask for isAvailable() first")
        index = self._waiter_index(owner, access)
        if index < len(self.waiting):
            del self.waiting[index]
        if access.count == 0:
            return
        self.owners.append((owner, access))
        if access.mode == COUNTING:
            self._held_counting += access.count
        else:
            self._held_exclusive += 1

    def release(self, owner: Any, access: LockAccess) -> None:
        """Give back one claim of `access` by `owner` (nothing if it holds none) and wake
        the waiters that now fit."""
        if access.count == 0:
            return
        for i, (o, a) in enumerate(self.owners):
            if o is owner and a == access:
                del self.owners[i]
                break
        else:
            return
        if access.mode == COUNTING:
            self._held_counting -= access.count
        else:
            self._held_exclusive -= 1
        self._wake_waiters()
        if self._release_subs is not None:
            self._release_subs.deliver()

    def _wake_waiters(self) -> None:
        to_fire = []
        for ahead, w in enumerate(self.waiting):
            if not self._fits(w.access, ahead):
                break
            if w.d is not None:
                to_fire.append(w.d)
                w.d = None
        # Fired only now: a woken owner may claim, release or wait again right away.
        for d in to_fire:
            d.callback(self)

    def waitUntilMaybeAvailable(self, owner: Any, access: LockAccess) -> defer.Deferred[Any]:
        """A Deferred firing (with this lock) when `access` may have become available.

        Fires at once if it already is; otherwise the owner joins the queue (or keeps its
        place, if already there). Cancelling the Deferred leaves the queue.
        """
        if self.isAvailable(owner, access):
            return defer.succeed(self)

        def cancel(d: defer.Deferred[Any]) -> None:
            self.stopWaitingUntilAvailable(owner, access, d)

        d: defer.Deferred[Any] = defer.Deferred(cancel)
        index = self._waiter_index(owner, access)
        if index < len(self.waiting):
            previous, self.waiting[index].d = self.waiting[index].d, d
            if previous is not None:  # wake-ups are advisory: the old waiter re-checks
                previous.callback(self)
        else:
            self.waiting.append(_Waiter(owner, access, d))
        return d

    def stopWaitingUntilAvailable(self, owner: Any, access: LockAccess,
                                  d: defer.Deferred[Any] | None = None) -> None:
        """Leave the queue (nothing if not in it); the Deferred `d` is not fired. The
        waiters behind may fit now and are woken."""
        index = self._waiter_index(owner, access)
        if index == len(self.waiting):
            return
        del self.waiting[index]
        self._wake_waiters()

    def isOwner(self, owner: Any, access: LockAccess) -> bool:
        """Whether `owner` holds `access` (compared by value) on this lock."""
        return any(o is owner and a == access for o, a in self.owners)

    def setMaxCount(self, count: int) -> None:
        """Change the capacity; holders over a lowered capacity keep their claims."""
        grew = count > self.maxCount
        self.maxCount = count
        if grew:
            self._wake_waiters()


class RealMasterLock(BaseLock, SharedService):
    """The real lock of a `MasterLock`; a shared service as in 4.3, so that code can get
    the one lock of a name under a parent with `RealMasterLock.getService(parent, name)`."""

    def __init__(self, name: str) -> None:
        SharedService.__init__(self)
        BaseLock.__init__(self, name, 0, f"<MasterLock({name})>")
        self.config_version = -1

    def getLockForWorker(self, workername: str) -> BaseLock:
        """A master lock is the same on every worker."""
        return self

    def updateFromLockId(self, lockid: MasterLock, config_version: int) -> None:
        """Adopt the capacity of `lockid` (same name) unless it comes from an older config."""
        if lockid.name != self.lockName:
            raise AssertionError(f"{self}: cannot update from lock {lockid.name!r}")
        if config_version < self.config_version:
            return
        self.config_version = config_version
        self.description = f"<MasterLock({self.lockName}, {lockid.maxCount})>"
        self.setMaxCount(lockid.maxCount)


class RealWorkerLock(SharedService):
    """The real locks of a `WorkerLock`: one `BaseLock` per worker name, made on demand
    (a shared service as in 4.3: see `RealMasterLock`)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.lockName = name
        self.maxCount = 1
        self.maxCountForWorker: dict[str, int] = {}
        self.config_version = -1
        self.locks: dict[str, BaseLock] = {}

    def __repr__(self) -> str:
        return f"<WorkerLock({self.lockName}, {self.maxCount}, {self.maxCountForWorker!r})>"

    def _capacity(self, workername: str) -> int:
        return self.maxCountForWorker.get(workername, self.maxCount)

    def getLockForWorker(self, workername: str) -> BaseLock:
        """The lock of this name on worker `workername`."""
        lock = self.locks.get(workername)
        if lock is None:
            capacity = self._capacity(workername)
            lock = BaseLock(self.lockName, capacity,
                            f"<WorkerLock({self.lockName}, {capacity})[{workername}]>")
            self.locks[workername] = lock
        return lock

    def updateFromLockId(self, lockid: WorkerLock, config_version: int) -> None:
        """Adopt the capacities of `lockid` (same name) unless it comes from an older config;
        the per-worker locks already made follow."""
        if lockid.name != self.lockName:
            raise AssertionError(f"{self!r}: cannot update from lock {lockid.name!r}")
        if config_version < self.config_version:
            return
        self.config_version = config_version
        self.maxCount = lockid.maxCount
        self.maxCountForWorker = dict(lockid.maxCountForWorker)
        for workername, lock in self.locks.items():
            capacity = self._capacity(workername)
            lock.description = f"<WorkerLock({self.lockName}, {capacity})[{workername}]>"
            lock.setMaxCount(capacity)


MasterLock.lockClass = RealMasterLock
WorkerLock.lockClass = RealWorkerLock


class LockRegistry:
    """One real lock per (kind, name) for the master; declarations from successive configs
    update the capacities (the newest config wins)."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], RealMasterLock | RealWorkerLock] = {}

    def get_real_lock(self, lock_or_access: BaseLockId | LockAccess,
                      config_version: int) -> RealMasterLock | RealWorkerLock:
        """The real lock for a declaration (or an access of one), made on first use."""
        lockid = (lock_or_access.lockid if isinstance(lock_or_access, LockAccess)
                  else lock_or_access)
        if isinstance(lockid, WorkerLock):
            key = ("worker", lockid.name)
            real: RealMasterLock | RealWorkerLock | None = self._locks.get(key)
            if real is None:
                real = self._locks[key] = RealWorkerLock(lockid.name)
            real.updateFromLockId(lockid, config_version)  # type: ignore[arg-type]  # the registry keeps master and worker locks apart by type
        else:
            key = ("master", lockid.name)
            real = self._locks.get(key)
            if real is None:
                real = self._locks[key] = RealMasterLock(lockid.name)
            real.updateFromLockId(lockid, config_version)  # type: ignore[arg-type]  # the registry keeps master and worker locks apart by type
        return real

    def resolve(self, locks: Iterable[BaseLockId | LockAccess], config_version: int,
                workername: str | None = None) -> list[tuple[BaseLock, LockAccess]]:
        """(real lock, access) pairs for a `locks` list (bare locks mean counting access);
        worker locks resolve to the copy of `workername` (ValueError if it is None)."""
        pairs: list[tuple[BaseLock, LockAccess]] = []
        for entry in locks:
            access = as_access(entry)
            real = self.get_real_lock(access, config_version)
            if isinstance(real, RealWorkerLock):
                if workername is None:
                    raise ValueError(f"worker lock {real.lockName!r} used without a worker")
                pairs.append((real.getLockForWorker(workername), access))
            else:
                pairs.append((real, access))
        return pairs


class LockSet:
    """The locks one owner (a build or a step) takes together.

    `acquire()` checks the locks in list order, waits on the first unavailable one, then
    starts the check again; it claims all of them at once only when all are available, so
    the owner never holds some while waiting for others. `cancel()` makes a pending
    `acquire()` return False and leaves every queue the owner joined.
    """

    def __init__(self, owner: Any, locks: Sequence[tuple[BaseLock, LockAccess]]) -> None:
        self.owner = owner
        self.locks = list(locks)
        self.held = False
        self._cancelled = False
        self._waiting_on: defer.Deferred[Any] | None = None

    def is_available(self) -> bool:
        """Whether every lock could be claimed right now."""
        return all(lock.isAvailable(self.owner, access) for lock, access in self.locks)

    def try_claim(self) -> bool:
        """Claim every lock if all are available now, else claim nothing; True if claimed."""
        if self.held:
            return True
        if not self.is_available():
            return False
        return self._claim_all()

    def _claim_all(self) -> bool:
        claimed: list[tuple[BaseLock, LockAccess]] = []
        for lock, access in self.locks:
            # A lock listed twice: the first claim can use up what the second needed.
            if not lock.isAvailable(self.owner, access):
                for done_lock, done_access in reversed(claimed):
                    done_lock.release(self.owner, done_access)
                return False
            lock.claim(self.owner, access)
            claimed.append((lock, access))
        self.held = True
        return True

    async def acquire(self) -> bool:
        """Wait until every lock is claimed (True) or `cancel()` was called (False).

        Cancelling the Deferred of a pending call leaves the queues and raises CancelledError.
        AssertionError if a lock listed twice cannot take both accesses although each fits
        (the reference fails such a build too).
        """
        while not self._cancelled:
            if self.held:
                return True
            blocked = next(((lock, access) for lock, access in self.locks
                            if not lock.isAvailable(self.owner, access)), None)
            if blocked is None:
                if self._claim_all():
                    return True
                raise AssertionError(f"{self.owner!r}: a lock listed more than once cannot "
                                     "take all of its accesses together")
            lock, access = blocked
            self._waiting_on = lock.waitUntilMaybeAvailable(self.owner, access)
            try:
                await self._waiting_on
            except defer.CancelledError:
                self.cancel()
                raise
            finally:
                self._waiting_on = None
        return False

    def cancel(self) -> None:
        """Stop a pending `acquire()` (it returns False); held locks stay held."""
        if self._cancelled:
            return
        self._cancelled = True
        for lock, access in self.locks:
            lock.stopWaitingUntilAvailable(self.owner, access)
        d, self._waiting_on = self._waiting_on, None
        if d is not None and not d.called:
            d.callback(None)

    def release_all(self) -> None:
        """Give back every lock, if held."""
        if not self.held:
            return
        self.held = False
        for lock, access in self.locks:
            lock.release(self.owner, access)


_LOCKS_WHY = "builds acquire their locks through buildbot.process.locks' own helpers"
get_real_locks_from_accesses = internal_function(__name__, "get_real_locks_from_accesses",
                                                 _LOCKS_WHY)
get_real_locks_from_accesses_raw = internal_function(
    __name__, "get_real_locks_from_accesses_raw", _LOCKS_WHY)
