"""The WAMP mq delivers bodies to this master's consumers as produced (datetimes) and
publishes them to the other masters with epoch seconds, as Buildbot 4.3 does: autobahn's
serializers cannot carry datetimes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.serializer import JsonObjectSerializer, MsgPackObjectSerializer

from buildbot.mq.wamp import WampMQ

AT = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
EPOCH = 1704164645


class RecordingSession:
    """Stands in for autobahn's joined session (the router is not ours): records what is
    published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    def publish(self, topic: str, data: Any, options: Any = None) -> None:
        self.published.append((topic, data))


@pytest_twisted.ensureDeferred
async def test_local_consumers_get_datetimes_other_masters_epochs() -> None:
    mq = WampMQ({"router_url": "ws://127.0.0.1:1/ws"})  # never started: no router needed
    got: list[Any] = []
    consumer = await mq.startConsuming(lambda k, b: got.append(b), ("builds", None, None))
    session = mq._session = RecordingSession()
    body = {"buildid": 1, "started_at": AT, "complete_at": None, "complete": False,
            "properties": {}, "sourcestamps": [{"ssid": 1, "created_at": AT}]}
    try:
        mq.produce(("builds", "1", "new"), body)
    finally:
        mq._session = None
        consumer.stopConsuming()

    assert got == [body] and got[0] is body
    [(topic, sent)] = session.published
    assert topic == "org.buildbot.mq.builds.1.new"
    assert sent == {"buildid": 1, "started_at": EPOCH, "complete_at": None, "complete": False,
                    "properties": {}, "sourcestamps": [{"ssid": 1, "created_at": EPOCH}]}
    assert body["started_at"] is AT  # the produced body is never changed
    for serializer in (MsgPackObjectSerializer(), JsonObjectSerializer()):
        serializer.serialize(sent)  # what the router connection does
        with pytest.raises(TypeError):
            serializer.serialize(body)
