"""Whole builds on stock buildbot-worker 4.3 processes over PB and msgpack: one step per
remote command, and a stopped build killing its process on the worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import steps, worker
from buildbot.process.buildstep import BuildStep
from buildbot.process.results import CANCELLED, SUCCESS
from buildbot.steps.worker import CompositeStepMixin
from tests.fixtures.master import running_master
from tests.fixtures.worker_process import ATTACHED, CONNECTED, running_worker
from tests.worker.conftest import wait_for_path
from tests.worker.masterkit import MSGPACK, PB, config, force, free_port, listen

pytestmark = pytest.mark.integration


class Inspect(CompositeStepMixin, BuildStep):
    """glob, listdir and rmfile from one step; what it saw goes to properties."""

    async def run(self) -> int:
        found = await self.runGlob("build/copy/*.txt")
        listing = await self.runRemoteCommand(
            "listdir", {"dir": "build/copy"},
            evaluateCommand=lambda cmd: cmd.updates["files"][-1])
        await self.runRmFile("build/copy/extra.txt")
        self.setProperty("globbed", sorted(Path(f).name for f in found), "Inspect")
        self.setProperty("listed", sorted(listing), "Inspect")
        return SUCCESS


def ready_line(protocol: str) -> str:
    return CONNECTED if protocol == PB else ATTACHED


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("protocol", [PB, MSGPACK])
async def test_a_build_with_one_step_per_remote_command(tmp_path: Path, protocol: str) -> None:
    port = free_port()
    uploaded = tmp_path / "uploaded.txt"
    updir = tmp_path / "updir"
    build_steps = [
        steps.ShellCommand(command="echo shell > extra.txt", name="shell"),
        steps.MakeDirectory(dir="build/made", name="mkdir"),
        steps.StringDownload("downloaded\n", workerdest="made/hello.txt", name="downloadFile"),
        steps.FileExists(file="build/made/hello.txt", name="stat"),
        steps.CopyDirectory(src="build/made", dest="build/copy", name="cpdir"),
        steps.ShellCommand(command="cp extra.txt copy/extra.txt", name="shell2"),
        Inspect(name="glob-listdir-rmfile"),
        steps.FileUpload(workersrc="copy/hello.txt", masterdest=str(uploaded),
                         name="uploadFile"),
        steps.DirectoryUpload(workersrc="copy", masterdest=str(updir), name="uploadDirectory"),
        steps.RemoveDirectory(dir="build/made", name="rmdir"),
    ]
    cfg = config([worker.Worker("w1", "pw")], {"b": build_steps}, port=port,
                 protocol=protocol)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", protocol=protocol,
                                  wait_for=ready_line(protocol)) as w:
            finished = listen(master, ("builds", None, "finished"))
            await force(master)
            _, build = await finished
            stepl = await master.data.get(("builds", build["buildid"], "steps"))
            props = await master.data.get(("builds", build["buildid"], "properties"))
        builddir = w.basedir / "b" / "build"
    assert [(s["name"], s["results"]) for s in stepl] == [
        ("worker_preparation", SUCCESS)] + [(s.name, SUCCESS) for s in build_steps]
    assert build["results"] == SUCCESS
    assert props["globbed"][0] == ["extra.txt", "hello.txt"]
    assert props["listed"][0] == ["extra.txt", "hello.txt"]
    assert uploaded.read_text() == "downloaded\n"
    assert sorted(p.name for p in updir.iterdir()) == ["hello.txt"]
    assert not (builddir / "made").exists()
    assert not (builddir / "copy" / "extra.txt").exists()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("protocol", [PB, MSGPACK])
async def test_stopping_a_build_kills_its_process_on_the_worker(
        tmp_path: Path, protocol: str) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")],
                 {"b": [steps.ShellCommand(command="echo $$ > pid; exec sleep 60",
                                           name="work")]},
                 port=port, protocol=protocol)
    async with running_master(tmp_path / "m", cfg) as master:
        async with running_worker(tmp_path / "w1", port, "w1", "pw", protocol=protocol,
                                  wait_for=ready_line(protocol)) as w:
            new = listen(master, ("builds", None, "new"))
            finished = listen(master, ("builds", None, "finished"))
            await force(master)
            _, build = await new
            pidfile = w.basedir / "b" / "build" / "pid"
            await wait_for_path(pidfile)
            pid = await _read_pid(pidfile)
            await master.data.control("stop", {"reason": "enough"},
                                      ("builds", build["buildid"]))
            _, build = await finished
            assert build["results"] == CANCELLED
            await _wait_gone(pid)


async def _read_pid(path: Path) -> int:
    from tests.worker.masterkit import wait_until

    return int(await wait_until("pid written", lambda: path.read_text().strip()))


async def _wait_gone(pid: int) -> Any:
    import os

    from tests.worker.masterkit import wait_until

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie not yet reaped by the worker counts as gone
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] == "Z"
        except FileNotFoundError:
            return True
        return False

    return await wait_until(f"process {pid} killed", gone)
