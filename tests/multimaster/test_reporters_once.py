"""One report per build event across the cluster: every master has the same HttpStatusPush and
hears every event through a real crossbar router; each build is posted once when it starts
and once when it ends, whichever master ran it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.web import resource, server

from tests.fixtures.crossbar import crossbar_path, running_router
from tests.fixtures.reactor import global_reactor
from tests.multimaster.cluster import cluster, master_cfg, sleep, until

pytestmark = [
    pytest.mark.multimaster, pytest.mark.integration,
    pytest.mark.skipif(crossbar_path() is None,
                       reason="no crossbar router (set BUILDBOT_TEST_CROSSBAR or put crossbar "
                              "on PATH)")]


class Counting(resource.Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.posts: Counter[tuple[int, bool]] = Counter()

    def render_POST(self, request: Any) -> bytes:
        body = json.loads(request.content.read())
        self.posts[(int(body["buildid"]), bool(body["complete"]))] += 1
        return b"{}"


@pytest_twisted.ensureDeferred
async def test_one_post_per_build_event_with_a_reporter_on_every_master(
        tmp_path: Path) -> None:
    counting = Counting()
    port = global_reactor().listenTCP(0, server.Site(counting), interface="127.0.0.1")
    push = f"http://127.0.0.1:{port.getHost().port}/"
    try:
        async with running_router(tmp_path / "router") as router_url, \
                cluster(tmp_path) as c:
            cfg = master_cfg(c.db_url, sleep_s=0.2, extra=f"""
                from buildbot.plugins import reporters
                c['mq'] = {{'type': 'wamp', 'router_url': {router_url!r},
                            'realm': 'buildbot'}}
                c['services'] = [reporters.HttpStatusPush(serverUrl={push!r})]
                """)
            a = await c.start_master("a", cfg)
            b = await c.start_master("b", cfg)
            await c.start_worker("wa", a)
            await c.start_worker("wb", b)
            for _ in range(6):
                await a.force("b")
            await until(lambda: len(c.requests()) == 6 and all(
                r.complete for r in c.requests()), "six builds done")
            builds = c.builds()
            assert {x.masterid for x in builds} == {c.masterid(a), c.masterid(b)}
            want = {(x.id, done) for x in builds for done in (False, True)}
            await until(lambda: set(counting.posts) >= want, "every build event posted")
            await sleep(1.0)  # a duplicate from the other master would arrive by now
            assert dict(counting.posts) == {k: 1 for k in want}
    finally:
        await port.stopListening()
