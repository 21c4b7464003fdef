"""The amqp mq through the real RabbitMQ on 127.0.0.1:5672 (skipped when it is not running):
events between two masters' buses, catching up after a lost connection or a restart of the
master, buffering while the broker is unreachable, corrupt messages, a broker restart."""

from __future__ import annotations

import datetime
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pika
import pytest
import pytest_twisted
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer, protocol, reactor, utils

from buildbot.config.errors import ConfigErrors
from buildbot.mq.amqp import AmqpMQ, binding_of, key_of, queue_name_for, routing_key_of
from buildbot.mq.connector import MQConnector
from buildbot.util.service import AsyncService

URL = "amqp://guest:guest@127.0.0.1:5672/"
AT = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def _broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=0.5).close()
        return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not _broker_up(),
                                  reason="RabbitMQ is not running on 127.0.0.1:5672")


# -- without a broker ---------------------------------------------------------------------
def test_routing_keys_escape_what_amqp_treats_specially() -> None:
    key = ("builders", "a.b", "*", "#", "", "50%")
    assert routing_key_of(key) == "builders.a%2Eb.%2A.%23.%00.50%25"
    assert key_of(routing_key_of(key)) == key
    assert binding_of(("builds", None, "new")) == "builds.*.new"
    assert binding_of(("x", "*")) == "x.%2A"  # a literal star is not a wildcard


def test_queue_names_stay_within_amqp_limits() -> None:
    assert queue_name_for("bb.", "host:/srv/m1") == "bb.host:/srv/m1"
    long = queue_name_for("bb.", "h:/" + "x" * 300)
    assert long.startswith("bb.") and len(long) <= 255
    assert long != queue_name_for("bb.", "h:/" + "y" * 300)


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="url"):
        AmqpMQ({"type": "amqp"}, master_name="m")
    from buildbot.config.load_globals import load_mq
    from buildbot.config.master import MasterConfig

    with pytest.raises(ConfigErrors, match=r"c\['mq'\]\['url'\] is required"):
        from buildbot.config.errors import capture_config_errors

        with capture_config_errors(raise_on_error=True):
            load_mq(MasterConfig(), {"mq": {"type": "amqp"}}, "master.cfg")
    cfg = MasterConfig()
    load_mq(cfg, {"mq": {"type": "amqp", "url": URL, "exchange": "bb", "max_buffer": 5}},
            "master.cfg")
    assert cfg.mq["exchange"] == "bb"


def test_buffer_is_bounded_while_disconnected() -> None:
    mq = AmqpMQ({"url": URL, "max_buffer": 2}, master_name="m")  # never connected
    got: list[Any] = []
    mq._local.produce = (  # type: ignore[method-assign]  # records, does not deliver
        lambda routingKey, data: got.append(routingKey))
    for i in range(4):
        mq.produce(("changes", str(i), "new"), {"changeid": i})
    assert got == [("changes", str(i), "new") for i in range(4)]  # local delivery at once
    assert [rk for rk, _ in mq._pending.values()] == ["changes.2.new", "changes.3.new"]
    assert mq._dropped == 2


