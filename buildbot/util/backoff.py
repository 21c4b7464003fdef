"""Exponential back-off between retries: waits grow by `multiplier` until their total
passes `max_wait_seconds`, then `BackoffTimeoutExceededError` is raised."""

from __future__ import annotations

import time
from typing import Any

from twisted.internet import defer, task


class BackoffTimeoutExceededError(Exception):
    """The retries together would wait longer than allowed."""


class ExponentialBackoffEngine:
    """Computes the waits; `on_success()` starts over. Subclasses do the waiting."""

    def __init__(self, start_seconds: float, multiplier: float, max_wait_seconds: float) -> None:
        if start_seconds < 0 or multiplier < 0 or max_wait_seconds < 0:
            raise ValueError("start_seconds, multiplier and max_wait_seconds must be >= 0")
        self.start_seconds = start_seconds
        self.multiplier = multiplier
        self.max_wait_seconds = max_wait_seconds
        self.on_success()

    def on_success(self) -> None:
        self.current_total_wait_seconds = 0.0
        self.current_wait_seconds = self.start_seconds

    def calculate_wait_on_failure_seconds(self) -> float:
        """The next wait; raises BackoffTimeoutExceededError once the budget is used up."""
        if self.current_total_wait_seconds >= self.max_wait_seconds:
            raise BackoffTimeoutExceededError()
        wait = min(self.current_wait_seconds,
                   self.max_wait_seconds - self.current_total_wait_seconds)
        self.current_total_wait_seconds += wait
        self.current_wait_seconds *= self.multiplier
        return wait

    def wait_on_failure(self) -> Any:
        raise NotImplementedError()


class ExponentialBackoffEngineSync(ExponentialBackoffEngine):
    """Blocks the thread for each wait (for code running in a thread)."""

    def wait_on_failure(self) -> None:
        time.sleep(self.calculate_wait_on_failure_seconds())


class ExponentialBackoffEngineAsync(ExponentialBackoffEngine):
    """Waits on the reactor: `wait_on_failure()` returns a Deferred."""

    def __init__(self, reactor: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reactor = reactor

    def wait_on_failure(self) -> defer.Deferred[None]:
        return task.deferLater(self.reactor, self.calculate_wait_on_failure_seconds(),
                               lambda: None)
