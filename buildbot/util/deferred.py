"""Bridges between our `async def` coroutines and Twisted Deferreds.

Inside the project everything asynchronous is a coroutine; a Deferred appears only where
Twisted or a plugin needs one. These helpers are the only crossing points.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, ParamSpec, TypeVar

from twisted.internet import defer
from twisted.python.failure import Failure

T = TypeVar("T")
P = ParamSpec("P")


def ensure_deferred(aw: Any) -> defer.Deferred[Any]:
    """Turn a coroutine, a Deferred or a plain value into a Deferred."""
    if isinstance(aw, defer.Deferred):
        return aw
    if inspect.iscoroutine(aw):
        return defer.Deferred.fromCoroutine(aw)
    if inspect.isawaitable(aw):
        awaitable: Any = aw  # a non-coroutine awaitable: let Twisted adapt it

        async def adapt() -> Any:
            return await awaitable

        return defer.Deferred.fromCoroutine(adapt())
    return defer.succeed(aw)


def as_deferred(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, defer.Deferred[T]]:
    """Wrap a coroutine function so that calling it returns a Deferred."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> defer.Deferred[T]:
        try:
            coro = fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - not swallowed: it becomes the Deferred's failure
            return defer.fail(Failure())
        return defer.Deferred.fromCoroutine(coro)

    return wrapper


async def maybe_await(value: Any) -> Any:
    """Await `value` if it is a Deferred or awaitable (user code may return either)."""
    if isinstance(value, defer.Deferred):
        return await value
    if inspect.isawaitable(value):
        return await value
    return value


async def call_user(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call user code that may return a value, a Deferred, a coroutine or a generator-based
    Deferred, and return its eventual result."""
    return await maybe_await(fn(*args, **kwargs))


async def gather(aws: Iterable[Awaitable[Any] | defer.Deferred[Any]]) -> list[Any]:
    """Run awaitables concurrently; return their results in order.

    Every awaitable runs to completion even if one fails; the first failure is then raised.
    """
    ds = [ensure_deferred(a) for a in aws]
    if not ds:
        return []
    results = await defer.DeferredList(ds, consumeErrors=True)
    out: list[Any] = []
    for ok, value in results:
        if not ok:
            assert isinstance(value, Failure)
            value.raiseException()
        out.append(value)
    return out


def deferred_sleep(clock: Any, seconds: float) -> defer.Deferred[None]:
    """A Deferred that fires after `seconds` on `clock` (an IReactorTime)."""
    d: defer.Deferred[None] = defer.Deferred()
    call = clock.callLater(seconds, d.callback, None)
    d.addErrback(lambda f: (call.cancel() if call.active() else None, f)[1])
    return d
