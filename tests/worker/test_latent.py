"""Latent workers on a real master, with instances that are stock buildbot-worker processes
(`ProcessLatentWorker`): substantiation on demand, build_wait_timeout, failures (counted,
announced, quarantined), stopping a build while substantiating, compatibility checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import steps
from buildbot.process.properties import Properties
from buildbot.process.results import CANCELLED, RETRY, SUCCESS
from buildbot.process.workerforbuilder import States as LinkStates
from buildbot.worker.latent import States
from tests.fixtures.master import running_master
from tests.fixtures.worker_process import CONNECTED, running_worker
from tests.worker.latent_process import ProcessLatentWorker
from tests.worker.masterkit import MSGPACK, PB, Recorder, config, force, free_port, listen

pytestmark = pytest.mark.integration


class QuickLatentWorker(ProcessLatentWorker):
    quarantine_timeout = quarantine_initial_timeout = 0.2
    quarantine_max_timeout = 0.2


def latent(tmp_path: Path, name: str = "lw", **kw: Any) -> QuickLatentWorker:
    return QuickLatentWorker(name, "pw", basedir=str(tmp_path / name), **kw)


async def wait_state(w: Any, state: States) -> None:
    from tests.worker.masterkit import wait_until

    await wait_until(f"{w.name} in state {state.name}", lambda: w.state == state)


async def run_build(master: Any, builder: str = "b") -> dict[str, Any]:
    bsid, _ = await force(master, builder)
    _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
    return dict(bs)


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("protocol", [PB, MSGPACK])
async def test_build_substantiates_the_worker_which_idles_then_stops(
        tmp_path: Path, protocol: str) -> None:
    port = free_port()
    lw = latent(tmp_path, build_wait_timeout=1, protocol=protocol)
    async with running_master(tmp_path / "m", config([lw], port=port,
                                                      protocol=protocol)) as master:
        bldr = master.botmaster.builders["b"]
        assert [wfb.state for wfb in bldr.workers] == [LinkStates.AVAILABLE]
        assert lw.conn is None and lw.state == States.NOT_SUBSTANTIATED and lw.started == 0
        assert (await run_build(master))["results"] == SUCCESS
        assert lw.substantiated and lw.build_wait_timer is not None
        # a build within build_wait_timeout reuses the instance
        assert (await run_build(master))["results"] == SUCCESS
        assert lw.started == 1
        disconnected = listen(master, ("workers", None, "disconnected"))
        await disconnected
        await wait_state(lw, States.NOT_SUBSTANTIATED)
        assert lw.stopped == [False] and not lw.processes[0].running
        assert [wfb.state for wfb in bldr.workers] == [LinkStates.AVAILABLE]
        # and the next build starts a new instance
        assert (await run_build(master))["results"] == SUCCESS
        assert lw.started == 2 and lw.substantiation_failures == 0
    assert lw.state == States.SHUT_DOWN and not lw.processes[1].running


@pytest_twisted.ensureDeferred
async def test_zero_build_wait_timeout_stops_the_instance_after_each_build(
        tmp_path: Path) -> None:
    port = free_port()
    lw = latent(tmp_path, build_wait_timeout=0)
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        for _ in range(2):
            assert (await run_build(master))["results"] == SUCCESS
            await wait_state(lw, States.NOT_SUBSTANTIATED)
        assert lw.started == 2 and lw.stopped == [False, False]


@pytest_twisted.ensureDeferred
async def test_negative_build_wait_timeout_keeps_the_instance(tmp_path: Path) -> None:
    port = free_port()
    lw = latent(tmp_path, build_wait_timeout=-1)
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        assert (await run_build(master))["results"] == SUCCESS
        assert (await run_build(master))["results"] == SUCCESS
        assert lw.substantiated and lw.build_wait_timer is None and lw.started == 1
    # stopping the master stops the instance all the same
    assert lw.stopped == [False] and not lw.processes[0].running


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("failure", ["explode", "refuse"])
async def test_failed_start_is_counted_announced_and_quarantines(
        tmp_path: Path, failure: str) -> None:
    port = free_port()
    lw = latent(tmp_path, notify_on_missing=["ops@example.org"], **{failure: True})
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        missing = listen(master, ("workers", None, "missing"))
        finished = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await finished
        await lw.pause("stop retrying")
        _, body = await missing
        assert build["results"] == RETRY
        assert body["last_connection"] == "Latent worker never connected"
        assert body["notify"] == ["ops@example.org"]
        assert lw.substantiation_failures >= 1 and lw.total_substantiation_failures >= 1
        assert lw.quarantine_timeout == 0.2  # capped; it was put in quarantine
        await wait_state(lw, States.NOT_SUBSTANTIATED)


@pytest_twisted.ensureDeferred
async def test_instance_that_never_connects_fails_at_missing_timeout(tmp_path: Path) -> None:
    port = free_port()
    lw = latent(tmp_path, connect_password="wrong", missing_timeout=1)
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        finished = listen(master, ("builds", None, "finished"))
        start = master.reactor.seconds()
        await force(master)
        _, build = await finished
        await lw.pause("enough")
        assert build["results"] == RETRY and 1 <= master.reactor.seconds() - start < 10
        await wait_state(lw, States.NOT_SUBSTANTIATED)
        assert lw.stopped == [False] and not lw.processes[0].running
        assert lw.substantiation_failures == 1


@pytest_twisted.ensureDeferred
async def test_instance_dying_before_it_connects_is_noticed_by_check_instance(
        tmp_path: Path) -> None:
    port = free_port()
    lw = latent(tmp_path, broken=True, check_instance_interval=0.2, missing_timeout=60)
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        finished = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await finished
        await lw.pause("enough")
        assert build["results"] == RETRY
        await wait_state(lw, States.NOT_SUBSTANTIATED)
        assert lw.substantiation_failures == 1 and lw.stopped == [False]


@pytest_twisted.ensureDeferred
async def test_stopping_a_build_while_substantiating_stops_the_instance(
        tmp_path: Path) -> None:
    port = free_port()
    lw = latent(tmp_path, connect_password="wrong", missing_timeout=60)
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        new = listen(master, ("builds", None, "new"))
        finished = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await new
        await wait_state(lw, States.SUBSTANTIATING_STARTING)
        await master.data.control("stop", {"reason": "not now"}, ("builds", build["buildid"]))
        _, build = await finished
        assert build["results"] == CANCELLED
        await wait_state(lw, States.NOT_SUBSTANTIATED)
        assert lw.stopped == [False] and lw.quarantine_timer is None
        assert lw.substantiation_failures == 0


@pytest_twisted.ensureDeferred
async def test_unsolicited_connection_is_refused(tmp_path: Path) -> None:
    port = free_port()
    lw = latent(tmp_path)
    async with running_master(tmp_path / "m", config([lw], port=port)) as master:
        async with running_worker(tmp_path / "intruder", port, "lw", "pw") as p:
            await p.wait_exited()  # refused with an error: the stock worker gives up
        assert lw.conn is None and lw.state == States.NOT_SUBSTANTIATED
        assert CONNECTED not in p.log_text()
        assert (await master.data.get(("workers",)))[0]["connected_to"] == []


class FlavoredWorker(QuickLatentWorker):
    """Only builds whose `flavor` property is its own."""

    builds_may_be_incompatible = True

    def isCompatibleWithBuild(self, build_props: Properties) -> bool:
        return bool(build_props.getProperty("flavor") == self.name)


@pytest_twisted.ensureDeferred
async def test_incompatible_latent_workers_are_not_chosen(tmp_path: Path) -> None:
    port = free_port()
    workers = [FlavoredWorker(n, "pw", basedir=str(tmp_path / n), build_wait_timeout=0)
               for n in ("red", "blue")]
    work = [steps.ShellCommand(command=["true"], name="work")]
    cfg = config(workers, {"paint-red": work, "paint-blue": work}, port=port,
                 builder_kwargs={"paint-red": {"properties": {"flavor": "red"}},
                                 "paint-blue": {"properties": {"flavor": "blue"}}})
    async with running_master(tmp_path / "m", cfg) as master:
        builds = await Recorder.start(master, ("builds", None, "finished"))
        for _ in range(2):
            for color in ("red", "blue"):
                assert (await run_build(master, f"paint-{color}"))["results"] == SUCCESS
        ids = {w.name: w.workerid for w in workers}
        names = {b["builderid"]: b["name"] for b in await master.data.get(("builders",))}
        placed = {(names[b["builderid"]], b["workerid"]) for b in builds.bodies}
        assert placed == {("paint-red", ids["red"]), ("paint-blue", ids["blue"])}
