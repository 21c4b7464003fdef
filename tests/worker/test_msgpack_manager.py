"""The msgpack WebSocket port manager with an in-process client: HTTP Basic authentication,
framing, sequence numbers, responses, and the per-command order of worker requests."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest
import pytest_twisted
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, protocol

from buildbot.worker.protocols.base import RemoteWorkerError, WorkerConnectionLost
from buildbot.worker.protocols.manager.msgpack import MsgManager, decode_basic_authorization
from buildbot.worker.protocols.msgpack import Connection
from tests.worker.conftest import LOOPBACK_PORT
from tests.worker.standin import Events

pytestmark = pytest.mark.integration


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Client(WebSocketClientProtocol):
    """Plays a msgpack worker: records what it receives, sends what the test says."""

    def onOpen(self) -> None:
        self.factory.opened.callback(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.factory.received.append(msgpack.unpackb(payload, raw=False))

    def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
        if not self.factory.closed.called:
            self.factory.closed.callback(reason)

    def send(self, msg: dict[str, Any]) -> None:
        self.sendMessage(msgpack.packb(msg, use_bin_type=True), isBinary=True)


class FakeWorker:
    def __init__(self, events: Events) -> None:
        self.name = "w1"
        self.events = events

    async def attached(self, conn: Connection) -> None:
        self.events.append("attached")

    def messageReceivedFromWorker(self) -> None:
        pass

    def shutdownRequested(self) -> None:
        pass


class Side:
    def __init__(self) -> None:
        from twisted.internet import reactor

        self.reactor = reactor
        self.manager = MsgManager()
        self.events = Events()
        self.conn: Connection | None = None
        self.gate: defer.Deferred[None] | None = None
        self.port = 0
        self.clients: list[Any] = []

    async def factory(self, proto: Any, username: str) -> Connection:
        if self.gate is not None:
            await self.gate
        self.conn = Connection(FakeWorker(self.events), proto, self.reactor)
        self.conn.notifyOnDisconnect(lambda: self.events.append("detached"))
        return self.conn

    async def connect(self, user: str = "w1", password: str = "pass") -> Client:
        f = WebSocketClientFactory(f"ws://127.0.0.1:{self.port}",
                                   headers={"Authorization": basic(user, password)})
        f.protocol = Client
        f.opened, f.closed, f.received = defer.Deferred(), defer.Deferred(), Events()
        self.reactor.connectTCP("127.0.0.1", self.port, f)
        self.clients.append(f)
        client: Client = await f.opened
        f.client = client
        return client

    async def http_status(self, headers: str) -> str:
        """The status line answered to a WebSocket upgrade with `headers`."""
        got: defer.Deferred[bytes] = defer.Deferred()

        class Raw(protocol.Protocol):
            def connectionMade(self) -> None:
                # Any: mypy without the zope plugin cannot call ITransport's methods
                transport: Any = self.transport
                transport.write(
                    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    b"Sec-WebSocket-Version: 13\r\n" + headers.encode() + b"\r\n")
                self.data = b""

            def dataReceived(self, data: bytes) -> None:
                self.data += data

            def connectionLost(self, reason: Any) -> None:
                got.callback(self.data)

        await protocol.ClientCreator(self.reactor, Raw).connectTCP("127.0.0.1", self.port)
        return (await got).split(b"\r\n", 1)[0].decode()


@pytest_twisted.async_yield_fixture
async def side() -> AsyncIterator[Side]:
    s = Side()
    await s.manager.startService()
    reg = await s.manager.register(LOOPBACK_PORT, "w1", "pass", s.factory)
    s.port = reg.getPort()
    try:
        yield s
    finally:
        for f in s.clients:
            if not f.closed.called:
                f.client.transport.abortConnection()
                await f.closed
        if s.conn is not None:
            await s.conn.wait_disconnected()
        await reg.unregister()
        await s.manager.stopService()


def test_basic_authorization_decoding() -> None:
    assert decode_basic_authorization(basic("w1", "p:a:ss")) == ("w1", "p:a:ss")
    for bad in ("Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()):
        with pytest.raises(ValueError):
            decode_basic_authorization(bad)


@pytest_twisted.ensureDeferred
async def test_handshake_authentication_statuses(side: Side, master_log: Any) -> None:
    assert await side.http_status("") == "HTTP/1.1 401 Unauthorized"
    assert await side.http_status("Authorization: Basic !!!\r\n") == "HTTP/1.1 400 Bad request"
    assert await side.http_status(f"Authorization: {basic('w1', 'nope')}\r\n") == (
        "HTTP/1.1 401 Unauthorized")
    assert await side.http_status(f"Authorization: {basic('x', 'pass')}\r\n") == (
        "HTTP/1.1 401 Unauthorized")
    assert master_log.count("wrong password for 'w1' (from 127.0.0.1:") == 1
    assert master_log.count("unknown name 'x' (from 127.0.0.1:") == 1
    assert side.events.items == []


@pytest_twisted.ensureDeferred
async def test_requests_before_the_connection_is_registered_are_refused(side: Side) -> None:
    side.gate = defer.Deferred()
    client = await side.connect()
    client.send({"op": "update", "seq_number": 0, "command_id": "1", "args": []})
    await client.factory.received.wait(lambda r: len(r) == 1, "a response")
    assert client.factory.received.items == [
        {"op": "response", "seq_number": 0, "result": "Worker not authenticated.",
         "is_exception": True}]
    side.gate.callback(None)
    await side.events.wait_for("attached")


@pytest_twisted.ensureDeferred
async def test_worker_requests_get_exactly_one_response_each(side: Side) -> None:
    client = await side.connect()
    await side.events.wait_for("attached")
    received = client.factory.received
    client.sendMessage(b"text is ignored", isBinary=False)
    client.send({"op": "update"})  # no seq_number: dropped
    client.send({"op": "bogus", "seq_number": 5})
    client.send({"op": "update", "seq_number": 6, "command_id": "nope", "args": []})
    client.send({"op": "update_read_file", "seq_number": 7})
    await received.wait(lambda r: len(r) == 3, "three responses")
    assert received.items == [
        {"op": "response", "seq_number": 5, "result": "Command bogus does not exist.",
         "is_exception": True},
        {"op": "response", "seq_number": 6, "result": 'unknown "command_id"',
         "is_exception": True},
        {"op": "response", "seq_number": 7,
         "result": 'message did not contain obligatory "command_id" key', "is_exception": True},
    ]


@pytest_twisted.ensureDeferred
async def test_master_requests_are_numbered_and_matched_to_responses(side: Side) -> None:
    client = await side.connect()
    await side.events.wait_for("attached")
    conn = side.conn
    assert conn is not None and conn.get_peer().startswith("127.0.0.1:")
    received = client.factory.received

    first = defer.ensureDeferred(conn.remotePrint("hello"))
    second = defer.ensureDeferred(conn.remoteGetWorkerInfo())
    await received.wait(lambda r: len(r) == 2, "two requests")
    assert received.items == [{"op": "print", "message": "hello", "seq_number": 0},
                              {"op": "get_worker_info", "seq_number": 1}]
    client.send({"op": "response", "seq_number": 1,
                 "result": {"basedir": "/w", "system": "posix", "environ": {}}})
    client.send({"op": "response", "seq_number": 0, "result": "oops", "is_exception": True})
    assert (await second)["basedir"] == "/w"
    with pytest.raises(RemoteWorkerError, match="oops"):
        await first

    pending = defer.ensureDeferred(conn.remotePrint("never answered"))
    client.transport.abortConnection()
    with pytest.raises(WorkerConnectionLost):
        await pending
    await side.events.wait_for("detached")
    with pytest.raises(WorkerConnectionLost):
        await conn.remotePrint("after")


class SlowCommand:
    """A remote command whose update takes a while to apply."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.release: defer.Deferred[None] = defer.Deferred()

    def remote_update(self, updates: Any) -> defer.Deferred[None]:
        self.calls.append(("update", updates))
        return self.release

    def remote_complete(self, failure: Any = None) -> None:
        self.calls.append(("complete", failure))


