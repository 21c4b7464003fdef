from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.mq.connector import MQConfigError, MQConnector
from buildbot.mq.simple import SimpleMQ


class Recorder:
    def __init__(self) -> None:
        self.got: list[tuple[tuple[str, ...], Any]] = []

    def __call__(self, key: tuple[str, ...], body: Any) -> None:
        self.got.append((key, body))


@pytest.fixture
def mq() -> SimpleMQ:
    return SimpleMQ()


@pytest.mark.parametrize(
    ("topic", "key", "hit"),
    [
        (("builds", None, "finished"), ("builds", "1", "finished"), True),
        (("builds", None, "finished"), ("builds", "1", "new"), False),
        (("builds", None, None), ("builds", "1", "new"), True),
        ((None, None, None), ("a", "b", "c"), True),
        (("builds", None), ("builds", "1", "finished"), False),  # lengths must be equal
        (("builds", None, "finished"), ("builds", "1"), False),
        (("builds", "2", "finished"), ("builds", "1", "finished"), False),
    ],
)
@pytest_twisted.ensureDeferred
async def test_topic_matching(mq: SimpleMQ, topic: Any, key: Any, hit: bool) -> None:
    rec = Recorder()
    await mq.startConsuming(rec, topic)
    mq.produce(key, {"x": 1})
    assert rec.got == ([(key, {"x": 1})] if hit else [])


@pytest_twisted.ensureDeferred
async def test_messages_arrive_in_production_order_to_each_consumer(mq: SimpleMQ) -> None:
    a, b = Recorder(), Recorder()
    await mq.startConsuming(a, ("k", None))
    await mq.startConsuming(b, (None, "1"))
    for i in range(3):
        mq.produce(("k", str(i)), i)
    assert [body for _, body in a.got] == [0, 1, 2]
    assert [body for _, body in b.got] == [1]


@pytest_twisted.ensureDeferred
async def test_failing_consumer_does_not_stop_others(mq: SimpleMQ, logged_errors: Any) -> None:
    def boom(key: Any, body: Any) -> None:
        raise RuntimeError("boom")

    async def async_boom(key: Any, body: Any) -> None:
        raise RuntimeError("async boom")

    rec = Recorder()
    await mq.startConsuming(boom, ("k",))
    await mq.startConsuming(async_boom, ("k",))
    await mq.startConsuming(rec, ("k",))
    mq.produce(("k",), 1)
    assert rec.got == [(("k",), 1)]
    assert len(logged_errors.flush(RuntimeError)) == 2


@pytest_twisted.ensureDeferred
async def test_stop_consuming_ends_delivery(mq: SimpleMQ) -> None:
    rec = Recorder()
    c = await mq.startConsuming(rec, ("k",))
    c.stopConsuming()
    mq.produce(("k",), 1)
    assert rec.got == []
    assert mq.consumer_count() == 0


@pytest_twisted.ensureDeferred
async def test_persistent_consumer_keeps_messages_while_stopped(mq: SimpleMQ) -> None:
    first = Recorder()
    c = await mq.startConsuming(first, ("k", None), persistent_name="q")
    mq.produce(("k", "1"), 1)
    c.stopConsuming()
    mq.produce(("k", "2"), 2)
    second = Recorder()
    await mq.startConsuming(second, ("k", None), persistent_name="q")
    mq.produce(("k", "3"), 3)
    assert [b for _, b in first.got] == [1]
    assert [b for _, b in second.got] == [2, 3]


@pytest_twisted.ensureDeferred
async def test_wait_until_event_returns_matching_message(mq: SimpleMQ) -> None:
    d = defer.ensureDeferred(mq.waitUntilEvent(("b", None, "done"), lambda: False))
    mq.produce(("b", "1", "other"), 0)
    assert not d.called
    mq.produce(("b", "1", "done"), 42)
    assert await d == (("b", "1", "done"), 42)
    assert mq.consumer_count() == 0


@pytest_twisted.ensureDeferred
async def test_wait_until_event_skips_wait_when_check_is_true(mq: SimpleMQ) -> None:
    assert await mq.waitUntilEvent(("b", None, "done"), lambda: "already") == "already"


def test_connector_rejects_unknown_type_and_type_change() -> None:
    conn = MQConnector()
    with pytest.raises(MQConfigError, match="mq type 'nope' is not known"):
        conn.setup({"type": "nope"})
    conn.setup({"type": "simple"})
    with pytest.raises(MQConfigError, match="Cannot change"):
        conn.reconfigure({"type": "wamp"})
