"""WebSocket /ws with an autobahn client: subscribe, events, stop, ping, errors."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.www.harness import HandshakeRefused, WebMaster, WsClient, with_timeout


def _ws_url(master: WebMaster) -> str:
    return master.url("ws").replace("http://", "ws://")


@pytest_twisted.ensureDeferred
async def test_subscribe_receive_events_and_stop(master: WebMaster) -> None:
    await master.start_www()
    ws = await WsClient.connect(_ws_url(master))
    assert await ws.call(cmd="startConsuming", path="things/*/*", _id=1) == {
        "msg": "OK", "code": 200, "_id": 1}
    # twice: still one delivery per event
    assert (await ws.call(cmd="startConsuming", path="things/*/*", _id=2))["code"] == 200
    await master.data.updates.addThing("t1", tags=["x"])
    event = await ws.next("the things/1/new event")
    assert event == {"k": "things/1/new",
                     "m": {"thingid": 1, "name": "t1", "tags": ["x"], "text": ""}}
    assert await ws.call(cmd="stopConsuming", path="things/*/*", _id=3) == {
        "msg": "OK", "code": 200, "_id": 3}
    await master.data.updates.addThing("t2")
    assert await ws.call(cmd="ping", _id="p") == {"msg": "pong", "code": 200, "_id": "p"}
    await ws.close()
    assert master.mq.consumer_count() == 0


@pytest_twisted.ensureDeferred
async def test_pattern_matches_only_same_length_keys(master: WebMaster) -> None:
    await master.start_www()
    ws = await WsClient.connect(_ws_url(master))
    await ws.call(cmd="startConsuming", path="things/1/*", _id=1)
    master.mq.produce(("things", "1", "sub", "new"), {"no": 1})
    master.mq.produce(("things", "1", "update"), {"yes": 1})
    assert await ws.next() == {"k": "things/1/update", "m": {"yes": 1}}
    await ws.close()


@pytest.mark.parametrize(("frame", "reply"), [
    ({"cmd": "ping"}, {"error": "no '_id' or 'type' in websocket frame", "code": 400,
                       "_id": None}),
    ({"_id": 1}, {"error": "no 'cmd' in websocket frame", "code": 400, "_id": None}),
    ({"_id": 1, "cmd": "dance"}, {"error": "no such command type 'dance'", "code": 404,
                                  "_id": 1}),
    ({"_id": 1, "cmd": "startConsuming", "path": 3},
     {"error": "invalid path format '3'", "code": 400, "_id": 1}),
    ({"_id": 1, "cmd": "stopConsuming", "path": "a/*"},
     {"error": "path was not consumed 'a/*'", "code": 400, "_id": 1}),
])
@pytest_twisted.ensureDeferred
async def test_error_replies(master: WebMaster, frame: dict[str, object],
                             reply: dict[str, object]) -> None:
    await master.start_www()
    ws = await WsClient.connect(_ws_url(master))
    assert await ws.call(**frame) == reply
    await ws.close()


@pytest_twisted.ensureDeferred
async def test_argument_errors(master: WebMaster) -> None:
    await master.start_www()
    ws = await WsClient.connect(_ws_url(master))
    missing = await ws.call(_id=1, cmd="startConsuming")
    extra = await ws.call(_id=2, cmd="ping", x=1)
    assert (missing["code"], extra["code"]) == (400, 400)
    assert missing["error"].startswith("Invalid method argument '")
    assert "'x'" in extra["error"]
    await ws.close()


@pytest_twisted.ensureDeferred
async def test_server_pings_at_interval(master: WebMaster) -> None:
    from twisted.internet.task import Clock

    clock = Clock()
    master.reactor = clock  # the web server keeps listening on the real reactor
    await master.start_www(ws_ping_interval=10)
    ws = await WsClient.connect(_ws_url(master))
    clock.advance(10)
    await ws.call(cmd="ping", _id=1)  # a round trip: the ping frame arrived before the pong
    assert ws.pings == 1
    await ws.close()


@pytest_twisted.ensureDeferred
async def test_bad_cookie_refuses_handshake(master: WebMaster) -> None:
    await master.start_www()
    with pytest.raises(HandshakeRefused) as e:
        await WsClient.connect(_ws_url(master), cookie="garbage")
    assert e.value.status == 403


@pytest_twisted.ensureDeferred
async def test_stop_closes_websockets(master: WebMaster) -> None:
    await master.start_www()
    ws = await WsClient.connect(_ws_url(master))
    await ws.call(cmd="startConsuming", path="things/*/*", _id=1)
    await master.stop()
    await with_timeout(ws.closed, "the server to close the WebSocket")
    assert master.mq.consumer_count() == 0


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_slow_consumer_is_disconnected_with_bounded_queue(
        master: WebMaster, monkeypatch: pytest.MonkeyPatch) -> None:
    from buildbot.www import ws as ws_module

    monkeypatch.setattr(ws_module, "MAX_QUEUED_MESSAGES", 50)
    await master.start_www()
    client = await WsClient.connect(_ws_url(master))
    await client.call(cmd="startConsuming", path="things/*/*", _id=1)
    client.proto.transport.pauseProducing()  # the client stops reading
    server_proto = next(iter(master.www.ws.connections))
    big = {"blob": "x" * 100_000}
    for i in range(2000):
        if server_proto._closed:
            break
        master.mq.produce(("things", str(i), "update"), big)
    assert server_proto._closed, "the slow client was never dropped"
    assert len(server_proto._outq) == 0
    client.proto.transport.resumeProducing()
    await with_timeout(client.closed, "the slow client's connection to close")


@pytest_twisted.ensureDeferred
async def test_an_event_is_encoded_once_for_all_subscribers(master: WebMaster) -> None:
    # issue 16: the frame of an event is built once, not once per connection
    www = await master.start_www()
    clients = [await WsClient.connect(_ws_url(master)) for _ in range(20)]
    for i, ws in enumerate(clients):
        await ws.call(cmd="startConsuming", path="things/*/*", _id=i)
    encoder = www.ws.factory.encoder
    before = encoder.encoded
    for n in range(5):
        master.mq.produce(("things", str(n), "update"), {"n": n})
    for ws in clients:
        got = [await ws.next() for _ in range(5)]
        assert got == [{"k": f"things/{n}/update", "m": {"n": n}} for n in range(5)]
    assert encoder.encoded - before == 5
    for ws in clients:
        await ws.close()
