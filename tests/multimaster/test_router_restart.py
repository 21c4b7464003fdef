"""The WAMP router stops in the middle of a run and comes back: a build requested on one
master meanwhile is still built (by the master with the worker), and live events from the
other master reach the web UI's WebSocket again once the router is back."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from tests.fixtures.crossbar import crossbar_path
from tests.multimaster.cluster import RestartableRouter, cluster, master_cfg, until
from tests.www.harness import WsClient

pytestmark = [
    pytest.mark.multimaster, pytest.mark.integration,
    pytest.mark.skipif(crossbar_path() is None,
                       reason="no crossbar router (set BUILDBOT_TEST_CROSSBAR or put crossbar "
                              "on PATH)")]


@pytest_twisted.ensureDeferred
async def test_router_restart_loses_no_build_and_ui_events_resume(tmp_path: Path) -> None:
    router = RestartableRouter(tmp_path / "router")
    await router.start()
    try:
        async with cluster(tmp_path) as c:
            cfg = master_cfg(c.db_url, sleep_s=0.1, workers=("wa",), extra=f"""
                c['mq'] = {{'type': 'wamp', 'router_url': {router.url!r},
                            'realm': 'buildbot'}}
                """)
            a = await c.start_master("a", cfg)
            b = await c.start_master("b", cfg)
            await c.start_worker("wa", a)  # only a can build
            ws = await WsClient.connect(f"ws://127.0.0.1:{b.www_port}/ws")
            try:
                reply = await ws.call(cmd="startConsuming", path="builds/*/*", _id=1)
                assert reply["code"] == 200

                await router.stop()
                await b.force("b")  # on b, while the router is down
                await until(lambda: len(c.requests()) == 1 and c.requests()[0].complete,
                            "a builds the request made on b", 40, a.describe)

                await router.start()
                joined = "connected to the wamp router"
                await until(lambda: a.log_text().count(joined) >= 2
                            and b.log_text().count(joined) >= 2,
                            "both masters back on the router", 60, b.describe)
                await b.force("b")
                while True:  # b's UI hears of a's build through the router again
                    frame = await ws.next("a build event from master a")
                    if frame.get("k", "").startswith("builds/") and \
                            frame["m"].get("masterid") == c.masterid(a):
                        break
            finally:
                await ws.close()
            assert len(c.requests()) == 2
    finally:
        await router.stop()
