"""Track Deferreds to wait for on shutdown, and timers that run an action through them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.deferred import maybe_await

log = Logger()


class DeferWaiter:
    """`add(d)` remembers `d` until it fires; `wait()` fires once every added one has."""

    def __init__(self) -> None:
        self._waited: set[defer.Deferred[Any]] = set()
        self._finish_waiters: list[defer.Deferred[None]] = []

    def add(self, d: Any) -> Any:
        if not isinstance(d, defer.Deferred):
            return d
        self._waited.add(d)

        def settled(result: Any) -> Any:
            self._waited.discard(d)
            if not self._waited:
                waiters, self._finish_waiters = self._finish_waiters, []
                for w in waiters:
                    w.callback(None)
            return result

        d.addBoth(settled)
        return d

    def has_waited(self) -> bool:
        """True while some added Deferred has not fired."""
        return bool(self._waited)

    def wait(self) -> defer.Deferred[None]:
        if not self._waited:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._finish_waiters.append(d)
        return d


class _ActionRunner:
    def __init__(self, reactor: Any, waiter: DeferWaiter, action: Callable[[], Any]) -> None:
        self._reactor = reactor
        self._waiter = waiter
        self._action = action
        self._timer: Any = None
        self._running = False

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _do_action(self) -> defer.Deferred[None]:
        async def run() -> None:
            self._running = True
            try:
                await maybe_await(self._action())
            except Exception:  # noqa: BLE001 - a failing action must not stop the timer
                log.failure("in a timed action")
            finally:
                self._running = False
                self._after_action()
        return self._waiter.add(defer.ensureDeferred(run()))  # type: ignore[no-any-return]  # the waiter returns the Deferred it was given

    def _after_action(self) -> None:
        pass

    def stop(self) -> None:
        self._cancel_timer()

    def force(self) -> defer.Deferred[None]:
        """Run the action now (the timer is cancelled)."""
        self._cancel_timer()
        return self._do_action()


class RepeatedActionHandler(_ActionRunner):
    """Runs `action` every `interval` seconds once started; by default the timer runs
    independently of the action, with `start_timer_after_action_completes` it restarts
    when the action finishes."""

    def __init__(self, reactor: Any, waiter: DeferWaiter, interval: float,
                 action: Callable[[], Any],
                 start_timer_after_action_completes: bool = False) -> None:
        super().__init__(reactor, waiter, action)
        self._interval = interval
        self._after_completes = start_timer_after_action_completes
        self._enabled = False

    def set_interval(self, interval: float) -> None:
        self._interval = interval

    def start(self) -> None:
        if not self._enabled:
            self._enabled = True
            self._start_timer()

    def stop(self) -> None:
        self._enabled = False
        super().stop()

    def delay(self) -> None:
        """Push the next run a whole interval away."""
        if self._enabled and self._timer is not None:
            self._timer.reset(self._interval)

    def _start_timer(self) -> None:
        self._timer = self._reactor.callLater(self._interval, self._handle_timeout)

    def _handle_timeout(self) -> None:
        self._timer = None
        if not self._after_completes:
            self._start_timer()
        self._do_action()

    def _after_action(self) -> None:
        if self._enabled and self._after_completes and self._timer is None:
            self._start_timer()


class NonRepeatedActionHandler(_ActionRunner):
    """Runs `action` on demand, never two runs at once: `schedule(delay)` runs it `delay`
    seconds from now (an earlier request wins over a later one), `force()` runs it now.

    While a run is in progress a new request is dropped, unless `invoke_again_if_running`
    asks for one more run once the current one finishes (so changes made during the run
    are not missed).
    """

    def __init__(self, reactor: Any, waiter: DeferWaiter, action: Callable[[], Any]) -> None:
        super().__init__(reactor, waiter, action)
        self._run_again = False

    def schedule(self, seconds_from_now: float, invoke_again_if_running: bool = False) -> None:
        if self._running and not invoke_again_if_running:
            return
        if self._timer is not None and self._timer.active():
            if self._reactor.seconds() + seconds_from_now < self._timer.getTime():
                self._timer.reset(seconds_from_now)
            return
        self._timer = self._reactor.callLater(seconds_from_now, self._handle_timeout)

    # 4.3's signature: takes the flag and returns nothing (the base returns the Deferred).
    def force(self, invoke_again_if_running: bool = False  # type: ignore[override]  # see above
              ) -> None:
        """Run the action now; while it runs, only remember one more run if asked to."""
        if self._running:
            self._run_again = self._run_again or invoke_again_if_running
            return
        self._cancel_timer()
        self._do_action()

    def _handle_timeout(self) -> None:
        self._timer = None
        if self._running:  # a run scheduled while another was in progress follows it
            self._run_again = True
            return
        self._do_action()

    def _after_action(self) -> None:
        if self._run_again:
            self._run_again = False
            self._do_action()