# -- with the broker ----------------------------------------------------------------------
class Bus:
    """Creates amqp buses on a private exchange and removes what they left on the broker."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.exchange = f"bbtest-{tag}"
        self.prefix = f"bbtest-{tag}."
        self.buses: list[AmqpMQ] = []

    def make(self, name: str, **cfg: Any) -> AmqpMQ:
        wait = cfg.pop("wait", False)
        mq = AmqpMQ({"url": URL, "exchange": self.exchange, "queue_prefix": self.prefix,
                     "queue_expires": 600, **cfg}, master_name=name, wait_for_master=wait)
        self.buses.append(mq)
        return mq

    async def start(self, name: str, **cfg: Any) -> AmqpMQ:
        mq = self.make(name, **cfg)
        await mq.startService()
        return mq

    async def cleanup(self) -> None:
        for mq in self.buses:
            if mq.running:
                await mq.stopService()
        conn = await protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                            pika.URLParameters(URL)).connectTCP("127.0.0.1",
                                                                                5672)
        await conn.ready
        channel = await conn.channel()
        for name in {mq.queue for mq in self.buses}:
            await channel.queue_delete(queue=name)
        await channel.exchange_delete(exchange=self.exchange)
        closed = conn.closed
        conn.close()
        await closed


@pytest_twisted.async_yield_fixture
async def bus() -> AsyncIterator[Bus]:
    b = Bus()
    yield b
    await b.cleanup()


class Inbox:
    """Collects (key, body); `until(n)` fires once n messages arrived."""

    def __init__(self) -> None:
        self.got: list[tuple[tuple[str, ...], Any]] = []
        self._waiters: list[tuple[int, defer.Deferred[None]]] = []

    def __call__(self, key: tuple[str, ...], body: Any) -> None:
        self.got.append((key, body))
        for n, d in list(self._waiters):
            if len(self.got) >= n and not d.called:
                self._waiters.remove((n, d))
                d.callback(None)

    def until(self, n: int) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        if len(self.got) >= n:
            d.callback(None)
        else:
            self._waiters.append((n, d))
        return d.addTimeout(30, reactor)

    @property
    def keys(self) -> list[tuple[str, ...]]:
        return [k for k, _ in self.got]


def hold_reconnection(mq: AmqpMQ) -> Callable[[], None]:
    """Make `mq`'s next reconnection wait until the returned function is called."""
    gate: defer.Deferred[None] = defer.Deferred()
    connect = mq._connect

    async def held() -> Any:
        await gate
        mq._connect = connect  # type: ignore[method-assign]  # the real one back
        return await connect()

    mq._connect = held  # type: ignore[method-assign]  # a gate before the real one
    return lambda: gate.callback(None)


def lost(mq: AmqpMQ) -> defer.Deferred[None]:
    """Cut `mq`'s connection as a network failure would; fires once it noticed."""
    noticed = lost_notice(mq)
    mq._conn.transport.abortConnection()
    return noticed


