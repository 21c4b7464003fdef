"""In-process message bus for a single master.

Subscriptions are kept in a trie keyed by routing-key element (with a wildcard branch for
`None`), so routing a message costs a walk of the matching branches, not a scan of every
consumer. Delivery is synchronous and in production order.
"""

from __future__ import annotations

import itertools
from typing import Any

from twisted.logger import Logger

from buildbot.mq.base import ConsumerCallback, RoutingKey, TopicFilter, deliver, wait_until_event
from buildbot.util.service import AsyncService

log = Logger()

_order = itertools.count()


class _Node:
    __slots__ = ("children", "wildcard", "consumers")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.wildcard: _Node | None = None
        self.consumers: dict[int, SimpleConsumer] = {}  # ordered by subscription


class SimpleConsumer:
    """One subscription. A persistent one keeps collecting messages while stopped and hands
    them to the next consumer started under the same name."""

    def __init__(self, mq: SimpleMQ, topic: TopicFilter, callback: ConsumerCallback,
                 persistent_name: str | None) -> None:
        self.mq, self.topic, self.callback = mq, topic, callback
        self.persistent_name = persistent_name
        self.stopped = False
        self.queue: list[tuple[RoutingKey, Any]] = []
        self.order = next(_order)  # delivery follows subscription order

    def invoke(self, key: RoutingKey, body: Any) -> None:
        if self.stopped:
            self.queue.append((key, body))
        else:
            deliver(self.callback, key, body)

    def stopConsuming(self) -> None:
        """End the subscription (a persistent one keeps queueing)."""
        if self.stopped:
            return
        self.stopped = True
        if self.persistent_name is None:
            self.mq._remove(self)

    def __repr__(self) -> str:
        return f"<SimpleConsumer {'/'.join(t or '*' for t in self.topic)}>"


class SimpleMQ(AsyncService):
    """The `simple` mq implementation."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(name="simple-mq")
        self.debug = debug
        self._roots: dict[int, _Node] = {}  # by routing key length
        self._persistent: dict[str, SimpleConsumer] = {}

    def setDebug(self, debug: bool) -> None:
        self.debug = debug

    def produce(self, routingKey: RoutingKey, data: Any) -> None:
        """Deliver a message to every matching consumer, in subscription order."""
        if self.debug:
            log.info("MSG: {key}\n{data!r}", key=routingKey, data=data)
        root = self._roots.get(len(routingKey))
        if root is None:
            return
        matched: list[SimpleConsumer] = []
        self._collect(root, routingKey, 0, matched)
        if len(matched) > 1:
            matched.sort(key=lambda c: c.order)
        for consumer in matched:
            consumer.invoke(routingKey, data)

    def _collect(self, node: _Node, key: RoutingKey, i: int, out: list[SimpleConsumer]) -> None:
        if i == len(key):
            out.extend(node.consumers.values())
            return
        child = node.children.get(key[i])
        if child is not None:
            self._collect(child, key, i + 1, out)
        if node.wildcard is not None:
            self._collect(node.wildcard, key, i + 1, out)

    async def startConsuming(self, callback: ConsumerCallback, filter: TopicFilter,
                             persistent_name: str | None = None) -> SimpleConsumer:
        """Subscribe `callback(routing_key, body)` to messages matching `filter`."""
        topic = tuple(filter)
        if any(t is not None and not isinstance(t, str) for t in topic):
            raise TypeError(f"mq filter elements must be str or None, got {filter!r}")
        if persistent_name is not None and persistent_name in self._persistent:
            old = self._persistent[persistent_name]
            self._remove(old)
            backlog = old.queue
        else:
            backlog = []
        consumer = SimpleConsumer(self, topic, callback, persistent_name)
        node = self._roots.setdefault(len(topic), _Node())
        for elem in topic:
            if elem is None:
                if node.wildcard is None:
                    node.wildcard = _Node()
                node = node.wildcard
            else:
                node = node.children.setdefault(elem, _Node())
        node.consumers[id(consumer)] = consumer
        if persistent_name is not None:
            self._persistent[persistent_name] = consumer
        for key, body in backlog:
            consumer.invoke(key, body)
        return consumer

    def _remove(self, consumer: SimpleConsumer) -> None:
        node = self._roots.get(len(consumer.topic))
        for elem in consumer.topic:
            if node is None:
                return
            node = node.wildcard if elem is None else node.children.get(elem)
        if node is not None:
            node.consumers.pop(id(consumer), None)
        if consumer.persistent_name is not None and \
                self._persistent.get(consumer.persistent_name) is consumer:
            del self._persistent[consumer.persistent_name]

    async def waitUntilEvent(self, filter: TopicFilter, check_callback: Any) -> Any:
        """Wait for a matching message unless `check_callback()` says it already happened."""
        return await wait_until_event(self.startConsuming, filter, check_callback)

    def consumer_count(self) -> int:
        """Number of live subscriptions (tests use it to check nothing leaks)."""
        def count(node: _Node | None) -> int:
            if node is None:
                return 0
            return len(node.consumers) + count(node.wildcard) + sum(
                count(c) for c in node.children.values())
        return sum(count(r) for r in self._roots.values())
