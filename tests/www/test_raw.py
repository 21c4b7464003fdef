"""Raw downloads are streamed: a large log never sits in memory at once."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.www.harness import WebMaster, http


@pytest_twisted.ensureDeferred
async def test_raw_download_headers_and_body(master: WebMaster) -> None:
    master.raw_lines[1] = 3
    await master.start_www()
    res = await http.get(master.url("api/v2/things/1/raw"))
    assert res.code == 200
    assert res.headers.getRawHeaders("content-type") == ["text/plain; charset=utf-8"]
    assert res.headers.getRawHeaders("content-disposition") == ["attachment; filename=thing_1"]
    assert res.body == ("x" * 99 + "\n").encode() * 300
    inline = await http.get(master.url("api/v2/things/1/raw_inline"))
    assert inline.headers.getRawHeaders("content-disposition") is None
    assert inline.body == res.body


@pytest_twisted.ensureDeferred
async def test_raw_missing_is_404(master: WebMaster) -> None:
    await master.start_www()
    res = await http.get(master.url("api/v2/things/5/raw"))
    assert res.code == 404
    assert (await res.json())["error"].startswith("not found")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_large_raw_log_is_produced_only_as_fast_as_the_client_reads(
        master: WebMaster) -> None:
    """A client that stops reading pauses production: the server holds a bounded amount."""
    from twisted.internet import defer, protocol, reactor

    master.raw_lines[1] = 20000  # 200 MB if it were all produced
    await master.start_www()

    class SlowClient(protocol.Protocol):
        def __init__(self) -> None:
            self.received = 0
            self.ready: defer.Deferred[None] = defer.Deferred()

        def connectionMade(self) -> None:
            self.transport.write(b"GET /api/v2/things/1/raw HTTP/1.1\r\nHost: x\r\n\r\n")
            self.transport.pauseProducing()  # stop reading: the kernel buffers fill up
            self.ready.callback(None)

        def dataReceived(self, data: bytes) -> None:
            self.received += len(data)

    client = SlowClient()
    endpoint = protocol.ClientCreator(reactor, lambda: client)
    await endpoint.connectTCP("127.0.0.1", master.www.port_number)
    await client.ready
    # Let the server run until it stalls on the full socket buffers.
    last = -1
    while master.raw_produced != last:
        last = master.raw_produced
        await _turns(reactor, 50)
    assert master.raw_produced < 2000, "the server produced far ahead of the reader"
    client.transport.resumeProducing()
    client.transport.loseConnection()


async def _turns(reactor: object, n: int) -> None:
    from twisted.internet.task import deferLater

    for _ in range(n):
        await deferLater(reactor, 0.001, lambda: None)
