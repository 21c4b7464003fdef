"""Under load the reactor stays responsive: big lists are encoded a batch at a time."""

from __future__ import annotations

import json
import time

import pytest
import pytest_twisted
from twisted.internet import task

from buildbot.util.deferred import gather
from tests.www.harness import WebMaster, WsClient, http

pytestmark = pytest.mark.integration


@pytest_twisted.ensureDeferred
async def test_concurrent_big_lists_and_websockets_keep_reactor_responsive(
        master: WebMaster) -> None:
    from twisted.internet import reactor

    for i in range(3000):
        master.things[i + 1] = {"thingid": i + 1, "name": f"t{i}", "tags": ["a", "b"],
                                "text": "z" * 200}
    await master.start_www()
    sockets = [await WsClient.connect(master.url("ws").replace("http", "ws"))
               for _ in range(20)]
    for ws in sockets:
        await ws.call(cmd="startConsuming", path="things/*/*", _id=1)

    # A stall is the reactor thread running our code without coming back to the loop, so
    # each gap is measured in that thread's CPU time: a busy machine that does not schedule
    # this process for a while is not a stall of ours.
    gaps: list[float] = []
    last = [time.thread_time()]

    def tick() -> None:
        now = time.thread_time()
        gaps.append(now - last[0])
        last[0] = now

    ticker = task.LoopingCall(tick)
    ticker.clock = reactor
    ticker.start(0.01)
    try:
        async def fetch() -> int:
            res = await http.get(master.url("api/v2/things"),
                                 headers={"Accept": "application/json"})
            return len(json.loads(res.body)["things"])

        results = await gather(fetch() for _ in range(20))
        master.mq.produce(("things", "1", "update"), {"thingid": 1})
        events = await gather(ws.next("the broadcast event") for ws in sockets)
    finally:
        ticker.stop()
    assert results == [3000] * 20
    assert all(e["k"] == "things/1/update" for e in events)
    assert max(gaps) < 1.0, f"the reactor stalled for {max(gaps):.2f}s of CPU"
    for ws in sockets:
        await ws.close()
