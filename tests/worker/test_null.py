"""The in-process connection with the stock `buildbot_worker.null.LocalWorker` service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from buildbot_worker.null import LocalWorker
from twisted.application import service
from twisted.internet import defer

from buildbot.process.remotetransfer import FileWriter, StringFileReader
from buildbot.worker.protocols.base import new_command_id
from buildbot.worker.protocols.null import Connection, LocalReference
from tests.fixtures.worker_process import _sleep
from tests.worker.conftest import run_command, wait_for_path
from tests.worker.standin import RecordingCommand, StandInWorker, StandInWorkers


class FakeMaster:
    def __init__(self) -> None:
        self.workers = StandInWorkers()


class MasterSideLocalWorker(service.MultiService):
    """Plays the master's LocalWorker: the parent of the stock in-process worker service."""

    def __init__(self, standin: StandInWorker) -> None:
        super().__init__()
        self.master = FakeMaster()
        self.master.workers.add(standin)
        self.standin = standin

    def attached(self, conn: Connection) -> defer.Deferred[None]:
        return defer.ensureDeferred(self.standin.attached(conn))


class Local:
    def __init__(self, worker: LocalWorker, standin: StandInWorker) -> None:
        self.worker = worker
        self.standin = standin

    @property
    def conn(self) -> Connection:
        assert isinstance(self.standin.conn, Connection)
        return self.standin.conn


@pytest_twisted.async_yield_fixture
async def local(tmp_path: Path) -> AsyncIterator[Local]:
    standin = StandInWorker("local1", [("b1", "b1")])
    parent = MasterSideLocalWorker(standin)
    basedir = tmp_path / "local1"
    basedir.mkdir()
    worker = LocalWorker("local1", str(basedir))
    worker.setServiceParent(parent)
    await worker.startService()
    try:
        yield Local(worker, standin)
    finally:
        if worker.running:
            await worker.stopService()
        # answers of LocalReference calls are delivered on the next reactor turns
        for _ in range(3):
            await _sleep(0)


@pytest_twisted.ensureDeferred
async def test_local_worker_attaches_through_the_null_connection(local: Local) -> None:
    assert local.standin.events.items == ["attached", "printed attached", "got info",
                                          ("builders", ["b1"]), "handshake done"]
    conn = local.conn
    assert conn.get_peer() == "local" and conn.name == "local1"
    assert conn.info["basedir"] == local.worker.basedir and conn.builders == ["b1"]
    assert local.standin.name in local.worker.parent.master.workers.connections


@pytest_twisted.ensureDeferred
async def test_local_file_system_command_and_transfers(local: Local, tmp_path: Path) -> None:
    conn = local.conn
    cmd = await run_command(conn, "mkdir", {"dir": "build"})
    assert cmd.rc == 0

    cmd = await run_command(conn, "downloadFile", {
        "workdir": "build", "workerdest": "f.txt", "reader": StringFileReader("x" * 50_000),
        "maxsize": None, "blocksize": 100, "mode": None})
    assert (cmd.failure, cmd.rc) == (None, 0)  # 500 blocks: no recursion trouble

    dest = tmp_path / "master" / "f.txt"
    writer = FileWriter(str(dest), None, None)
    cmd = await run_command(conn, "uploadFile", {
        "workdir": "build", "workersrc": "f.txt", "writer": writer, "maxsize": None,
        "blocksize": 100, "keepstamp": True})
    assert (cmd.failure, cmd.rc) == (None, 0)
    assert dest.read_text() == "x" * 50_000


@pytest_twisted.ensureDeferred
async def test_local_reference_calls_remote_methods_on_a_later_turn() -> None:
    class Impl:
        def __init__(self) -> None:
            self.calls: list[Any] = []

        def remote_update(self, updates: Any) -> int:
            self.calls.append(updates)
            return 7

        async def remote_complete(self, failure: Any = None) -> str:
            return "done"

    from twisted.internet import reactor

    class Owner:
        clock = reactor

        def _later(self, result: Any) -> defer.Deferred[Any]:
            return Connection._later(self, result)  # type: ignore[arg-type]  # on a stand-in

    impl = Impl()
    ref = LocalReference(impl, Owner())  # type: ignore[arg-type]  # a stand-in Connection
    d = ref.callRemote("update", [[{"rc": 0}, 0]])
    assert impl.calls == [[[{"rc": 0}, 0]]] and not d.called  # called now, answered later
    assert await d == 7
    assert await ref.callRemote("complete", None) == "done"
    with pytest.raises(AttributeError):
        await ref.callRemote("nosuch")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_local_shell_command_and_interrupt(local: Local) -> None:
    conn = local.conn
    cmd = await run_command(conn, "shell", {
        "workdir": "build", "command": ["sh", "-c", "echo hi"], "env": {}, "logfiles": {},
        "timeout": 60, "usePTY": False, "want_stdout": True, "want_stderr": True})
    assert (cmd.failure, cmd.rc, cmd.text("stdout")) == (None, 0, "hi\n")

    long = RecordingCommand()
    cid = new_command_id()
    await conn.remoteStartCommand(long, "b1", cid, "shell", {
        "workdir": "build", "command": ["sh", "-c", "touch started; exec sleep 60"],
        "env": {}, "logfiles": {}, "timeout": 60, "usePTY": False})
    await wait_for_path(Path(local.worker.basedir) / "b1" / "build" / "started")
    await conn.remoteInterruptCommand("b1", cid, "stop it")
    assert await long.wait_complete() is None
    assert long.rc == -1


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_losing_the_local_connection_notifies_subscribers(local: Local) -> None:
    conn = local.conn
    cmd = RecordingCommand()
    cid = new_command_id()
    await conn.remoteStartCommand(cmd, "b1", cid, "shell", {
        "workdir": "build", "command": ["sh", "-c", "touch started; exec sleep 60"],
        "env": {}, "logfiles": {}, "timeout": 60, "usePTY": False})
    await wait_for_path(Path(local.worker.basedir) / "b1" / "build" / "started")
    conn.loseConnection()
    await conn.wait_disconnected()
    assert local.standin.events.items[-1] == "detached"
    assert "local1" not in local.worker.parent.master.workers.connections
    # as in the reference, the in-process command is not killed by the disconnection
    assert not cmd.completed.called
    await conn.remoteInterruptCommand("b1", cid, "cleanup")
    assert await cmd.wait_complete() is None


@pytest_twisted.ensureDeferred
async def test_remote_shutdown_stops_the_local_worker(local: Local) -> None:
    conn = local.conn
    await conn.remoteShutdown()
    assert not local.worker.running
    assert not conn.is_connected and local.standin.events.items[-1] == "detached"
