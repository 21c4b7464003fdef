"""Least-recently-used caches filled by a miss function (the reference's `util.lru`)."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred, maybe_await

# The reference's module flag for its invariant checks; kept for code that reads it.
inv_failed = False


class LRUCache:
    """At most `max_size` values by key; `get` calls `miss_fn(key, **kwargs)` on a miss.

    A None result is returned but not kept. A value evicted while still referenced elsewhere
    is found again through a weak reference (a "refhit") instead of being recomputed, so one
    key never has two live values. `hits`, `misses` and `refhits` count lookups.
    """

    def __init__(self, miss_fn: Callable[..., Any], max_size: int = 50) -> None:
        self.miss_fn = miss_fn
        self.max_size = max_size
        self.cache: OrderedDict[Any, Any] = OrderedDict()
        self.weakrefs: weakref.WeakValueDictionary[Any, Any] = weakref.WeakValueDictionary()
        self.hits = self.misses = self.refhits = 0

    def _remember(self, key: Any, value: Any) -> None:
        self.cache[key] = value
        self.cache.move_to_end(key)
        try:
            self.weakrefs[key] = value
        except TypeError:  # ints, strings...: only the LRU part applies
            pass
        while len(self.cache) > self.max_size:
            self.cache.popitem(last=False)

    def _lookup(self, key: Any) -> tuple[bool, Any]:
        if key in self.cache:
            self.hits += 1
            self.cache.move_to_end(key)
            return True, self.cache[key]
        value = self.weakrefs.get(key)
        if value is not None:
            self.refhits += 1
            self._remember(key, value)
            return True, value
        return False, None

    def get(self, key: Any, **miss_fn_kwargs: Any) -> Any:
        """The cached value, or `miss_fn`'s (kept unless None)."""
        found, value = self._lookup(key)
        if found:
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
        """Change the capacity, evicting the oldest entries if needed."""
        self.max_size = max_size
        while len(self.cache) > self.max_size:
            self.cache.popitem(last=False)

    def inv(self) -> None:
        """Check internal invariants (nothing to check in this implementation)."""


class AsyncLRUCache(LRUCache):
    """`LRUCache` whose miss function returns a Deferred or coroutine; `get` returns a
    Deferred, and concurrent misses for one key share a single `miss_fn` call."""

    def __init__(self, miss_fn: Callable[..., Any], max_size: int = 50) -> None:
        super().__init__(miss_fn, max_size)
        self.concurrent: dict[Any, list[defer.Deferred[Any]]] = {}

    def get(self, key: Any, **miss_fn_kwargs: Any) -> defer.Deferred[Any]:
        found, value = self._lookup(key)
        if found:
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
