"""Sort a list in place by a key function that returns Deferreds or coroutines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from buildbot.util.deferred import ensure_deferred, maybe_await


def async_sort(l: list[Any], key: Callable[[Any], Any],
               max_parallel: int = 10) -> defer.Deferred[None]:
    """Compute the keys (at most `max_parallel` at a time), then sort `l` in place by them."""
    async def run() -> None:
        sem = defer.DeferredSemaphore(max(1, max_parallel))
        keys: dict[int, Any] = {}

        async def one(i: int, item: Any) -> None:
            keys[i] = await maybe_await(key(item))

        def start(i: int, item: Any) -> defer.Deferred[None]:
            return ensure_deferred(one(i, item))

        await defer.gatherResults([sem.run(start, i, item) for i, item in enumerate(l)],
                                  consumeErrors=True)
        order = sorted(range(len(l)), key=keys.__getitem__)
        l[:] = [l[i] for i in order]
    return ensure_deferred(run())
