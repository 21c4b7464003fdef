"""Robustness with stock buildbot-worker 4.3 processes on both protocols: a killed or silent
worker (SIGKILL, SIGSTOP) ends its build with RETRY and the request is built again when a
worker returns; a wrong password never gets a build; duplicate connections are arbitrated."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import steps, worker
from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker import manager as worker_manager
from tests.fixtures.master import running_master
from tests.fixtures.worker_process import ATTACHED, CONNECTED, UNAUTHORIZED, running_worker
from tests.worker.conftest import wait_for_path
from tests.worker.masterkit import MSGPACK, PB, config, force, free_port, listen

pytestmark = pytest.mark.integration

# Sleeps only on its first run in a worker directory, so the retried build ends quickly.
# The marker holds the shell's pid (its process group outlives a SIGKILLed worker).
SLEEP_ONCE = ("if [ -e ran-once ]; then exit 0; fi; echo $$ > ran-once.tmp; "
              "mv ran-once.tmp ran-once; sleep 60")


def ready_line(protocol: str) -> str:
    return CONNECTED if protocol == PB else ATTACHED


def step_started(name: str) -> Any:
    return lambda key, body: body.get("name") == name and body.get("started_at") is not None


async def start_long_build(master: Any, w: Any) -> int:
    started = listen(master, ("steps", None, "started"), step_started("work"))
    bsid, _ = await force(master)
    await started
    await wait_for_path(w.basedir / "b" / "build" / "ran-once")  # the command runs
    return bsid


def kill_first_run(w: Any) -> None:
    """Kill the first run's command (its own process group) if a worker left it running."""
    pid = int((w.basedir / "b" / "build" / "ran-once").read_text())
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("protocol", [PB, MSGPACK])
async def test_killed_worker_build_retries_and_is_rebuilt_on_return(
        tmp_path: Path, protocol: str) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")],
                 {"b": [steps.ShellCommand(command=SLEEP_ONCE, name="work")]},
                 port=port, protocol=protocol)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", protocol=protocol,
                                  wait_for=ready_line(protocol)) as w:
            bsid = await start_long_build(master, w)
            finished = listen(master, ("builds", None, "finished"))
            w.signal(signal.SIGKILL)
            kill_first_run(w)  # the command the dead worker left running
            _, first = await finished
            assert first["results"] == RETRY
        complete = listen(master, ("buildsets", str(bsid), "complete"))
        async with running_worker(tmp_path / "w1", port, "w1", "pw", protocol=protocol,
                                  wait_for=ready_line(protocol)):
            _, bs = await complete
        assert bs["results"] == SUCCESS
        builds = await master.data.get(("builds",))
        assert [b["results"] for b in builds] == [RETRY, SUCCESS]
        assert builds[0]["buildrequestid"] == builds[1]["buildrequestid"]


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("protocol", [PB, MSGPACK])
async def test_silent_worker_is_dropped_after_an_unanswered_keepalive(
        tmp_path: Path, protocol: str) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw", keepalive_interval=1)],
                 {"b": [steps.ShellCommand(command=SLEEP_ONCE, name="work")]},
                 port=port, protocol=protocol)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", protocol=protocol,
                                  wait_for=ready_line(protocol)) as w:
            bsid = await start_long_build(master, w)
            finished = listen(master, ("builds", None, "finished"))
            disconnected = listen(master, ("workers", None, "disconnected"))
            w.pause()  # SIGSTOP: the TCP connection stays up, nothing answers
            started = master.reactor.seconds()
            _, first = await finished
            await disconnected
            # one interval to send the keepalive, one more without an answer
            assert master.reactor.seconds() - started < 6
            assert first["results"] == RETRY
            complete = listen(master, ("buildsets", str(bsid), "complete"))
            w.resume()  # it finds its connection gone and connects again
            _, bs = await complete
            assert bs["results"] == SUCCESS
            kill_first_run(w)  # the msgpack worker leaves it running after a reconnection


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("protocol", [PB, MSGPACK])
async def test_worker_with_a_wrong_password_never_gets_a_build(
        tmp_path: Path, protocol: str) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")], port=port, protocol=protocol)
    async with running_master(tmp_path / "m", cfg) as master:
        bsid, _ = await force(master)
        async with running_worker(tmp_path / "w1", port, "w1", "wrong",
                                  protocol=protocol) as w:
            refused = UNAUTHORIZED if protocol == PB else "upgrade failed [401]"
            await w.wait_for_log(refused, count=2)  # refused, retried, refused again
            assert w.running
        assert await master.data.get(("builds",)) == []
        assert (await master.data.get(("buildsets", bsid)))["complete"] is False
        rows = await master.data.get(("workers",))
        assert [r["connected_to"] for r in rows] == [[]]


@pytest_twisted.ensureDeferred
async def test_duplicate_connection_is_refused_while_the_first_answers_and_replaces_a_dead_one(
        tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(worker_manager, "DUPLICATE_PING_TIMEOUT", 0.5)
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")], port=port)
    async with running_master(tmp_path / "m", cfg) as master:
        w = master.workers.getWorkerByName("w1")
        async with running_worker(tmp_path / "first", port, "w1", "pw",
                                  wait_for=CONNECTED) as first:
            old = w.conn
            async with running_worker(tmp_path / "second", port, "w1", "pw") as second:
                await second.wait_exited()  # a refused duplicate makes the worker exit
            await first.wait_for_log("master got a duplicate connection")
            assert w.conn is old
            first.pause()
            async with running_worker(tmp_path / "third", port, "w1", "pw",
                                      wait_for=CONNECTED):
                assert w.conn is not old and w.conn.is_connected
                rows = await master.data.get(("workers",))
                assert len(rows[0]["connected_to"]) == 1
                done = listen(master, ("buildsets", None, "complete"))
                await force(master)
                _, bs = await done
                assert bs["results"] == SUCCESS
