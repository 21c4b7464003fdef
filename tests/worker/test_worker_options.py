"""Worker options on a real master: max_builds, properties, machine_name, path rules, the
missing timer and worker info (LocalWorker, and stock buildbot-worker processes over PB)."""

from __future__ import annotations

import ntpath
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from buildbot_worker.base import WorkerBase
from buildbot_worker.null import BotNull
from buildbot_worker.null import LocalWorker as RemoteLocalWorker

from buildbot.config.errors import ConfigErrors
from buildbot.config.master import MasterConfig
from buildbot.machine.base import Machine
from buildbot.plugins import steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master
from tests.fixtures.worker_process import CONNECTED, running_worker
from tests.worker.masterkit import Recorder, config, force, free_port, listen

pytestmark = pytest.mark.integration


async def build_properties(master: Any, buildid: int) -> dict[str, Any]:
    props = await master.data.get(("builds", buildid, "properties"))
    return {k: tuple(v) for k, v in props.items()}


@pytest_twisted.ensureDeferred
async def test_max_builds_limits_concurrent_builds_across_builders(tmp_path: Path) -> None:
    sleepy = [steps.ShellCommand(command=["sleep", "0.2"], name="work")]
    cfg = config([worker.LocalWorker("local", max_builds=1)],
                 {"a": sleepy, "b": sleepy, "c": sleepy})
    async with running_master(tmp_path, cfg) as master:
        builds = await Recorder.start(master, ("builds", None, None))
        for name in ("a", "b", "c"):
            await force(master, name)
        await builds.wait("three finished builds",
                          lambda bodies: sum(b["complete"] for b in bodies) == 3)
        running, most = 0, 0
        for key, _ in builds.events.items:
            if key[-1] == "new":
                running += 1
            elif key[-1] == "finished":
                running -= 1
            most = max(most, running)
        assert most == 1
        assert [b["results"] for b in builds.bodies if b["complete"]] == [SUCCESS] * 3


@pytest_twisted.ensureDeferred
async def test_worker_properties_override_builder_ones_and_defaults_fill_gaps(
        tmp_path: Path) -> None:
    w = worker.LocalWorker(
        "local", properties={"shared": "worker", "mine": "w"},
        defaultProperties={"shared": "worker-default", "from_builder": "worker-default",
                           "only_default": "d"})
    cfg = config([w], builder_kwargs={"b": {"properties": {"shared": "builder",
                                                           "from_builder": "b"}}})
    async with running_master(tmp_path, cfg) as master:
        done = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await done
        props = await build_properties(master, build["buildid"])
    assert {k: props[k] for k in ("shared", "mine", "from_builder", "only_default",
                                  "workername")} == {
        "shared": ("worker", "Worker"), "mine": ("w", "Worker"),
        "from_builder": ("b", "Builder"), "only_default": ("d", "Worker"),
        "workername": ("local", "Worker")}


@pytest_twisted.ensureDeferred
async def test_machine_name_links_the_worker_to_its_machine(tmp_path: Path) -> None:
    cfg = config([worker.LocalWorker("local", machine_name="rack1")],
                 machines=[Machine("rack1")])
    async with running_master(tmp_path, cfg) as master:
        done = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await done
        props = await build_properties(master, build["buildid"])
        machine = master.machine_manager.getMachineByName("rack1")
        assert machine.workers == [master.workers.getWorkerByName("local")]
    assert props["machine_name"] == ("rack1", "Worker")
    assert machine.workers == []  # unregistered when the worker stopped


def test_unknown_machine_name_is_a_config_error() -> None:
    cfg = config([worker.LocalWorker("local", machine_name="nope")],
                 machines=[Machine("rack1")], protocols={"null": {}})
    with pytest.raises(ConfigErrors) as e:
        MasterConfig.loadFromDict(cfg, "master.cfg")
    assert "worker 'local' uses unknown machine 'nope'" in e.value.errors


class WindowsBot(BotNull):
    """A real in-process worker bot that reports a Windows system."""

    def remote_getWorkerInfo(self) -> Any:
        info = super().remote_getWorkerInfo()
        info["system"] = "nt"
        info["basedir"] = "C:\\workers\\local"
        return info


class WindowsRemoteWorker(RemoteLocalWorker):
    def __init__(self, name: str, basedir: str, **kw: Any) -> None:
        WorkerBase.__init__(self, name, basedir, WindowsBot, **kw)


