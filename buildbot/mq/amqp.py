"""The `amqp` mq: messages shared between masters through an AMQP 0-9-1 broker (RabbitMQ).

One durable topic exchange carries every message, its routing key being the mq key with
elements joined by dots (dots, '*' and '#' inside an element are %-escaped). Each master
owns one durable queue, named after the master, bound to the filters its consumers use (a
`None` element becomes '*'). The queue outlives the connection, so a master that loses the
broker for a while receives what was published meanwhile when it reconnects.

Local consumers get local messages at once, as with the simple mq; each message is also
published (persistent, with publisher confirms) for the other masters, and the master's own
messages coming back through its queue are skipped. Messages produced while the broker is
unreachable, or published but not yet confirmed, wait in a bounded buffer and are sent again
after reconnecting: delivery is at least once. Consumption of the queue at start-up begins
when the master announces itself started, so that what accumulated while it was down reaches
the consumers its configuration creates.

Configuration (`c['mq']`): `type: 'amqp'`, `url` (required, e.g.
`amqp://guest:guest@127.0.0.1:5672/%2F`; `amqps://` for TLS; pika's query options such as
`heartbeat` apply), `exchange` (default `buildbot`), `queue_prefix` (default
`buildbot.master.`), `queue_expires` (seconds a queue without consumer is kept, default
86400; None keeps it forever), `queue_max_length` (messages, default 100000, oldest dropped),
`max_buffer` (messages kept while disconnected, default 10000), `prefetch` (default 100),
`debug`.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import pika
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer, protocol, ssl, task
from twisted.logger import Logger

from buildbot.mq.base import (ConsumerCallback, RoutingKey, TopicFilter, escape_element,
                              unescape_element, wait_until_event)
from buildbot.mq.simple import SimpleMQ
from buildbot.util.service import AsyncService
from buildbot.util.timestamps import epochs_for_wire

log = Logger()

ORIGIN_HEADER = "bb-origin"
MAX_RETRY_DELAY = 30.0
STOP_FLUSH_TIMEOUT = 5.0
DEFAULTS: dict[str, Any] = {
    "exchange": "buildbot", "queue_prefix": "buildbot.master.", "queue_expires": 86400,
    "queue_max_length": 100000, "max_buffer": 10000, "prefetch": 100,
}


def routing_key_of(key: RoutingKey) -> str:
    """The AMQP routing key of an mq key."""
    return ".".join(escape_element(e, "*#") for e in key)


def binding_of(topic_filter: TopicFilter) -> str:
    """The AMQP binding pattern of an mq filter."""
    return ".".join("*" if e is None else escape_element(e, "*#") for e in topic_filter)


def key_of(routing_key: str) -> RoutingKey:
    """The mq key of an AMQP routing key."""
    return tuple(unescape_element(e) for e in routing_key.split("."))


def queue_name_for(prefix: str, master_name: str) -> str:
    """The durable queue of a master (AMQP names are at most 255 bytes)."""
    name = prefix + master_name
    if len(name.encode()) <= 255:
        return name
    return prefix[:200] + hashlib.sha256(master_name.encode()).hexdigest()


class _AmqpConsumer:
    """A local subscription whose filter is also bound on the master's queue."""

    def __init__(self, mq: AmqpMQ, local: Any, pattern: str, persistent: bool) -> None:
        self.mq, self.local, self.pattern, self.persistent = mq, local, pattern, persistent
        self.stopped = False

    def stopConsuming(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.local.stopConsuming()
        if not self.persistent:  # a persistent consumer keeps collecting, hence its binding
            self.mq._release(self.pattern)


class AmqpMQ(AsyncService):
    """mq implementation shared through an AMQP broker."""

    def __init__(self, cfg: dict[str, Any], master_name: str | None = None,
                 wait_for_master: bool = False, reactor: Any = None) -> None:
        super().__init__(name="amqp-mq")
        url = cfg.get("url")
        if not url or not isinstance(url, str):
            raise ValueError("c['mq']['url'] is required for the amqp mq "
                             "(e.g. 'amqp://guest:guest@127.0.0.1:5672/')")
        opts = {**DEFAULTS, **{k: v for k, v in cfg.items() if k in DEFAULTS}}
        self.url = url
        self.params = pika.URLParameters(url)
        self.exchange: str = opts["exchange"]
        self.queue_prefix: str = opts["queue_prefix"]
        self.queue_expires: float | None = opts["queue_expires"]
        self.queue_max_length: int | None = opts["queue_max_length"]
        self.max_buffer = int(opts["max_buffer"])
        self.prefetch = int(opts["prefetch"])
        self.debug = bool(cfg.get("debug", False))
        self.master_name = master_name
        self.queue = queue_name_for(self.queue_prefix, master_name) if master_name else ""
        self._reactor = reactor
        self._local = SimpleMQ(debug=self.debug)
        self._bindings: dict[str, int] = {}  # pattern -> live consumers
        self._unbind_later: set[str] = set()  # released while disconnected
        self._persistent: set[str] = set()
        self._pending: OrderedDict[int, tuple[str, bytes]] = OrderedDict()  # unconfirmed
        self._next_seq = 0
        self._dropped = 0
        self._flush_waiters: list[defer.Deferred[None]] = []
        self._conn: Any = None
        self._channel: Any = None
        self._consuming = False
        self._delivering = not wait_for_master
        self._stopping = False
        self._waiting: defer.Deferred[Any] | None = None  # retry delay or connection attempt
        self._connected: defer.Deferred[None] = defer.Deferred()

    def setDebug(self, debug: bool) -> None:
        self.debug = debug
        self._local.setDebug(debug)

    @property
    def reactor(self) -> Any:
        if self._reactor is None:
            from twisted.internet import reactor
            self._reactor = reactor
        return self._reactor

    @property
    def connected(self) -> bool:
        return self._channel is not None

    # -- life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        if not self.queue:
            raise ValueError("the amqp mq needs the master's name to name its queue")
        await super().start()
        self._stopping = False
        self.tasks.spawn("amqp connection", self._run())
        # Start-up waits for the broker: the queue must exist before the master takes work,
        # or what the other masters publish meanwhile would be lost for it.
        await self._connected

    async def stop(self) -> None:
        self._stopping = True
        if self._waiting is not None:
            self._waiting.cancel()
        if not self._connected.called:
            self._connected.errback(defer.CancelledError("the amqp mq stopped before connecting"))
            self._connected.addErrback(lambda f: None)
        if self._pending and self._channel is not None:
            # A clean stop hands over what is in flight (bounded: the broker may be gone).
            flushed = self.flushed()
            flushed.addTimeout(STOP_FLUSH_TIMEOUT, self.reactor)
            try:
                await flushed
            except defer.TimeoutError:
                log.warn("stopping with {n} mq message(s) not confirmed by the AMQP broker",
                         n=len(self._pending))
        conn = self._conn
        if conn is not None:
            if conn.ready is None and conn.is_open:
                conn.close()  # the connection task ends when the broker confirms
            elif conn.transport is not None:
                conn.transport.loseConnection()
        await super().stop()  # waits for the connection and consumer tasks

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                closed = await self._connect()
            except Exception as e:
                if self._stopping:
                    break
                log.warn("cannot use the AMQP broker {url}: {err}; retrying in {delay:.1f} s",
                         url=_safe(self.url), err=_describe(e), delay=delay)
                await self._pause(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            delay = 0.5
            if not self._connected.called:
                self._connected.callback(None)
            reason = await closed
            self._lost()
            if not self._stopping:
                log.info("lost the AMQP broker {url} ({reason}); reconnecting",
                         url=_safe(self.url), reason=_describe(reason))

    async def _pause(self, delay: float) -> None:
        self._waiting = task.deferLater(self.reactor, delay, lambda: None)
        try:
            await self._waiting
        except defer.CancelledError:
            pass
        finally:
            self._waiting = None

    async def _connect(self) -> defer.Deferred[Any]:
        """Connect, declare the exchange and queue, bind, resend the buffer; returns the
        Deferred that fires when the connection closes."""
        creator = protocol.ClientCreator(self.reactor, TwistedProtocolConnection, self.params,
                                         custom_reactor=self.reactor)
        host, port = self.params.host, self.params.port
        if self.params.ssl_options is not None:
            attempt = creator.connectSSL(host, port, ssl.optionsForClientTLS(host), timeout=10)
        else:
            attempt = creator.connectTCP(host, port, timeout=10)
        self._waiting = attempt
        try:
            conn = await attempt
        finally:
            self._waiting = None
        self._conn = conn
        try:
            await conn.ready
            closed: defer.Deferred[Any] = conn.closed
            channel = await conn.channel()
            await channel.confirm_delivery()
            await channel.basic_qos(prefetch_count=self.prefetch)
            await channel.exchange_declare(exchange=self.exchange, exchange_type="topic",
                                           durable=True)
            await channel.queue_declare(queue=self.queue, durable=True,
                                        arguments=self._queue_arguments())
            for pattern in sorted(self._unbind_later - set(self._bindings)):
                await channel.queue_unbind(queue=self.queue, exchange=self.exchange,
                                           routing_key=pattern)
            self._unbind_later.clear()
            for pattern in list(self._bindings):
                await channel.queue_bind(queue=self.queue, exchange=self.exchange,
                                         routing_key=pattern)
        except Exception:
            if conn.transport is not None:
                conn.transport.loseConnection()
            raise
        log.info("connected to the AMQP broker {url} (exchange {exchange}, queue {queue})",
                 url=_safe(self.url), exchange=self.exchange, queue=self.queue)
        # From here on, synchronously: resend the buffer in order, then go live.
        self._channel = channel
        for seq, (routing_key, body) in list(self._pending.items()):
            self._publish(seq, routing_key, body)
        if self._delivering:
            self._start_delivery()
        return closed

    def _queue_arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.queue_expires is not None:
            args["x-expires"] = int(self.queue_expires * 1000)
        if self.queue_max_length is not None:
            args["x-max-length"] = int(self.queue_max_length)
        return args

    def _lost(self) -> None:
        self._channel = None
        self._conn = None
        self._consuming = False

    # -- publishing ---------------------------------------------------------------------
    def produce(self, routingKey: RoutingKey, data: Any) -> None:
        """Deliver locally, then publish to the other masters (or buffer until connected)."""
        self._local.produce(routingKey, data)
        if not self._delivering and routingKey[:1] == ("masters",) and \
                routingKey[-1:] == ("started",) and isinstance(data, dict) and \
                data.get("name") == self.master_name:
            self._delivering = True
            self._start_delivery()
        try:
            # Other masters get epoch seconds where local consumers got datetimes, as with
            # the wamp mq (Buildbot 4.3 JSON-encodes every published body).
            body = json.dumps(epochs_for_wire(data), separators=(",", ":")).encode()
        except (TypeError, ValueError):
            log.failure("cannot encode mq message {key} for the AMQP broker", key=routingKey)
            return
        seq = self._next_seq = self._next_seq + 1
        self._pending[seq] = (routing_key := routing_key_of(routingKey), body)
        if len(self._pending) > self.max_buffer:
            self._pending.popitem(last=False)
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warn("AMQP broker unreachable: {n} mq message(s) dropped so far "
                         "(max_buffer={max})", n=self._dropped, max=self.max_buffer)
        if self._channel is not None:
            self._publish(seq, routing_key, body)

    def _publish(self, seq: int, routing_key: str, body: bytes) -> None:
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                     headers={ORIGIN_HEADER: self.queue})
        try:
            d = self._channel.basic_publish(exchange=self.exchange, routing_key=routing_key,
                                            body=body, properties=props)
        except Exception as e:  # the channel is closing: resent after reconnecting
            log.debug("publish of {key} deferred: {err}", key=routing_key, err=e)
            return

        def confirmed(_: Any) -> None:
            self._pending.pop(seq, None)
            if not self._pending:
                waiters, self._flush_waiters = self._flush_waiters, []
                for waiter in waiters:
                    if not waiter.called:  # not timed out
                        waiter.callback(None)

        def refused(f: Any) -> None:
            if f.check(pika.exceptions.NackError):
                log.warn("the AMQP broker refused mq message {key}; it is resent after the "
                         "next reconnection", key=routing_key)
            # otherwise the connection closed before the confirmation: resent later

        d.addCallbacks(confirmed, refused)

    def flushed(self) -> defer.Deferred[None]:
        """Fires once every message produced so far is confirmed by the broker."""
        if not self._pending:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._flush_waiters.append(waiter)
        return waiter

    # -- consuming ----------------------------------------------------------------------
    def _start_delivery(self) -> None:
        channel = self._channel
        if channel is None or self._consuming:
            return
        self._consuming = True
        self.tasks.spawn("amqp consumer", self._consume(channel))

    async def _consume(self, channel: Any) -> None:
        try:
            messages, _tag = await channel.basic_consume(queue=self.queue, auto_ack=False)
        except Exception as e:
            log.warn("cannot consume the AMQP queue {queue}: {err}", queue=self.queue,
                     err=_describe(e))
            self._drop_connection(channel)
            return
        while True:
            try:
                message = await messages.get()
            except Exception:  # channel closed or consumer cancelled (queue deleted)
                break
            self._receive(message)
        if not self._stopping and self._channel is channel:
            log.info("the AMQP broker cancelled the consumer of {queue}; reconnecting",
                     queue=self.queue)
            self._drop_connection(channel)

    def _drop_connection(self, channel: Any) -> None:
        conn = self._conn
        if self._channel is channel and conn is not None and conn.transport is not None:
            conn.transport.loseConnection()

    def _receive(self, message: Any) -> None:
        try:
            headers = message.properties.headers or {}
            if headers.get(ORIGIN_HEADER) != self.queue:  # our own were delivered locally
                key = key_of(message.method.routing_key)
                body = json.loads(message.body)
                self._local.produce(key, body)
        except Exception as e:
            log.warn("skipping a corrupt mq message {key!r} from the AMQP broker: {err}",
                     key=getattr(message.method, "routing_key", None), err=e)
        try:
            message.channel.basic_ack(delivery_tag=message.method.delivery_tag)
        except Exception:  # closed meanwhile: the broker delivers it again
            pass

    # -- the mq interface ---------------------------------------------------------------
    async def startConsuming(self, callback: ConsumerCallback, filter: TopicFilter,
                             persistent_name: str | None = None) -> _AmqpConsumer:
        topic = tuple(filter)
        local = await self._local.startConsuming(callback, topic, persistent_name)
        pattern = binding_of(topic)
        if persistent_name is not None and persistent_name in self._persistent:
            return _AmqpConsumer(self, local, pattern, True)  # its binding is still there
        if persistent_name is not None:
            self._persistent.add(persistent_name)
        consumer = _AmqpConsumer(self, local, pattern, persistent_name is not None)
        count = self._bindings.get(pattern, 0)
        self._bindings[pattern] = count + 1
        self._unbind_later.discard(pattern)
        if count == 0 and self._channel is not None:
            try:
                await self._channel.queue_bind(queue=self.queue, exchange=self.exchange,
                                               routing_key=pattern)
            except Exception as e:  # bound again after reconnecting
                log.info("binding {pattern} deferred: {err}", pattern=pattern,
                         err=_describe(e))
        return consumer

    def _release(self, pattern: str) -> None:
        count = self._bindings.get(pattern, 0) - 1
        if count > 0:
            self._bindings[pattern] = count
            return
        self._bindings.pop(pattern, None)
        channel = self._channel
        if channel is None:
            self._unbind_later.add(pattern)
            return
        d = channel.queue_unbind(queue=self.queue, exchange=self.exchange, routing_key=pattern)
        d.addErrback(lambda f: self._unbind_later.add(pattern)
                     if pattern not in self._bindings else None)

    async def waitUntilEvent(self, filter: TopicFilter, check_callback: Any) -> Any:
        return await wait_until_event(self.startConsuming, filter, check_callback)


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"


def _describe(reason: Any) -> str:
    value = getattr(reason, "value", reason)
    return f"{type(value).__name__}: {value}" if str(value) else type(value).__name__
