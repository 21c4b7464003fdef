"""Shell steps with stock worker processes over PB and msgpack: output, interruption and a
lost worker."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import CANCELLED, FAILURE, RETRY, SUCCESS, WARNINGS
from tests.fixtures.master import running_master, wait_for_message
from tests.fixtures.worker_process import ATTACHED, CONNECTED, running_worker
from tests.steps.harness import collect_build, force_build, stdout_of

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(port: int, protocol: str, build_steps: list[Any]) -> dict[str, Any]:
    return {
        "workers": [worker.Worker("w", "pw")],
        "protocols": {protocol: {"port": f"tcp:{port}:interface=127.0.0.1"}},
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])],
        "builders": [util.BuilderConfig(name="b0", workernames=["w"],
                                        factory=util.BuildFactory(build_steps))],
    }


@pytest.mark.parametrize("protocol", ["pb", "msgpack_experimental_v7"])
@pytest_twisted.ensureDeferred
async def test_shell_steps_over_each_protocol(tmp_path: Path, protocol: str) -> None:
    port = free_port()
    cfg = config(port, protocol, [
        steps.ShellCommand(command=["echo", "hello"]),
        steps.SetPropertyFromCommand(command="echo value", property="p"),
        steps.FileExists(file="build/marker", haltOnFailure=False, flunkOnFailure=False),
        steps.Compile(command="echo 'x.c:1: warning: w'"),
    ])
    wait_line = CONNECTED if protocol == "pb" else ATTACHED
    async with running_master(tmp_path / "m", cfg) as master, \
            running_worker(tmp_path / "w", port, "w", "pw", protocol=protocol,
                           wait_for=wait_line):
        out = await force_build(master)
    assert [s[:2] for s in out.summary] == [
        ("shell", SUCCESS), ("setproperty", SUCCESS), ("FileExists", FAILURE), ("compile", WARNINGS)]
    assert stdout_of(out.steps[1].logs["stdio"]) == "hello\n"
    assert out.props["p"] == "value"
    # as in Buildbot, the header lines showing the command are scanned too
    assert out.props["warnings-count"] == 3


async def start_and_wait_for_log(master: Any) -> int:
    started = wait_for_message(master, ("logs", None, "new"))
    await master.data.control("force", {"builderNames": ["b0"]}, ("forceschedulers", "force"))
    await started
    return int((await master.data.get(("builds",)))[0]["buildid"])


@pytest.mark.parametrize("protocol", ["pb", "msgpack_experimental_v7"])
@pytest_twisted.ensureDeferred
async def test_stopped_build_interrupts_the_command(tmp_path: Path, protocol: str) -> None:
    port = free_port()
    cfg = config(port, protocol, [steps.ShellCommand(command="sleep 60")])
    wait_line = CONNECTED if protocol == "pb" else ATTACHED
    async with running_master(tmp_path / "m", cfg) as master, \
            running_worker(tmp_path / "w", port, "w", "pw", protocol=protocol,
                           wait_for=wait_line):
        buildid = await start_and_wait_for_log(master)
        finished = wait_for_message(master, ("builds", str(buildid), "finished"))
        await master.data.control("stop", {"reason": "no more"}, ("builds", buildid))
        await finished
        out = await collect_build(master, buildid)
    assert out.summary == [("shell", CANCELLED, "'sleep 60' (cancelled)")]
    assert out.results == CANCELLED
    assert "command interrupted" in out.steps[1].logs["stdio"]


@pytest_twisted.ensureDeferred
async def test_lost_worker_makes_the_step_retry(tmp_path: Path) -> None:
    port = free_port()
    cfg = config(port, "pb", [steps.ShellCommand(command="sleep 60")])
    async with running_master(tmp_path / "m", cfg) as master, \
            running_worker(tmp_path / "w", port, "w", "pw", wait_for=CONNECTED) as w:
        buildid = await start_and_wait_for_log(master)
        finished = wait_for_message(master, ("builds", str(buildid), "finished"))
        await w.kill()
        await finished
        out = await collect_build(master, buildid)
    assert out.summary == [("shell", RETRY, "'sleep 60' (retry)")]
    assert out.results == RETRY
