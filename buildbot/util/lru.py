"""Least-recently-used caches filled by a miss function (the reference's `util.lru`)."""

from __future__ import annotations

import weakref
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred, maybe_await

log = Logger()

# Set by `inv()` when an invariant is broken (4.3's module flag; its tests read it).
inv_failed = False


class LRUCache:
    """At most `max_size` values by key; `get` calls `miss_fn(key, **kwargs)` on a miss.

    A None result is returned but not kept. A value evicted while still referenced elsewhere
    is found again through a weak reference (a "refhit") instead of being recomputed, so one
    key never has two live values. `hits`, `misses` and `refhits` count lookups.

    Recency is an append-only log of keys (`queue`, oldest first) with `refcount[key]` =
    how many times the key is in it: a use appends, so it costs O(1), and eviction skips the
    entries that a later use made stale. The log is rebuilt once it passes `max_queue`
    (`max_size * QUEUE_SIZE_FACTOR`), so its length stays proportional to the cache.
    Attribute names and types are 4.3's (`__slots__` as there: code reads them).
    """

    __slots__ = ("max_size", "max_queue", "miss_fn", "queue", "cache", "weakrefs", "refcount",
                 "hits", "refhits", "misses")
    # Marks "no such key" in lookups, where None is a legitimate answer of dict.get.
    sentinel = object()
    QUEUE_SIZE_FACTOR = 10

    def __init__(self, miss_fn: Callable[..., Any], max_size: int = 50) -> None:
        self.miss_fn = miss_fn
        self.max_size = max_size
        self.max_queue = max_size * self.QUEUE_SIZE_FACTOR
        self.queue: deque[Any] = deque()
        self.refcount: defaultdict[Any, int] = defaultdict(int)
        self.cache: dict[Any, Any] = {}
        self.weakrefs: weakref.WeakValueDictionary[Any, Any] = weakref.WeakValueDictionary()
        self.hits = self.misses = self.refhits = 0

    def _touch(self, key: Any) -> None:
        self.queue.append(key)
        self.refcount[key] += 1
        if len(self.queue) > self.max_queue:
            self._compact_log()

    def _compact_log(self) -> None:
        # Keep only each key's latest use, in order; counts drop back to 1.
        latest: dict[Any, None] = {}
        for key in reversed(self.queue):
            if key in self.cache and key not in latest:
                latest[key] = None
        self.queue = deque(reversed(latest))
        self.refcount = defaultdict(int, dict.fromkeys(latest, 1))

    def _evict_overflow(self) -> None:
        while len(self.cache) > self.max_size and self.queue:
            key = self.queue.popleft()
            left = self.refcount[key] - 1
            if left:
                self.refcount[key] = left  # used again later: this log entry is stale
                continue
            del self.refcount[key]
            self.cache.pop(key, None)  # its weak reference stays while the value lives

    def _remember(self, key: Any, value: Any) -> None:
        self.cache[key] = value
        try:
            self.weakrefs[key] = value
        except TypeError:  # ints, strings...: only the LRU part applies
            pass
        self._touch(key)
        self._evict_overflow()

    def _lookup(self, key: Any) -> Any:
        value = self.cache.get(key, self.sentinel)
        if value is not self.sentinel:
            self.hits += 1
            self._touch(key)
            return value
        value = self.weakrefs.get(key, self.sentinel)
        if value is not self.sentinel:
            self.refhits += 1
            self._remember(key, value)
            return value
        return self.sentinel

    def get(self, key: Any, **miss_fn_kwargs: Any) -> Any:
        """The cached value, or `miss_fn`'s (kept unless None)."""
        value = self._lookup(key)
        if value is not self.sentinel:
            return value
        self.misses += 1
        value = self.miss_fn(key, **miss_fn_kwargs)
        if value is not None:
            self._remember(key, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        """Store `value` under `key` as the most recently used entry."""
        self._remember(key, value)

    def keys(self) -> list[Any]:
        return list(self.cache)

    def set_max_size(self, max_size: int) -> None:
        """Change the capacity, evicting the least recently used entries if needed."""
        self.max_size = max_size
        self.max_queue = max_size * self.QUEUE_SIZE_FACTOR
        self._evict_overflow()
        if len(self.queue) > self.max_queue:
            self._compact_log()

    def inv(self) -> None:
        """Check the internal invariants; a broken one is logged and sets `inv_failed`."""
        global inv_failed
        counted: dict[Any, int] = {}
        for key in self.queue:
            counted[key] = counted.get(key, 0) + 1
        problems = []
        if len(self.cache) > self.max_size:
            problems.append(f"{len(self.cache)} entries for max_size {self.max_size}")
        if set(self.cache) != set(counted):
            problems.append("cached keys and recency log differ")
        if any(self.refcount.get(k) != n for k, n in counted.items()):
            problems.append("refcount does not match the recency log")
        if problems:
            inv_failed = True
            log.error("LRUCache invariant broken: {problems}", problems="; ".join(problems))


class AsyncLRUCache(LRUCache):
    """`LRUCache` whose miss function returns a Deferred or coroutine; `get` returns a
    Deferred, and concurrent misses for one key share a single `miss_fn` call."""

    __slots__ = ("concurrent",)

    def __init__(self, miss_fn: Callable[..., Any], max_size: int = 50) -> None:
        super().__init__(miss_fn, max_size)
        self.concurrent: dict[Any, list[defer.Deferred[Any]]] = {}

    def get(self, key: Any, **miss_fn_kwargs: Any) -> defer.Deferred[Any]:
        value = self._lookup(key)
        if value is not self.sentinel:
            return defer.succeed(value)
        waiter: defer.Deferred[Any] = defer.Deferred()
        if key in self.concurrent:
            self.concurrent[key].append(waiter)
            return waiter
        self.misses += 1
        self.concurrent[key] = [waiter]
        ensure_deferred(self._fill(key, miss_fn_kwargs))
        return waiter

    async def _fill(self, key: Any, kwargs: dict[str, Any]) -> None:
        try:
            value = await maybe_await(self.miss_fn(key, **kwargs))
        except BaseException:  # noqa: BLE001 - handed to every waiter
            failure = Failure()
            for d in self.concurrent.pop(key, []):
                d.errback(failure)
            return
        if value is not None:
            self._remember(key, value)
        for d in self.concurrent.pop(key, []):
            d.callback(value)
