"""Conversions used everywhere: text/bytes, epoch/datetime, list flattening."""

from __future__ import annotations

import datetime
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from typing import Any, TypeVar

from twisted.internet import defer

T = TypeVar("T")

UTC = datetime.UTC


def bytes2unicode(x: Any, encoding: str = "utf-8", errors: str = "strict") -> Any:
    """Decode bytes to str; pass other values through."""
    if isinstance(x, (bytes, bytearray)):
        return bytes(x).decode(encoding, errors)
    return x


def unicode2bytes(x: Any, encoding: str = "utf-8", errors: str = "strict") -> Any:
    """Encode str to bytes; pass other values through."""
    if isinstance(x, str):
        return x.encode(encoding, errors)
    return x


def ascii2unicode(x: Any, errors: str = "strict") -> Any:
    """Decode ASCII bytes to str; pass other values through."""
    return bytes2unicode(x, "ascii", errors)


def now(_reactor: Any = None) -> int:
    """Current epoch seconds (int), from `_reactor` (an IReactorTime) when given.

    The parameter keeps the reference's name; the value is whole seconds (see
    docs/differences.md).
    """
    return int(_reactor.seconds() if _reactor is not None else time.time())


def epoch2datetime(epoch: float | None) -> datetime.datetime | None:
    """Epoch seconds to an aware UTC datetime (None stays None)."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=UTC)


def datetime2epoch(dt: datetime.datetime | None) -> int | None:
    """Aware (or naive = UTC) datetime to int epoch seconds (None stays None)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def flatten(items: Any, types: tuple[type, ...] = (list, tuple)) -> list[Any]:
    """Flatten nested lists/tuples into one list."""
    if not isinstance(items, types):
        return [items]
    out: list[Any] = []
    seq: Any = items  # a list or tuple (checked above)
    for item in seq:
        if isinstance(item, types):
            out.extend(flatten(item, types))
        else:
            out.append(item)
    return out


def deferredLocked(lock_or_attr: str | defer.DeferredLock) -> Callable[[Callable[..., Any]],
                                                                    Callable[..., Any]]:
    """Decorator: run the method under a DeferredLock (given, or named attribute of `self`)."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def locked(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            lock = getattr(args[0], lock_or_attr) if isinstance(lock_or_attr, str) \
                else lock_or_attr
            if not isinstance(lock, defer.DeferredLock):
                raise TypeError(f"deferredLocked: {lock_or_attr!r} is not a DeferredLock")
            return lock.run(fn, *args, **kwargs)
        return locked
    return decorate


def cancelAfter(seconds: float, deferred: defer.Deferred[T],
                _reactor: Any = None) -> defer.Deferred[T]:
    """Cancel `deferred` if it has not fired after `seconds`; returns `deferred`."""
    if _reactor is None:
        from twisted.internet import reactor as _reactor
    timer = _reactor.callLater(seconds, deferred.cancel)

    def stop_timer(result: Any) -> Any:
        if timer.active():
            timer.cancel()
        return result

    deferred.addBoth(stop_timer)
    return deferred


def writeLocalFile(path: str, contents: str, mode: int | None = None) -> None:
    """Write text to `path` (UTF-8), setting its permission bits first when `mode` is given."""
    with open(path, "w", encoding="utf-8") as f:
        if mode is not None:
            os.chmod(path, mode)
        f.write(contents)


def chunkify_list(l: Sequence[T], chunk_size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `chunk_size` (at least 1) items."""
    size = max(1, chunk_size)
    return (l[start:start + size] for start in range(0, len(l), size))


def asyncSleep(delay: float, reactor: Any = None) -> defer.Deferred[None]:
    """A Deferred that fires (with None) after `delay` seconds; cancelling it stops the timer."""
    clock: Any = reactor
    if clock is None:
        from twisted.internet import reactor as clock
    timer: list[Any] = []
    d: defer.Deferred[None] = defer.Deferred(lambda _: timer[0].cancel())
    timer.append(clock.callLater(delay, d.callback, None))
    return d


def in_reactor(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for command-line entry points: run `f` under a reactor that stops after it.

    Returns `f`'s result; a failure is printed to stderr and returned as the Failure.
    """
    @wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        from twisted.internet import reactor as global_reactor
        reactor: Any = global_reactor
        outcome: list[Any] = []

        def start() -> None:
            d = defer.maybeDeferred(f, *args, **kwargs)

            def report(failure: Any) -> Any:
                failure.printTraceback(file=sys.stderr)
                return failure

            def finish(result: Any) -> None:
                outcome.append(result)
                reactor.stop()

            d.addErrback(report)
            d.addBoth(finish)

        reactor.callWhenRunning(start)
        reactor.run()
        return outcome[0]
    return run


def check_functional_environment(config: Any) -> None:
    """Report (through `config.error`) a locale Python cannot encode strings with."""
    import locale
    try:
        locale.getencoding()
    except (KeyError, ValueError) as e:
        lines = [
            ("Your environment has incorrect locale settings. This means python cannot handle "
             "strings safely."),
            (" Please check 'LANG', 'LC_CTYPE', 'LC_ALL' and 'LANGUAGE'"
             " are either unset or set to a valid locale."),
            str(e),
        ]
        config.error("\n".join(lines))