class Reader:
    def remote_read(self, n: int) -> bytes:
        return b"data"[:n]

    def remote_close(self) -> None:
        pass


@pytest_twisted.ensureDeferred
async def test_requests_of_one_command_are_served_in_order(side: Side) -> None:
    client = await side.connect()
    await side.events.wait_for("attached")
    conn = side.conn
    assert conn is not None
    received = client.factory.received
    info = defer.ensureDeferred(conn.remoteGetWorkerInfo())
    await received.wait(lambda r: len(r) == 1, "get_worker_info")
    client.send({"op": "response", "seq_number": 0,
                 "result": {"basedir": "/w", "system": "posix", "environ": {}}})
    await info
    assert conn._paths is not None  # set from the worker info just received
    conn._builder_dirs = {"b1": conn._paths.basedir / "b1"}

    cmd = SlowCommand()
    start = defer.ensureDeferred(conn.remoteStartCommand(
        cmd, "b1", "c1", "downloadFile", {"workdir": "build", "workerdest": "f",
                                          "reader": Reader(), "maxsize": None,
                                          "blocksize": 4, "mode": None}))
    await received.wait(lambda r: len(r) == 2, "start_command")
    assert received.items[1] == {
        "op": "start_command", "builder_name": "b1", "command_id": "c1",
        "command_name": "download_file", "seq_number": 1,
        "args": {"path": "/w/b1/build/f", "maxsize": None, "blocksize": 4, "mode": None}}
    client.send({"op": "update_read_file", "seq_number": 0, "command_id": "c1", "length": 3})
    client.send({"op": "update", "seq_number": 1, "command_id": "c1",
                 "args": [["rc", 0], ["stdout", ["x\n", [1], [1.0]]]]})
    client.send({"op": "complete", "seq_number": 2, "command_id": "c1", "args": None})
    client.send({"op": "response", "seq_number": 1, "result": None})
    await start
    await received.wait(lambda r: len(r) == 3, "the read response")
    assert received.items[2] == {"op": "response", "seq_number": 0, "result": b"dat"}
    assert cmd.calls == [("update", [[{"rc": 0}, 0], [{"stdout": "x\n"}, 0]])]
    cmd.release.callback(None)  # the update is applied: now complete runs
    await received.wait(lambda r: len(r) == 5, "the update and complete responses")
    assert cmd.calls[-1] == ("complete", None)
    assert [m["seq_number"] for m in received.items[3:]] == [1, 2]