class WindowsLocalWorker(worker.LocalWorker):
    def checkConfig(self, name: str, workdir: str | None = None, **kw: Any) -> None:
        super().checkConfig(name, workdir, **kw)
        self.LocalWorkerFactory = WindowsRemoteWorker


@pytest_twisted.ensureDeferred
async def test_a_worker_reporting_nt_gets_windows_path_rules(tmp_path: Path) -> None:
    cfg = config([WindowsLocalWorker("local")],
                 {"b": [steps.SetProperty(property="x", value="y")]})
    async with running_master(tmp_path, cfg) as master:
        done = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await done
        props = await build_properties(master, build["buildid"])
        w = master.workers.getWorkerByName("local")
        assert w.path_module is ntpath and w.path_cls.__name__ == "PureWindowsPath"
    assert props["builddir"] == ("C:\\workers\\local\\b", "Worker")


@pytest_twisted.ensureDeferred
async def test_missing_worker_is_announced_with_its_notify_list(tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw", missing_timeout=0.2,
                                notify_on_missing="ops@example.org")], port=port)
    async with running_master(tmp_path, cfg) as master:
        started = time.time()
        _, body = await listen(master, ("workers", None, "missing"))
    assert body["name"] == "w1" and body["notify"] == ["ops@example.org"]
    assert abs(time.mktime(time.strptime(body["last_connection"])) - started) < 2


@pytest_twisted.ensureDeferred
async def test_a_worker_gone_for_missing_timeout_is_announced_once(tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw", missing_timeout=0.5)], port=port)
    async with running_master(tmp_path, cfg) as master:
        w = master.workers.getWorkerByName("w1")
        async with running_worker(tmp_path / "w1", port, "w1", "pw", wait_for=CONNECTED) as p:
            assert w.missing_timer is None
            missing = listen(master, ("workers", None, "missing"))
            p.signal(signal.SIGKILL)
            await p.wait_exited()
            _, body = await missing
        assert body["connected_to"] == [] and body["notify"] == []
        assert w.missing_timer is None


@pytest_twisted.ensureDeferred
async def test_worker_info_is_stored_served_and_available_to_builds(tmp_path: Path) -> None:
    port = free_port()
    cfg = config([worker.Worker("w1", "pw")],
                 {"b": [steps.SetProperty(property="seen",
                                          value=util.Interpolate("%(worker:version)s "
                                                                 "%(worker:os_id)s"))]},
                 port=port, www={"port": "tcp:0:interface=127.0.0.1"})
    cfg["db"] = {"db_url": f"sqlite:///{tmp_path / 'state.sqlite'}"}
    basedir = tmp_path / "w1"
    async with running_master(tmp_path / "m", cfg) as master:
        from tests.fixtures.worker_process import create_worker

        await create_worker(basedir, port, "w1", "pw")
        (basedir / "info" / "admin").write_text("Ada <ada@example.org>")
        (basedir / "info" / "host").write_text("a test host")
        (basedir / "info" / "access_uri").write_text("ssh://w1.example.org")
        async with running_worker(basedir, port, "w1", "pw", wait_for=CONNECTED):
            url = f"http://127.0.0.1:{master.www.port_number}/api/v2/workers/w1"
            res = await treq.get(url, persistent=False)
            body = await res.json()
            done = listen(master, ("builds", None, "finished"))
            await force(master)
            _, build = await done
            props = await build_properties(master, build["buildid"])
            info = master.workers.getWorkerByName("w1").info
        assert body["workers"][0]["workerinfo"] == {
            "admin": "Ada <ada@example.org>", "host": "a test host",
            "access_uri": "ssh://w1.example.org", "version": "4.3.0"}
        assert props["seen"][0] == f"4.3.0 {info.getProperty('os_id')}"
        assert info.getProperty("basedir") == str(basedir)
        assert not info.hasProperty("environ") and not info.hasProperty("worker_commands")
        # Info properties are not build properties (as in Buildbot 4.3).
        assert "os_id" not in props and "admin" not in props
    # After a restart the published info is known before the worker connects again.
    async with running_master(tmp_path / "m", cfg) as master:
        info = master.workers.getWorkerByName("w1").info
        assert (info.getProperty("admin"), info.getProperty("version")) == (
            "Ada <ada@example.org>", "4.3.0")
