"""Latent machines on a real master: a GenericLatentMachine whose actions run local
commands that start and stop a stock buildbot-worker daemon (as waking and suspending the
host would), with a LocalLatentWorker on it; the actions' other forms (ssh, HTTP) and the
config checks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.web import resource, server

from buildbot.config.errors import capture_config_errors
from buildbot.machine.generic import (
    GenericLatentMachine,
    HttpAction,
    LocalWakeAction,
    LocalWOLAction,
    RemoteSshSuspendAction,
    RemoteSshWakeAction,
    RemoteSshWOLAction,
)
from buildbot.machine.latent import States as MachineStates
from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker.latent import LocalLatentWorker, States
from tests.fixtures.master import running_master
from tests.fixtures.reactor import global_reactor
from tests.fixtures.worker_process import create_worker, worker_script
from tests.worker.masterkit import config, force, free_port, listen, wait_until


def worker_command(action: str, basedir: Path) -> list[str]:
    return [sys.executable, worker_script(), action, str(basedir)]


async def run_build(master: Any) -> dict[str, Any]:
    bsid, _ = await force(master)
    _, bs = await listen(master, ("buildsets", str(bsid), "complete"), timeout=60)
    return dict(bs)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_the_machine_wakes_for_a_build_and_sleeps_when_idle(tmp_path: Path) -> None:
    port = free_port()
    basedir = tmp_path / "host"
    await create_worker(basedir, port, "lw", "pw")
    machine = GenericLatentMachine(
        "host", start_action=LocalWakeAction(worker_command("start", basedir)),
        stop_action=LocalWakeAction(worker_command("stop", basedir)),
        build_wait_timeout=0)
    lw = LocalLatentWorker("lw", "pw", machine_name="host")
    try:
        async with running_master(tmp_path / "m", config([lw], port=port,
                                                         machines=[machine])) as master:
            assert lw.machine is machine and machine.workers == [lw]
            assert machine.state == MachineStates.STOPPED and lw.conn is None
            for _ in range(2):  # woken again after sleeping
                assert (await run_build(master))["results"] == SUCCESS
                await wait_until("machine asleep", lambda: machine.state ==
                                 MachineStates.STOPPED and lw.conn is None)
                assert lw.state == States.NOT_SUBSTANTIATED
                assert not (basedir / "twistd.pid").exists()  # the daemon is gone
    finally:
        if (basedir / "twistd.pid").exists():
            await LocalWakeAction(worker_command("stop", basedir)).perform(_Manager())


class _Manager:
    """Enough of a machine for running an action outside a master."""

    def __init__(self, http: Any = None) -> None:
        self.master: Any = type("M", (), {"reactor": global_reactor(), "httpservice": http,
                                          "basedir": "."})()

    async def renderSecrets(self, value: Any) -> Any:
        return value


class QuickLocal(LocalLatentWorker):
    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_a_machine_that_does_not_wake_fails_the_build(
        tmp_path: Path, logged_errors: Any) -> None:
    port = free_port()
    machine = GenericLatentMachine(
        "host", start_action=LocalWakeAction([sys.executable, "-c", "raise SystemExit(3)"]),
        stop_action=LocalWakeAction(["true"]))
    lw = QuickLocal("lw", "pw", machine_name="host")
    async with running_master(tmp_path / "m", config([lw], port=port,
                                                     machines=[machine])) as master:
        finished = listen(master, ("builds", None, "finished"))
        await force(master)
        _, build = await finished
        await lw.pause("stop retrying")
        assert build["results"] == RETRY
        assert machine.state == MachineStates.STOPPED
    assert logged_errors.flush("Got unexpected return code when running")


@pytest_twisted.ensureDeferred
async def test_ssh_actions_run_the_remote_command_through_ssh(tmp_path: Path) -> None:
    # a stand-in for ssh that records its arguments (and the key files it was given)
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text("#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/argv\"\n"
                        "for a in \"$@\"; do f=\"${a#UserKnownHostsFile=}\"; [ -f \"$f\" ] && "
                        "{ cat \"$f\"; echo; } >> \"$(dirname \"$0\")/files\"; done\nexit 0\n")
    fake_ssh.chmod(0o755)
    manager = _Manager()
    manager.master.basedir = str(tmp_path)
    assert await RemoteSshSuspendAction("host.lan", sshBin=str(fake_ssh)).perform(manager)
    assert (tmp_path / "argv").read_text().split() == [
        "-o", "BatchMode=yes", "host.lan", "systemctl", "suspend"]
    action = RemoteSshWOLAction("router", "00:11:22:33:44:55", sshBin=str(fake_ssh),
                                sshKey="PRIVATE KEY", sshHostKey="ssh-rsa AAAA")
    assert await action.perform(manager)
    argv = (tmp_path / "argv").read_text().split()
    assert argv[-3:] == ["router", "wakeonlan", "00:11:22:33:44:55"]
    assert any(a.startswith("UserKnownHostsFile=") for a in argv)
    assert (tmp_path / "files").read_text().split("\n")[:2] == ["PRIVATE KEY",
                                                             "* ssh-rsa AAAA"]
    assert not any(p.name.startswith("ssh-") for p in tmp_path.iterdir())  # cleaned up


@pytest_twisted.ensureDeferred
async def test_http_action_makes_the_request(tmp_path: Path) -> None:
    reactor = global_reactor()

    from buildbot.util.httpclientservice import HTTPClientService

    seen: list[tuple[bytes, bytes, bytes]] = []

    class Hook(resource.Resource):
        isLeaf = True

        def render(self, request: Any) -> bytes:
            seen.append((request.method, request.uri, request.content.read()))
            request.setHeader("connection", "close")  # nothing left open afterwards
            return b"ok"

    site = server.Site(Hook(), timeout=None)  # no idle timer left behind by the server
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    http = HTTPClientService("")
    http.startService()
    try:
        url = f"http://127.0.0.1:{port.getHost().port}/power"
        assert await HttpAction(url, "post", json={"on": True}).perform(_Manager(http))
    finally:
        await http.stopService()
        await port.stopListening()
    assert seen == [(b"POST", b"/power", b'{"on": true}')]


def test_config_checks() -> None:
    with pytest.raises(RuntimeError, match="start_action of m does not implement"):
        GenericLatentMachine("m", start_action=object(), stop_action=object())
    with capture_config_errors() as errors:
        LocalWakeAction("wake")  # type: ignore[arg-type]  # a str, not a list: the check tested
        RemoteSshWakeAction(1, "cmd")
    assert errors.errors == ["command parameter must be a list",
                             "host parameter must be a string",
                             "remoteCommand parameter must be a list"]
    assert LocalWOLAction("aa:bb")._command == ["wakeonlan", "aa:bb"]
