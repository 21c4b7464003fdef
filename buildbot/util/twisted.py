"""Bridges between coroutines and Deferreds, as the reference's `util.twisted` names them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any, ParamSpec, TypeVar

from twisted.internet import defer, threads
from twisted.python import threadpool

from buildbot.util.deferred import maybe_await

P = ParamSpec("P")
T = TypeVar("T")

# The type of a generator function decorated with `defer.inlineCallbacks`.
InlineCallbacksType = Generator[Any, Any, T]


def async_to_deferred(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, defer.Deferred[T]]:
    """Decorator: an `async def` function that returns a Deferred when called."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> defer.Deferred[T]:
        try:
            return defer.ensureDeferred(fn(*args, **kwargs))
        except Exception:  # noqa: BLE001 - becomes the Deferred's failure
            return defer.fail()
    return wrapper


async def any_to_async(value: Any) -> Any:
    """Await `value` if it is a Deferred or coroutine, else return it."""
    return await maybe_await(value)


class ThreadPool(threadpool.ThreadPool):
    """A Twisted thread pool with `callInThreadWithDeferred` returning a Deferred."""

    def callInThreadWithDeferred(self, fn: Callable[..., T], *args: Any,
                                 **kwargs: Any) -> defer.Deferred[T]:
        from twisted.internet import reactor
        clock: Any = reactor
        return threads.deferToThreadPool(clock, self, fn, *args, **kwargs)
