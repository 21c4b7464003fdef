"""What every mq implementation offers: produce, consume with topic filters, wait for an event."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred

log = Logger()

RoutingKey = tuple[str, ...]
TopicFilter = tuple[str | None, ...]
ConsumerCallback = Callable[[RoutingKey, Any], Any]


_ESCAPED = re.compile(r"%([0-9A-F]{2})")


def escape_element(element: str, specials: str = ".") -> str:
    """A routing-key element made safe for a broker whose topics join elements with dots:
    '%', the dot and `specials` become %XX; an empty element becomes %00 (brokers reject or
    collapse empty words)."""
    out = element.replace("%", "%25")
    for char in "." + specials:
        out = out.replace(char, f"%{ord(char):02X}")
    return out or "%00"


def unescape_element(element: str) -> str:
    """The routing-key element `escape_element` was given."""
    if element == "%00":
        return ""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), element)


class Consumer(Protocol):
    """A subscription returned by `startConsuming`."""

    def stopConsuming(self) -> Any:
        ...


def deliver(callback: ConsumerCallback, key: RoutingKey, body: Any) -> None:
    """Call a consumer; log (never raise) its failure, synchronous or asynchronous."""
    try:
        result = callback(key, body)
    except Exception:
        log.failure("mq consumer {cb!r} failed on {key}", cb=callback, key="/".join(key))
        return
    if result is None:
        return
    if isinstance(result, defer.Deferred) or inspect.isawaitable(result):
        d = ensure_deferred(result)

        def failed(f: Failure) -> None:
            log.failure("mq consumer {cb!r} failed on {key}", failure=f, cb=callback,
                        key="/".join(key))

        d.addErrback(failed)


async def wait_until_event(
    start_consuming: Callable[[ConsumerCallback, TopicFilter], Awaitable[Consumer]],
    topic: TopicFilter,
    check_callback: Callable[[], Any],
) -> Any:
    """Wait for the first message matching `topic`, unless `check_callback()` (called after
    subscribing, so nothing is missed) already reports the awaited state with a true value."""
    seen: defer.Deferred[tuple[RoutingKey, Any]] = defer.Deferred()

    def got(key: RoutingKey, body: Any) -> None:
        if not seen.called:
            seen.callback((key, body))

    consumer = await start_consuming(got, topic)
    try:
        already = check_callback()
        if isinstance(already, defer.Deferred) or inspect.isawaitable(already):
            already = await ensure_deferred(already)
        if already:
            return already
        return await seen
    finally:
        consumer.stopConsuming()
