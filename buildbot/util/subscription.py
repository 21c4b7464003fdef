"""Publish/subscribe inside the process: `SubscriptionPoint.subscribe(cb)` and `deliver(...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred, maybe_await


class SubscriptionPoint:
    """Calls every subscriber with what is delivered; failures are kept for `pop_exceptions`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.subscriptions: set[Subscription] = set()
        self._pending: set[defer.Deferred[Any]] = set()
        self._finished_waiters: list[defer.Deferred[None]] = []
        self._got_exceptions: list[Failure] = []

    def __str__(self) -> str:
        return f"<SubscriptionPoint '{self.name}'>"

    def subscribe(self, callback: Callable[..., Any]) -> Subscription:
        sub = Subscription(self, callback)
        self.subscriptions.add(sub)
        return sub

    def deliver(self, *args: Any, **kwargs: Any) -> None:
        """Call each subscriber; results that are Deferreds/coroutines are tracked."""
        for sub in list(self.subscriptions):
            try:
                result = sub.callback(*args, **kwargs)
            except Exception:  # noqa: BLE001 - kept for pop_exceptions
                self._got_exceptions.append(Failure())
                continue
            if isinstance(result, defer.Deferred) or hasattr(result, "__await__"):
                self._track(ensure_deferred(maybe_await(result)))

    def _track(self, d: defer.Deferred[Any]) -> None:
        self._pending.add(d)

        def settled(result: Any) -> None:
            if isinstance(result, Failure):
                self._got_exceptions.append(result)
            self._settled(d)

        d.addBoth(settled)

    def _settled(self, d: defer.Deferred[Any]) -> None:
        self._pending.discard(d)
        if not self._pending:
            waiters, self._finished_waiters = self._finished_waiters, []
            for w in waiters:
                w.callback(None)

    def waitForDeliveriesToFinish(self) -> defer.Deferred[None]:
        """Fires when every asynchronous delivery so far has finished."""
        if not self._pending:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._finished_waiters.append(d)
        return d

    def pop_exceptions(self) -> list[Failure] | None:
        """The failures raised by subscribers since the last call (None if there were none)."""
        found, self._got_exceptions = self._got_exceptions, []
        return found or None

    def _unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)


class Subscription:
    """One subscriber; `unsubscribe()` ends it."""

    def __init__(self, subpt: SubscriptionPoint, callback: Callable[..., Any]) -> None:
        self.subpt = subpt
        self.callback = callback

    def unsubscribe(self) -> None:
        self.subpt._unsubscribe(self)
