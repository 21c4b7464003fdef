"""Build lifecycle with a real stock worker over PB: stop, worker loss and retry, reconfig."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import CANCELLED, RETRY, SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.fixtures.worker_process import CONNECTED, running_worker

# Sleeps only on its first run in a worker directory, so a retried build finishes quickly.
# The marker holds the shell's pid (its process group outlives a SIGKILLed worker).
SLEEP_ONCE = ("if [ -e ran-once ]; then exit 0; fi; echo $$ > ran-once.tmp; "
              "mv ran-once.tmp ran-once; sleep 60")
MARKER = "slow/build/ran-once"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pb_config(port: int, command: Any, extra_builders: int = 0) -> dict[str, Any]:
    names = ["slow"] + [f"extra{i}" for i in range(extra_builders)]
    return {
        "workers": [worker.Worker("w1", "pw")],
        "protocols": {"pb": {"port": f"tcp:{port}:interface=127.0.0.1"}},
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=names)],
        "builders": [util.BuilderConfig(
            name=n, workernames=["w1"],
            factory=util.BuildFactory([steps.ShellCommand(command=command, name="work")]))
            for n in names],
    }


async def force(master: Any, builder: str = "slow") -> int:
    bsid, _ = await master.data.control("force", {"builderNames": [builder], "owner": "t"},
                                        ("forceschedulers", "force"))
    return int(bsid)


def step_started(name: str) -> Any:
    return lambda key, body: body.get("name") == name and body.get("started_at") is not None


async def first_run_sleeping(w: Any) -> int:
    """Wait until the first run of SLEEP_ONCE has left its marker; returns the shell's pid.

    The worker logs `startCommand:shell` before the shell runs: a worker or master stopped
    at that point kills the command before its marker, so the retried build would sleep too.
    """
    return int((await w.wait_for_file(MARKER)).strip())


def kill_group(pid: int) -> None:
    """Kill a command left running by a SIGKILLed worker (its own process group)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_stopping_a_build_kills_the_command_and_cancels(tmp_path: Path) -> None:
    port = free_port()
    async with running_master(tmp_path / "m", pb_config(port, ["sleep", "60"])) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as w:
            started = wait_for_message(master, ("steps", None, "started"), step_started("work"))
            await force(master)
            _, step = await started
            await w.wait_for_log("startCommand:shell")
            done = wait_for_message(master, ("builds", None, "finished"))
            await master.data.control("stop", {"reason": "enough"},
                                      ("builds", step["buildid"]))
            _, build = await done
            assert build["results"] == CANCELLED
            assert "enough" in build["state_string"]
            await w.wait_for_log("asked to interrupt")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_worker_lost_mid_build_retries_on_reconnect(tmp_path: Path) -> None:
    port = free_port()
    async with running_master(tmp_path / "m", pb_config(port, SLEEP_ONCE)) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as w:
            started = wait_for_message(master, ("steps", None, "started"), step_started("work"))
            bsid = await force(master)
            await started
            orphan = await first_run_sleeping(w)
            try:
                finished = wait_for_message(master, ("builds", None, "finished"))
                w.signal(signal.SIGKILL)
                _, first = await finished
            finally:
                kill_group(orphan)
            assert first["results"] == RETRY
        complete = wait_for_message(master, ("buildsets", str(bsid), "complete"))
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED):
            _, bs = await complete
        assert bs["results"] == SUCCESS
        builds = await master.data.get(("builds",))
        assert [b["results"] for b in builds] == [RETRY, SUCCESS]
        assert builds[0]["buildrequestid"] == builds[1]["buildrequestid"]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_reconfig_adds_builder_without_dropping_worker(tmp_path: Path) -> None:
    port = free_port()
    extra = {"n": 0}

    def make() -> dict[str, Any]:
        return pb_config(port, ["true"], extra_builders=extra["n"])

    async with running_master(tmp_path / "m", make) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as w:
            extra["n"] = 1
            await master.reconfig()
            assert sorted(master.botmaster.builders) == ["extra0", "slow"]
            done = wait_for_message(master, ("buildsets", None, "complete"))
            await force(master, "extra0")
            _, bs = await done
            assert bs["results"] == SUCCESS
            assert w.count("Connected to buildmaster") == 1
            workers = await master.data.get(("workers",))
            assert [len(x["configured_on"]) for x in workers] == [2]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_master_restart_mid_build_requeues_the_request(tmp_path: Path) -> None:
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'state.sqlite'}"

    def make() -> dict[str, Any]:
        cfg = pb_config(port, SLEEP_ONCE)
        cfg["db"] = {"db_url": db_url}
        return cfg

    async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=None) as w:
        async with running_master(tmp_path / "m", make) as master:
            await w.wait_for_log(CONNECTED)
            started = wait_for_message(master, ("steps", None, "started"), step_started("work"))
            bsid = await force(master)
            await started
            await first_run_sleeping(w)
        # The master stopped in the middle of the build: the build ended RETRY and its
        # request was released, so the next master builds it again.
        async with running_master(tmp_path / "m", make) as master:
            complete = wait_for_message(master, ("buildsets", str(bsid), "complete"))
            _, bs = await complete
            assert bs["results"] == SUCCESS
            builds = await master.data.get(("builds",))
            assert [b["results"] for b in builds] == [RETRY, SUCCESS]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_cancelling_requests_pending_and_running(tmp_path: Path) -> None:
    port = free_port()
    async with running_master(tmp_path / "m", pb_config(port, ["sleep", "60"])) as master:
        # No worker yet: the request stays pending and is cancelled outright.
        bsid = await force(master)
        (req,) = await master.data.get(("buildrequests",))
        done = wait_for_message(master, ("buildsets", str(bsid), "complete"))
        await master.data.control("cancel", {"reason": "not needed"},
                                  ("buildrequests", req["buildrequestid"]))
        _, bs = await done
        assert bs["results"] == CANCELLED
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as w:
            started = wait_for_message(master, ("steps", None, "started"), step_started("work"))
            bsid = await force(master)
            await started
            await w.wait_for_log("startCommand:shell")
            reqs = await master.data.get(("buildrequests",))
            brid = [r for r in reqs if r["buildsetid"] == bsid][0]["buildrequestid"]
            done = wait_for_message(master, ("buildsets", str(bsid), "complete"))
            await master.data.control("cancel", {"reason": "changed my mind"},
                                      ("buildrequests", brid))
            _, bs = await done
            assert bs["results"] == CANCELLED
