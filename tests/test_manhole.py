"""Manholes on a real master, driven by real clients: telnet (Twisted's telnet client over
TCP, answering the server's option negotiation as a terminal would) and OpenSSH's `ssh` with a
password (through SSH_ASKPASS) or a key. Each evaluates an expression that needs `master` and
reads the answer; a wrong password is refused."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_twisted
from twisted.conch import telnet
from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

from buildbot import manhole
from buildbot.plugins import schedulers, steps, util, worker
from tests.fixtures.master import running_master

pytestmark = pytest.mark.integration
needs_ssh = pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("ssh-keygen") is None,
                               reason="OpenSSH client (Debian openssh-client) not installed")
TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(mh: Any) -> dict[str, Any]:
    return {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(name="b", workernames=["local"],
                                        factory=util.BuildFactory([steps.ShellCommand(
                                            command="true")]))],
        "manhole": mh,
    }


class Output:
    """Collects bytes; `wait_for(text)` fires once `text` arrives after what earlier waits
    consumed (a conversation read in order)."""

    def __init__(self) -> None:
        self.data = b""
        self.consumed = 0
        self._waiting: list[tuple[bytes, defer.Deferred[None]]] = []

    def _take(self, text: bytes) -> bool:
        at = self.data.find(text, self.consumed)
        if at < 0:
            return False
        self.consumed = at + len(text)
        return True

    def add(self, data: bytes) -> None:
        self.data += data
        while self._waiting and self._take(self._waiting[0][0]):
            self._waiting.pop(0)[1].callback(None)

    async def wait_for(self, text: str) -> None:
        if not self._waiting and self._take(text.encode()):
            return
        d: defer.Deferred[None] = defer.Deferred()
        self._waiting.append((text.encode(), d))
        d.addTimeout(TIMEOUT, reactor)
        try:
            await d
        except defer.TimeoutError:
            raise AssertionError(f"{text!r} not received; got {self.data[-2000:]!r}") from None


class TelnetClient(telnet.TelnetProtocol):
    """A terminal's side of telnet: agrees to every option the server asks for. (Its
    transport sends each "\\n" as CR LF, the end of line of a real telnet client.)"""

    def __init__(self) -> None:
        self.out = Output()

    def enableLocal(self, option: bytes) -> bool:
        return True

    def enableRemote(self, option: bytes) -> bool:
        return True

    def disableLocal(self, option: bytes) -> None:
        pass

    def disableRemote(self, option: bytes) -> None:
        pass

    def dataReceived(self, data: bytes) -> None:
        self.out.add(data)


async def telnet_connect(port: int) -> tuple[telnet.TelnetTransport, TelnetClient]:
    transport = telnet.TelnetTransport(TelnetClient)
    await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), transport)
    return transport, cast(TelnetClient, transport.protocol)  # built from TelnetClient above


@pytest_twisted.ensureDeferred
async def test_telnet_manhole_evaluates_with_master_and_refuses_a_wrong_password(
        tmp_path: Path) -> None:
    port = free_port()
    mh = manhole.TelnetManhole(port, "admin", "s3cret")
    assert mh.port == f"tcp:{port}:interface=127.0.0.1"  # a bare number: loopback only
    async with running_master(tmp_path, config(mh)) as master:
        transport, client = await telnet_connect(port)
        try:
            await client.out.wait_for("Username: ")
            transport.write(b"admin\n")
            await client.out.wait_for("Password: ")
            transport.write(b"wrong\n")
            await client.out.wait_for("Authentication failed")
            await client.out.wait_for("Username: ")
            transport.write(b"admin\n")
            await client.out.wait_for("Password: ")
            transport.write(b"s3cret\n")
            await client.out.wait_for(">>> ")
            transport.write(b"master.basedir[::-1]\n")
            await client.out.wait_for(master.basedir[::-1])
        finally:
            transport.loseConnection()


def ssh_keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True)


class SshClient(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.out = Output()
        self.ended: defer.Deferred[int] = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out.add(data)

    errReceived = outReceived

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(reason.value.exitCode)


def spawn_ssh(tmp_path: Path, port: int, *options: str, password: str | None = None
              ) -> SshClient:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    if password is not None:
        askpass = tmp_path / "askpass.sh"
        askpass.write_text(f"#!/bin/sh\necho '{password}'\n")
        askpass.chmod(0o700)
        env.update(SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    client = SshClient()
    reactor.spawnProcess(client, "/usr/bin/ssh", [
        "ssh", "-tt", "-p", str(port), "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "NumberOfPasswordPrompts=1",
        "-o", "ConnectTimeout=10", *options, "admin@127.0.0.1"], env=env)
    return client


async def evaluate_over_ssh(client: SshClient, master: Any) -> None:
    # Set by spawnProcess. Any: mypy without the zope plugin cannot call interface methods.
    transport: Any = client.transport
    try:
        await client.out.wait_for(">>> ")
        transport.write(b"master.basedir[::-1]\n")
        await client.out.wait_for(master.basedir[::-1])
        transport.write(b"\x04")  # Ctrl-D ends the shell
        await client.ended
    finally:
        if not client.ended.called:
            transport.signalProcess("KILL")
            await client.ended


@needs_ssh
@pytest_twisted.ensureDeferred
async def test_password_manhole_over_openssh(tmp_path: Path) -> None:
    hostkeys = tmp_path / "hostkeys"
    hostkeys.mkdir()
    ssh_keygen(hostkeys / "ssh_host_ed25519_key")
    port = free_port()
    mh = manhole.PasswordManhole(f"tcp:{port}:interface=127.0.0.1", "admin", "s3cret",
                                 str(hostkeys))
    async with running_master(tmp_path / "m", config(mh)) as master:
        refused = spawn_ssh(tmp_path, port, "-o", "PubkeyAuthentication=no", password="nope")
        assert await refused.ended == 255
        assert b"Permission denied" in refused.out.data

        client = spawn_ssh(tmp_path, port, "-o", "PubkeyAuthentication=no", password="s3cret")
        await evaluate_over_ssh(client, master)


@needs_ssh
@pytest_twisted.ensureDeferred
async def test_authorized_keys_manhole_over_openssh(tmp_path: Path) -> None:
    hostkeys = tmp_path / "hostkeys"
    hostkeys.mkdir()
    ssh_keygen(hostkeys / "ssh_host_ed25519_key")
    ssh_keygen(tmp_path / "allowed")
    ssh_keygen(tmp_path / "other")
    keyfile = tmp_path / "authorized_keys"
    keyfile.write_text((tmp_path / "allowed.pub").read_text())
    port = free_port()
    mh = manhole.AuthorizedKeysManhole(port, str(keyfile), str(hostkeys))
    async with running_master(tmp_path / "m", config(mh)) as master:
        refused = spawn_ssh(tmp_path, port, "-i", str(tmp_path / "other"),
                            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes")
        assert await refused.ended == 255
        assert b"Permission denied" in refused.out.data

        client = spawn_ssh(tmp_path, port, "-i", str(tmp_path / "allowed"),
                           "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes")
        await evaluate_over_ssh(client, master)


def test_manholes_compare_by_arguments() -> None:
    assert manhole.TelnetManhole(1234, "a", "b") == manhole.TelnetManhole(1234, "a", "b")
    assert manhole.TelnetManhole(1234, "a", "b") != manhole.TelnetManhole(1234, "a", "c")
    assert manhole.TelnetManhole("tcp:99", "a", "b").port == "tcp:99"  # as given


@pytest_twisted.ensureDeferred
async def test_ssh_manhole_without_host_keys_says_so_and_does_not_listen(
        tmp_path: Path, logged_errors: Any) -> None:
    port = free_port()
    mh = manhole.PasswordManhole(f"tcp:{port}:interface=127.0.0.1", "a", "b", str(tmp_path))
    await mh.startService()
    try:
        assert [e["log_format"] for e in logged_errors.flush("no SSH host keys")]
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        await mh.stopService()


def test_show_lists_data_attributes(capsys: pytest.CaptureFixture[str]) -> None:
    class Thing:
        name = "x" * 100
        count = 3
        items = [1, 2]  # noqa: RUF012 - a list attribute is what show() describes

        def method(self) -> None:
            pass

    thing = Thing()
    assert manhole.show(thing) is thing
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"data attributes of {thing!r}"
    width = max(len(n) for n in dir(thing))  # dunder names count for the column width
    assert lines[1:] == [
        "count".ljust(width) + " : 3",
        "items".ljust(width) + " : [1, 2] (2 elements)",
        "name".ljust(width) + " : '" + "x" * (80 - width - 5) + "'...",
    ]


@pytest_twisted.ensureDeferred
async def test_reconfig_keeps_an_equal_manhole_and_replaces_a_changed_one(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    current = {"mh": manhole.TelnetManhole(ports[0], "admin", "s3cret")}

    def make() -> dict[str, Any]:
        return config(current["mh"])

    async with running_master(tmp_path, make) as master:
        first = master.debug.manhole
        assert first is current["mh"] and first.running
        current["mh"] = manhole.TelnetManhole(ports[0], "admin", "s3cret")  # equal
        await master.reconfig()
        assert master.debug.manhole is first and first.running
        current["mh"] = manhole.TelnetManhole(ports[1], "admin", "other")
        await master.reconfig()
        assert master.debug.manhole is current["mh"] and current["mh"].running
        assert not first.running
        transport, client = await telnet_connect(ports[1])
        try:
            await client.out.wait_for("Username: ")
        finally:
            transport.loseConnection()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", ports[0]), timeout=5).close()


def test_missing_host_key_directory_is_a_config_error(tmp_path: Path) -> None:
    from buildbot.config.errors import capture_config_errors

    with capture_config_errors() as errors:
        manhole.PasswordManhole(1234, "a", "b", str(tmp_path / "missing"))
    assert errors.errors == [
        f"manhole ssh_hostkey_dir '{tmp_path / 'missing'}': No such file or directory"]
