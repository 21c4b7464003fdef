"""The `wamp` mq: messages shared between masters through a WAMP router (crossbar).

Local consumers get local messages at once, exactly as with the simple mq; each message is
also published on the router (excluding this master's own session) and messages of the
other masters arrive through one router subscription per distinct topic filter, delivered
to the local consumers of that filter only (so a message is never delivered twice).

Configuration (`c['mq']`): `type: 'wamp'`, `router_url` (e.g. `ws://127.0.0.1:8080/ws`),
`realm` (default `buildbot`), `wamp_debug_level` (accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autobahn.twisted.component import Component
from autobahn.wamp.types import PublishOptions, SubscribeOptions
from twisted.internet import defer
from twisted.logger import Logger

from buildbot.mq.base import (ConsumerCallback, RoutingKey, TopicFilter, deliver, escape_element,
                              unescape_element, wait_until_event)
from buildbot.mq.simple import SimpleMQ
from buildbot.util.deferred import ensure_deferred
from buildbot.util.service import AsyncService
from buildbot.util.timestamps import epochs_for_wire

log = Logger()

NAMESPACE = "org.buildbot.mq"
_PUBLISH = PublishOptions(exclude_me=True)


def topic_of(key: RoutingKey) -> str:
    """The WAMP topic of a routing key."""
    return NAMESPACE + "." + ".".join(escape_element(e) for e in key)


def pattern_of(topic_filter: TopicFilter) -> str:
    """The wildcard WAMP topic of a filter (None elements are empty components)."""
    return NAMESPACE + "." + ".".join("" if e is None else escape_element(e) for e in topic_filter)


def key_of(topic: str) -> RoutingKey:
    """The routing key of a WAMP topic."""
    return tuple(unescape_element(e) for e in topic[len(NAMESPACE) + 1:].split("."))


class _RemoteConsumer:
    """A local consumer also fed by the router."""

    def __init__(self, mq: WampMQ, local: Any, topic: TopicFilter,
                 callback: ConsumerCallback) -> None:
        self.mq, self.local, self.topic, self.callback = mq, local, topic, callback

    def stopConsuming(self) -> None:
        self.local.stopConsuming()
        self.mq._forget(self)


class WampMQ(AsyncService):
    """mq implementation shared through a WAMP router."""

    def __init__(self, cfg: dict[str, Any], reactor: Any = None) -> None:
        super().__init__(name="wamp-mq")
        self.router_url = cfg.get("router_url")
        if not self.router_url:
            raise ValueError("c['mq']['router_url'] is required for the wamp mq")
        self.realm = cfg.get("realm", "buildbot")
        self.debug = bool(cfg.get("debug", False))
        self._reactor = reactor
        self._local = SimpleMQ(debug=self.debug)
        self._session: Any = None
        self._component: Any = None
        self._component_done: defer.Deferred[Any] | None = None
        # filter -> (router subscription or pending Deferred, consumers of that filter)
        self._remote: dict[TopicFilter, list[_RemoteConsumer]] = {}
        self._subscriptions: dict[TopicFilter, Any] = {}
        self._joined: defer.Deferred[None] = defer.Deferred()

    def setDebug(self, debug: bool) -> None:
        self.debug = debug
        self._local.setDebug(debug)

    # -- router connection ----------------------------------------------------------------
    async def start(self) -> None:
        await super().start()
        component = Component(
            transports=[{"type": "websocket", "url": self.router_url,
                         "serializers": ["msgpack", "json"],
                         "max_retries": -1, "max_retry_delay": 10}],
            realm=self.realm)
        component.on("join", self._on_join)
        component.on("leave", self._on_leave)
        self._component = component
        reactor = self._reactor
        if reactor is None:
            from twisted.internet import reactor as default_reactor
            reactor = default_reactor
        self._component_done = component.start(reactor)
        self._component_done.addErrback(
            lambda f: log.failure("wamp connection to {url} ended", failure=f,
                                  url=self.router_url))
        # Start-up waits for the router, as the reference does: a master that cannot reach
        # it would silently miss every other master's events.
        await self._joined

    async def stop(self) -> None:
        if self._component is not None:
            try:
                await ensure_deferred(self._component.stop())
            except Exception:
                log.failure("stopping the wamp connection")
            self._component = None
        self._session = None
        await super().stop()

    async def _on_join(self, session: Any, details: Any) -> None:
        log.info("connected to the wamp router {url} (realm {realm})", url=self.router_url,
                 realm=self.realm)
        self._session = session
        self._subscriptions.clear()
        for topic_filter in list(self._remote):
            await self._subscribe(topic_filter)
        if not self._joined.called:
            self._joined.callback(None)

    def _on_leave(self, session: Any, details: Any) -> None:
        log.info("left the wamp router: {details}", details=details)
        self._session = None

    # -- the mq interface ---------------------------------------------------------------
    def produce(self, routingKey: RoutingKey, data: Any) -> None:
        """Deliver locally, then publish to the other masters."""
        self._local.produce(routingKey, data)
        session = self._session
        if session is None:
            log.debug("wamp router unreachable: message {key} not shared", key=routingKey)
            return
        try:
            # Other masters get epoch seconds where local consumers got datetimes, as
            # Buildbot 4.3 sends them (it JSON-encodes every published body).
            d = session.publish(topic_of(routingKey), epochs_for_wire(data), options=_PUBLISH)
        except Exception:
            log.failure("cannot publish {key} on the wamp router", key=routingKey)
            return
        if isinstance(d, defer.Deferred):
            d.addErrback(lambda f: log.failure("publishing {key} failed", failure=f,
                                               key=routingKey))

    async def startConsuming(self, callback: ConsumerCallback, filter: TopicFilter,
                             persistent_name: str | None = None) -> _RemoteConsumer:
        topic = tuple(filter)
        local = await self._local.startConsuming(callback, topic, persistent_name)
        consumer = _RemoteConsumer(self, local, topic, callback)
        consumers = self._remote.setdefault(topic, [])
        consumers.append(consumer)
        if len(consumers) == 1 and self._session is not None:
            await self._subscribe(topic)
        return consumer

    async def _subscribe(self, topic: TopicFilter) -> None:
        handler = self._make_handler(topic)
        options = SubscribeOptions(match="wildcard" if None in topic else "exact",
                                   details=True)
        sub = await self._session.subscribe(handler, pattern_of(topic), options=options)
        if topic in self._remote:
            self._subscriptions[topic] = sub
        else:  # every consumer left while subscribing
            await sub.unsubscribe()

    def _make_handler(self, topic: TopicFilter) -> Callable[..., None]:
        def on_event(data: Any, details: Any = None) -> None:
            wamp_topic = getattr(details, "topic", None) or pattern_of(topic)
            key = key_of(wamp_topic)
            for consumer in list(self._remote.get(topic, ())):
                deliver(consumer.callback, key, data)
        return on_event

    def _forget(self, consumer: _RemoteConsumer) -> None:
        consumers = self._remote.get(consumer.topic)
        if not consumers or consumer not in consumers:
            return
        consumers.remove(consumer)
        if consumers:
            return
        del self._remote[consumer.topic]
        sub = self._subscriptions.pop(consumer.topic, None)
        if sub is not None and self._session is not None:
            d = ensure_deferred(sub.unsubscribe())
            d.addErrback(lambda f: log.info("unsubscribing failed: {f}", f=f.getErrorMessage()))

    async def waitUntilEvent(self, filter: TopicFilter, check_callback: Any) -> Any:
        return await wait_until_event(self.startConsuming, filter, check_callback)
