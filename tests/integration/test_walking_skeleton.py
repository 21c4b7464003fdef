"""End to end with real processes: create-master, start, two stock workers, forced builds
over REST, log contents, stop (issue 2)."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import defer, utils

from tests.fixtures.reactor import global_reactor
from tests.fixtures.worker_process import CONNECTED, UNAUTHORIZED, running_worker

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 120.0  # generous: polls return as soon as the condition holds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    # `buildbot start` gives up after 10 s without start-up progress in twistd.log; on a
    # loaded machine importing the master alone can take that long.
    env["START_TIMEOUT"] = "120"
    return env


async def buildbot(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable, ["-m", "buildbot.scripts.runner", *args], env=cli_env(),
        path=str(cwd or REPO))
    return code, out.decode() + err.decode()


def sleep(seconds: float) -> defer.Deferred[None]:
    reactor = global_reactor()

    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


async def poll(what: str, check: Any, timeout: float = DEADLINE, interval: float = 0.1) -> Any:
    """Call `check()` until it returns a true value; fail naming `what` after `timeout`."""
    reactor = global_reactor()

    deadline = reactor.seconds() + timeout
    while True:
        result = await check()
        if result:
            return result
        if reactor.seconds() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        await sleep(interval)


MASTER_CFG = """
from buildbot.plugins import worker, util, steps, schedulers

c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker('w1', 'pw1', max_builds=2), worker.Worker('w2', 'pw2')]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
builders = ['b{{}}'.format(i) for i in range(5)]
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=builders)]
c['builders'] = [
    util.BuilderConfig(
        name=name, workernames=['w1', 'w2'],
        factory=util.BuildFactory([
            steps.ShellCommand(command=['echo', 'hello from ' + name]),
            steps.ShellCommand(command='echo second step; echo to-stderr >&2'),
            steps.ShellCommand(command=['true'], name='third'),
        ]))
    for name in builders]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['title'] = 'Skeleton'
