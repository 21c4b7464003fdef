"""Worker management on a real master: pause/unpause (REST JSON-RPC and the data API, the
reason kept across restarts), graceful shutdown (control and worker-initiated), kill,
quarantine; stock buildbot-worker 4.3 processes over PB, and LocalWorker."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from buildbot.plugins import steps, worker
from buildbot.process.buildstep import BuildStep
from buildbot.process.results import EXCEPTION, RETRY, SUCCESS
from tests.fixtures.master import running_master
from tests.fixtures.worker_process import CONNECTED, running_worker
from tests.worker.masterkit import Recorder, config, force, free_port, listen, wait_until

pytestmark = pytest.mark.integration


async def jsonrpc(master: Any, path: str, method: str, **params: Any) -> Any:
    url = f"http://127.0.0.1:{master.www.port_number}/api/v2/{path}"
    res = await treq.post(url, json.dumps({"jsonrpc": "2.0", "method": method,
                                           "params": params, "id": 1}).encode(),
                          headers={"Content-Type": ["application/json"]}, persistent=False)
    body = await res.json()
    assert res.code == 200, body
    return body["result"]


async def worker_row(master: Any, name: str) -> dict[str, Any]:
    rows = await master.data.get(("workers",))
    return next(r for r in rows if r["name"] == name)


def step_started(name: str) -> Any:
    return lambda key, body: body.get("name") == name and body.get("started_at") is not None


@pytest_twisted.ensureDeferred
async def test_pause_reason_survives_a_restart_and_unpause_starts_the_waiting_build(
        tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")], port=port,
                 db={"db_url": f"sqlite:///{tmp_path / 'state.sqlite'}"},
                 www={"port": "tcp:0:interface=127.0.0.1"})
    async with running_master(tmp_path / "m", cfg) as master:
        updated = listen(master, ("workers", None, "state_updated"))
        await jsonrpc(master, "workers/w1", "pause", reason="disk full")
        _, body = await updated
        assert (body["paused"], body["pause_reason"]) == (True, "disk full")
    async with running_master(tmp_path / "m", cfg) as master:
        w = master.workers.getWorkerByName("w1")
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED):
            row = await worker_row(master, "w1")
            assert (row["paused"], row["pause_reason"]) == (True, "disk full")
            assert row["connected_to"] != []
            assert not w.canStartBuild()
            bsid, _ = await force(master)
            complete = listen(master, ("buildsets", str(bsid), "complete"))
            assert await master.data.get(("builds",)) == []
            await jsonrpc(master, f"workers/{row['workerid']}", "unpause")
            _, bs = await complete
            assert bs["results"] == SUCCESS
            row = await worker_row(master, "w1")
            assert (row["paused"], row["pause_reason"]) == (False, None)


@pytest_twisted.ensureDeferred
async def test_graceful_stop_finishes_the_running_build_then_the_worker_exits(
        tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")],
                 {"b": [steps.ShellCommand(command=["sleep", "0.5"], name="work")]}, port=port)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as p:
            started = listen(master, ("steps", None, "started"), step_started("work"))
            await force(master)
            await started
            row = await worker_row(master, "w1")
            graceful = listen(master, ("workers", None, "state_updated"),
                                        lambda k, b: b["graceful"])
            await master.data.control("stop", {}, ("workers", row["workerid"]))
            await graceful
            second, _ = await force(master)
            assert await p.wait_exited() == 0
            builds = await master.data.get(("builds",))
            assert [b["results"] for b in builds] == [SUCCESS]
            assert (await master.data.get(("buildsets", second)))["complete"] is False


@pytest_twisted.ensureDeferred
async def test_worker_initiated_shutdown_waits_for_the_build(tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")],
                 {"b": [steps.ShellCommand(command=["sleep", "0.5"], name="work")]}, port=port)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED,
                                  extra_args=["--allow-shutdown=signal"]) as p:
            started = listen(master, ("steps", None, "started"), step_started("work"))
            await force(master)
            await started
            graceful = listen(master, ("workers", None, "state_updated"),
                                        lambda k, b: b["graceful"])
            p.signal(signal.SIGHUP)
            await graceful
            assert await p.wait_exited() == 0
            builds = await master.data.get(("builds",))
            assert [b["results"] for b in builds] == [SUCCESS]


@pytest_twisted.ensureDeferred
async def test_kill_makes_the_worker_exit_and_the_build_retry(tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")],
                 {"b": [steps.ShellCommand(command=["sleep", "60"], name="work")]}, port=port)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as p:
            started = listen(master, ("steps", None, "started"), step_started("work"))
            await force(master)
            await started
            finished = listen(master, ("builds", None, "finished"))
            row = await worker_row(master, "w1")
            await master.data.control("kill", {}, ("workers", row["workerid"]))
            _, build = await finished
            assert build["results"] == RETRY
            assert await p.wait_exited() == 0


class Explode(BuildStep):
    """A step whose run raises (the build ends with EXCEPTION)."""

    async def run(self) -> int:
        raise RuntimeError("boom")


class QuickQuarantineWorker(worker.LocalWorker):
    # Long enough that a loaded machine still sees the quarantine before it ends.
    quarantine_timeout = quarantine_initial_timeout = 0.6
    quarantine_max_timeout = 1.0


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_quarantine_after_exceptions_doubles_resets_and_ends_on_unpause(
        tmp_path: Path, logged_errors: Any) -> None:
    cfg = config([QuickQuarantineWorker("local")],
                 {"bad": [Explode(name="explode")],
                  "good": [steps.ShellCommand(command=["true"], name="work")]})
    async with running_master(tmp_path, cfg) as master:
        w = master.workers.getWorkerByName("local")
        # buildsets complete after the builder handled the end of the build
        buildsets = await Recorder.start(master, ("buildsets", None, "complete"))

        async def run(builder: str) -> int:
            count = len(buildsets.bodies)
            await force(master, builder)
            bodies = await buildsets.wait(f"buildset {count + 1}", lambda b: len(b) > count)
            return int(bodies[count]["results"])

        assert await run("bad") == EXCEPTION
        assert w.quarantine_timer is not None and not w.canStartBuild()
        assert w.quarantine_timeout == 1.0  # doubled, then capped
        # The next build waits for the end of the quarantine, then fails again.
        assert await run("bad") == EXCEPTION
        assert w.quarantine_timeout == 1.0  # capped
        await w.unpause()
        assert w.quarantine_timer is None and w.canStartBuild()
        assert await run("good") == SUCCESS
        assert w.quarantine_timeout == 0.6
        logged_errors.flush("boom")


@pytest_twisted.ensureDeferred
async def test_paused_local_worker_gets_no_build_until_unpaused(tmp_path: Path) -> None:
    async with running_master(tmp_path, config([worker.LocalWorker("local")])) as master:
        w = master.workers.getWorkerByName("local")
        await master.data.control("pause", {"reason": "maintenance"},
                                  ("workers", w.workerid))
        await wait_until("pause applied", lambda: w.isPaused())
        bsid, _ = await force(master)
        complete = listen(master, ("buildsets", str(bsid), "complete"))
        # distribution ran for the new request (it found no available worker)
        await wait_until("distribution idle", lambda: master.botmaster.brd._activity is None)
        assert await master.data.get(("builds",)) == []
        await master.data.control("unpause", {}, ("workers", w.workerid))
        _, bs = await complete
        assert bs["results"] == SUCCESS


@pytest_twisted.ensureDeferred
async def test_reconfig_changes_options_and_removing_a_worker_disconnects_it(
        tmp_path: Path) -> None:
    port = free_port()
    wanted = {"workers": [worker.Worker("w1", "pw", max_builds=1)]}

    def make() -> dict[str, Any]:
        return config(wanted["workers"], port=port)

    async with running_master(tmp_path / "m", make) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as p:
            w = master.workers.getWorkerByName("w1")
            wanted["workers"] = [worker.Worker("w1", "pw", max_builds=3,
                                               properties={"x": 1}),
                                 worker.Worker("w2", "pw2")]
            await master.reconfig()
            assert master.workers.getWorkerByName("w1") is w  # same service, new options
            assert (w.max_builds, w.properties.getProperty("x")) == (3, 1)
            assert w.conn is not None and p.count(CONNECTED) == 1
            disconnected = listen(master, ("workers", None, "disconnected"))
            wanted["workers"] = [worker.Worker("w2", "pw2")]
            await master.reconfig()  # w1 is gone: builders now use w2 only
            await disconnected
            rows = {r["name"]: r for r in await master.data.get(("workers",))}
            assert rows["w1"]["connected_to"] == [] and rows["w1"]["configured_on"] == []
            assert master.workers.getWorkerByName("w1") is None
            # the stock worker keeps trying, and is refused as unknown
            await p.wait_for_log("unauthorized login", count=1)