def lost_notice(mq: AmqpMQ) -> defer.Deferred[None]:
    """Fires once `mq` noticed that its connection closed."""
    d: defer.Deferred[None] = defer.Deferred()
    original = mq._lost

    def noticed() -> None:
        original()
        mq._lost = original  # type: ignore[method-assign]  # the real one back
        d.callback(None)

    mq._lost = noticed  # type: ignore[method-assign]  # a spy around the real one
    return d


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_two_masters_exchange_events(bus: Bus) -> None:
    a, b = await bus.start("a"), await bus.start("b")
    got_a, got_b = Inbox(), Inbox()
    await a.startConsuming(got_a, ("builds", None, "new"))
    await b.startConsuming(got_b, ("builds", None, None))

    a.produce(("builds", "1", "new"), {"buildid": 1, "started_at": AT})
    assert got_a.got == [(("builds", "1", "new"), {"buildid": 1, "started_at": AT})]
    await got_b.until(1)
    assert got_b.got == [(("builds", "1", "new"), {"buildid": 1, "started_at": 1704164645})]

    b.produce(("builds", "2", "finished"), {"buildid": 2})  # not bound on a's queue
    b.produce(("builds", "3", "new"), {"buildid": 3})
    await got_a.until(2)
    # a's own message 1 was queued back to it before b's 3: skipped, not delivered twice
    assert got_a.keys == [("builds", "1", "new"), ("builds", "3", "new")]
    assert got_b.keys == [("builds", "1", "new"), ("builds", "2", "finished"),
                          ("builds", "3", "new")]


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_lost_connection_catches_up(bus: Bus) -> None:
    a, b = await bus.start("a"), await bus.start("b")
    got = Inbox()
    await a.startConsuming(got, ("changes", None, "new"))
    release = hold_reconnection(a)
    await lost(a)
    assert not a.connected
    for i in range(5):
        b.produce(("changes", str(i), "new"), {"changeid": i})
    await b.flushed()  # in a's queue on the broker, while a is away
    release()
    await got.until(5)
    assert [body["changeid"] for _, body in got.got] == [0, 1, 2, 3, 4]


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_restarted_master_receives_what_was_published_while_it_was_down(
        bus: Bus) -> None:
    a, b = await bus.start("a"), await bus.start("b")
    await a.startConsuming(Inbox(), ("buildrequests", None, "new"))
    await a.stopService()
    b.produce(("buildrequests", "7", "new"), {"buildrequestid": 7})
    b.produce(("buildrequests", "8", "new"), {"buildrequestid": 8})
    await b.flushed()

    # The restarted master only takes its queue once it announced itself started.
    again = await bus.start("a", wait=True)
    got = Inbox()
    await again.startConsuming(got, ("buildrequests", None, "new"))
    again.produce(("masters", "1", "started"), {"masterid": 1, "name": "a", "active": True})
    await got.until(2)
    assert got.keys == [("buildrequests", "7", "new"), ("buildrequests", "8", "new")]


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_messages_produced_while_disconnected_are_sent_on_reconnect(bus: Bus) -> None:
    a, b = await bus.start("a"), await bus.start("b")
    got = Inbox()
    await a.startConsuming(got, ("workers", None, None))
    release = hold_reconnection(b)
    await lost(b)
    for i in range(3):
        b.produce(("workers", str(i), "connected"), {"workerid": i})
    assert len(b._pending) == 3
    release()
    await got.until(3)
    assert [body["workerid"] for _, body in got.got] == [0, 1, 2]
    await b.flushed()
    assert not b._pending


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_corrupt_messages_are_skipped(bus: Bus) -> None:
    a, b = await bus.start("a"), await bus.start("b")
    got = Inbox()
    await a.startConsuming(got, ("changes", None, "new"))
    await b._channel.basic_publish(exchange=bus.exchange, routing_key="changes.1.new",
                                   body=b"{not json")
    b.produce(("changes", "2", "new"), {"changeid": 2})
    await got.until(1)
    assert got.got == [(("changes", "2", "new"), {"changeid": 2})]
    assert a.connected


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_unbound_filters_stop_arriving(bus: Bus) -> None:
    a, b = await bus.start("a"), await bus.start("b")
    first, second = Inbox(), Inbox()
    consumer = await a.startConsuming(first, ("logs", None, "append"))
    await a.startConsuming(second, ("steps", None, "new"))
    consumer.stopConsuming()
    b.produce(("logs", "1", "append"), {"logid": 1})
    b.produce(("steps", "1", "new"), {"stepid": 1})
    await second.until(1)
    assert first.got == []
    assert "logs.*.append" not in a._bindings


@needs_broker
@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_connector_names_the_queue_after_the_master(bus: Bus) -> None:
    connector = MQConnector()
    connector.setServiceParent(AsyncService(name="host:/srv/master"))  # the master's name
    connector.setup({"type": "amqp", "url": URL, "exchange": bus.exchange,
                     "queue_prefix": bus.prefix})
    bus.buses.append(connector.impl)
    assert connector.impl.queue == bus.prefix + "host:/srv/master"
    assert not connector.impl._delivering  # until the master announces itself


@needs_broker
@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="rabbitmqctl not installed")
@pytest.mark.integration
@pytest.mark.timeout(120)
@pytest_twisted.ensureDeferred
async def test_broker_restart_loses_nothing(bus: Bus) -> None:
    a = await bus.start("a", wait=True)  # a does not consume yet: its queue fills
    b = await bus.start("b")
    got = Inbox()
    await a.startConsuming(got, ("buildsets", None, "new"))
    b.produce(("buildsets", "1", "new"), {"bsid": 1})
    await b.flushed()  # persistent, in a's durable queue

    async def rabbitmqctl(*args: str) -> None:
        _out, err, code = await utils.getProcessOutputAndValue("rabbitmqctl", args)
        if code != 0:
            pytest.skip(f"cannot control RabbitMQ here: {err.decode()[-200:]}")

    down_a, down_b = lost_notice(a), lost_notice(b)
    await rabbitmqctl("stop_app")
    try:
        await down_a
        await down_b
        b.produce(("buildsets", "2", "new"), {"bsid": 2})  # buffered
    finally:
        await rabbitmqctl("start_app")
    a.produce(("masters", "1", "started"), {"masterid": 1, "name": "a", "active": True})
    await got.until(2)
    assert got.keys == [("buildsets", "1", "new"), ("buildsets", "2", "new")]