c['titleURL'] = 'http://example.com/'
c['buildbotURL'] = 'http://127.0.0.1:{www}/'
c['collapseRequests'] = False
c['buildbotNetUsageData'] = None
"""


class Api:
    def __init__(self, port: int) -> None:
        from twisted.internet import reactor
        from twisted.web.client import HTTPConnectionPool

        self.base = f"http://127.0.0.1:{port}/api/v2"
        # Not persistent: idle connections would leave timers behind after the test.
        self.pool = HTTPConnectionPool(reactor, persistent=False)

    async def get(self, path: str) -> Any:
        resp = await treq.get(f"{self.base}/{path}", headers={"Accept": "application/json"},
                              pool=self.pool)
        assert resp.code == 200, (path, resp.code, await resp.text())
        return await resp.json()

    async def rpc(self, path: str, method: str, params: dict[str, Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "id": 1, "params": params})
        resp = await treq.post(f"{self.base}/{path}", data=body.encode(),
                               headers={"Content-Type": "application/json"}, pool=self.pool)
        data = await resp.json()
        assert resp.code == 200, (resp.code, data)
        return data["result"]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_forced_builds_run_on_stock_workers(tmp_path: Path) -> None:
    basedir = tmp_path / "master"
    code, out = await buildbot("create-master", str(basedir))
    assert code == 0, out
    assert (basedir / "buildbot.tac").exists() and (basedir / "state.sqlite").exists()
    pb_port, www_port = free_port(), free_port()
    (basedir / "master.cfg").write_text(textwrap.dedent(MASTER_CFG.format(pb=pb_port,
                                                                          www=www_port)))
    code, out = await buildbot("checkconfig", str(basedir))
    assert code == 0, out

    code, out = await buildbot("start", str(basedir))
    assert code == 0, out + (basedir / "twistd.log").read_text()
    api = Api(www_port)
    try:
        async with running_worker(tmp_path / "w1", pb_port, "w1", "pw1", wait_for=CONNECTED), \
                running_worker(tmp_path / "w2", pb_port, "w2", "pw2", wait_for=CONNECTED):

            async def both_connected() -> bool:
                workers = (await api.get("workers"))["workers"]
                return sorted(w["name"] for w in workers if w["connected_to"]) == ["w1", "w2"]

            await poll("both workers connected", both_connected)

            async with running_worker(tmp_path / "bad", pb_port, "w1", "wrong",
                                      wait_for=UNAUTHORIZED):
                pass
            assert "worker login refused" in (basedir / "twistd.log").read_text()
            assert "wrong password for 'w1'" in (basedir / "twistd.log").read_text()

            results = []
            for i in range(10):
                results.append(await api.rpc("forceschedulers/force", "force",
                                             {"builderNames": [f"b{i % 5}"]}))
            assert all(len(r[1]) == 1 for r in results)

            async def all_done() -> Any:
                builds = (await api.get("builds"))["builds"]
                done = [b for b in builds if b["complete"]]
                return builds if len(done) == 10 else None

            builds = await poll("10 complete builds", all_done)
            assert [b["results"] for b in builds] == [0] * 10

            # a buildset completes just after its last build does: wait for that event too
            async def buildsets_done() -> Any:
                sets = (await api.get("buildsets"))["buildsets"]
                return sets if all(bs["complete"] for bs in sets) else None

            buildsets = await poll("10 complete buildsets", buildsets_done)
            assert len(buildsets) == 10

            steps = (await api.get(f"builds/{builds[0]['buildid']}/steps"))["steps"]
            assert [s["name"] for s in steps] == ["worker_preparation", "shell", "shell_1",
                                                  "third"]
            logs = (await api.get(f"steps/{steps[1]['stepid']}/logs"))["logs"]
            assert [log["slug"] for log in logs] == ["stdio"]
            contents = await api.get(f"logs/{logs[0]['logid']}/contents")
            text = contents["logchunks"][0]["content"]
            assert "ohello from b" in text
            raw = await treq.get(f"{api.base}/logs/{logs[0]['logid']}/raw", pool=api.pool)
            assert "hello from b" in await raw.text()
    finally:
        await stop_master(basedir)


async def stop_master(basedir: Path) -> None:
    """`buildbot stop`, then wait for the master to be gone: stop gives up waiting after
    10 s (as 4.3's does), which a loaded machine can exceed."""
    try:
        pid = int((basedir / "twistd.pid").read_text())
    except FileNotFoundError:
        pid = None
    code, out = await buildbot("stop", str(basedir))
    if code != 0:
        assert pid is not None and "never saw process go away" in out, out
        left = pid

        async def gone() -> bool:
            try:
                os.kill(left, 0)
            except ProcessLookupError:
                return True
            return False

        await poll(f"master process {left} exits", gone)


BROKEN_CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {}
c['workers'] = [worker.Worker('w1', 'pw')]
c['protocols'] = {'pb': {'port': 0}}
f = util.BuildFactory([steps.ShellCommand(command=['true'])])
c['builders'] = [util.BuilderConfig(name='x', workernames=['nope'], factory=f),
                 util.BuilderConfig(name='x', workernames=['w1'], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['x'])]
c['bogus'] = 1
"""


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_broken_config_is_reported_and_start_fails_cleanly(tmp_path: Path) -> None:
    basedir = tmp_path / "master"
    code, out = await buildbot("create-master", str(basedir))
    assert code == 0, out
    (basedir / "master.cfg").write_text(BROKEN_CFG)
    code, out = await buildbot("checkconfig", str(basedir))
    assert code == 1
    assert "Unknown BuildmasterConfig key bogus" in out
    assert "builder 'x' uses unknown workers 'nope'" in out
    assert "duplicate builder name 'x'" in out
    code, out = await buildbot("start", str(basedir))
    assert code == 1, out
    assert not (basedir / "twistd.pid").exists()
