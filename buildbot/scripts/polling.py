"""A reactor-free loop for the commands that only wait: `buildbot start` and `reconfig`.

Both poll a log file and check a few processes. Importing Twisted's reactor would cost them
more than the rest of their start (its TCP support imports TLS, so pyOpenSSL and
cryptography: about 0.3 s on a quiet machine, three times that under load), all of it
before `start` can spawn the master or `reconfig` can send its signal. `PollingClock`
provides what they use of a reactor, `callLater` and `seconds`; `run_polling` runs a
command's coroutine on it, sleeping until the next timed call.
"""

from __future__ import annotations

import heapq
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from twisted.internet import defer


class _Interrupted(Exception):
    """SIGTERM arrived while the command was waiting."""


class DelayedCall:
    """A call scheduled on a PollingClock (the subset of Twisted's IDelayedCall we use)."""

    def __init__(self, clock: PollingClock, when: float, fn: Callable[..., Any],
                 args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._clock = clock
        self.time = when
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._done = False  # called or cancelled

    def getTime(self) -> float:
        return self.time

    def active(self) -> bool:
        return not self._done

    def cancel(self) -> None:
        self._done = True

    def reset(self, seconds_from_now: float) -> None:
        """Move the call to `seconds_from_now` (the queue entry at the old time goes stale)."""
        self.time = self._clock.seconds() + seconds_from_now
        self._clock._schedule(self)

    def _run(self) -> None:
        self._done = True
        self._fn(*self._args, **self._kwargs)


class PollingClock:
    """`callLater` and `seconds` over time.monotonic(); `run_until` runs the due calls."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, DelayedCall]] = []
        self._sequence = 0  # keeps calls due at the same time in the order they were made

    def seconds(self) -> float:
        return time.monotonic()

    def callLater(self, delay: float, fn: Callable[..., Any], *args: Any,
                  **kwargs: Any) -> DelayedCall:
        call = DelayedCall(self, self.seconds() + delay, fn, args, kwargs)
        self._schedule(call)
        return call

    def _schedule(self, call: DelayedCall) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (call.time, self._sequence, call))

    def run_until(self, finished: Callable[[], bool]) -> None:
        """Run the calls as they fall due until `finished()` is true (or none is left)."""
        while not finished() and self._queue:
            when, _, call = self._queue[0]
            if not call.active() or when != call.time:  # cancelled, or reset to another time
                heapq.heappop(self._queue)
                continue
            delay = when - self.seconds()
            if delay > 0:
                time.sleep(delay)
                continue
            heapq.heappop(self._queue)
            call._run()


def run_polling(command: Callable[[PollingClock], Awaitable[int | None]]) -> int:
    """Run `command(clock)` to its end and return its exit status, without a reactor.

    As under `base.run_in_reactor`: an unexpected exception prints its traceback and gives
    status 1; Ctrl-C or SIGTERM before the end prints that the command was interrupted and
    gives 1.
    """
    clock = PollingClock()
    outcome: list[int] = []

    async def call() -> None:
        try:
            outcome.append(int(await command(clock) or 0))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            outcome.append(1)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGTERM, interrupted)
    try:
        defer.Deferred.fromCoroutine(call())
        clock.run_until(lambda: bool(outcome))
    except (KeyboardInterrupt, _Interrupted):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not outcome:
        print("interrupted before the command finished", file=sys.stderr)
        return 1
    return outcome[0]
