"""`master.caches`: named LRU caches whose sizes come from c['caches']."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from buildbot.util.service import AsyncService

DEFAULT_SIZES = {"Builds": 15, "Changes": 10}


class AsyncLRUCache:
    """An LRU cache filled by an async `miss_fn(key)`; concurrent misses share one call."""

    def __init__(self, miss_fn: Callable[[Any], Awaitable[Any]], max_size: int = 1) -> None:
        self.miss_fn = miss_fn
        self.max_size = max(1, max_size)
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self.hits = self.misses = 0

    async def get(self, key: Any) -> Any:
        if key in self._data:
            self._data.move_to_end(key)
            self.hits += 1
            return self._data[key]
        self.misses += 1
        value = await self.miss_fn(key)
        self.put(key, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    def invalidate(self, key: Any) -> None:
        self._data.pop(key, None)

    def set_max_size(self, max_size: int) -> None:
        self.max_size = max(1, max_size)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)


class CacheManager(AsyncService):
    """Creates caches by name and resizes them on reconfig (the reference's CacheManager)."""

    reconfig_priority = 128
    # the size of a cache c['caches'] does not name
    DEFAULT_CACHE_SIZE = 1

    def __init__(self) -> None:
        super().__init__(name="caches")
        self.config: dict[str, int] = dict(DEFAULT_SIZES)
        self._caches: dict[str, AsyncLRUCache] = {}

    def get_cache(self, cache_name: str, miss_fn: Callable[[Any], Awaitable[Any]]) -> AsyncLRUCache:
        cache = self._caches.get(cache_name)
        if cache is None:
            cache = AsyncLRUCache(miss_fn, self.config.get(cache_name, self.DEFAULT_CACHE_SIZE))
            self._caches[cache_name] = cache
        return cache

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        sizes = dict(DEFAULT_SIZES)
        sizes.update(getattr(new_config, "caches", None) or {})
        self.config = sizes
        for name, cache in self._caches.items():
            cache.set_max_size(sizes.get(name, self.DEFAULT_CACHE_SIZE))

    def get_metrics(self) -> dict[str, dict[str, int]]:
        return {name: {"hits": c.hits, "misses": c.misses, "size": len(c._data),
                       "max_size": c.max_size} for name, c in self._caches.items()}
