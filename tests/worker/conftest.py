"""Fixtures for worker protocol tests: the master's side (a port manager and stand-ins)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.worker.protocols import msgpack as msgpack_protocol
from buildbot.worker.protocols import pb as pb_protocol
from buildbot.worker.protocols.base import Connection
from buildbot.worker.protocols.manager.base import PortManager, Registration
from buildbot.worker.protocols.manager.msgpack import MsgManager
from buildbot.worker.protocols.manager.pb import PBManager
from tests.fixtures.reactor import global_reactor
from tests.fixtures.worker_process import ATTACHED, CONNECTED, WorkerProcess, running_worker
from tests.worker.standin import StandInWorker, StandInWorkers

PB = "pb"
MSGPACK = "msgpack_experimental_v7"
PROTOCOLS = [PB, MSGPACK]
LOOPBACK_PORT = "tcp:0:interface=127.0.0.1"


class MasterSide:
    """A port manager for one protocol, wired to the stand-in worker manager."""

    def __init__(self, protocol: str, tmp_path: Path) -> None:
        from twisted.internet import reactor

        self.protocol = protocol
        self.tmp_path = tmp_path
        self.workers = StandInWorkers()
        self.manager: PortManager = PBManager() if protocol == PB else MsgManager()
        module: Any = pb_protocol if protocol == PB else msgpack_protocol
        self.factory = module.connection_factory(self.workers, reactor)
        self.registrations: list[Registration] = []
        self.port = 0

    async def add_worker(self, name: str, password: str = "pass",
                         builders: list[tuple[str, str]] | None = None) -> StandInWorker:
        worker = self.workers.add(StandInWorker(name, builders))
        reg = await self.manager.register(LOOPBACK_PORT, name, password, self.factory)
        self.registrations.append(reg)
        self.port = reg.getPort()
        return worker

    def run_worker(self, name: str, password: str = "pass", *, basedir: str | None = None,
                   wait: bool = True, **kw: Any) -> Any:
        """`running_worker` for this master; waits for the end of the handshake if `wait`."""
        wait_for = None
        if wait:
            wait_for = CONNECTED if self.protocol == PB else ATTACHED
        return running_worker(self.tmp_path / (basedir or name), self.port, name, password,
                              protocol=self.protocol, wait_for=wait_for, **kw)

    async def connected(self, worker: StandInWorker, w: WorkerProcess | None = None
                        ) -> Connection:
        """Wait until `worker`'s handshake is done; its connection."""
        await worker.events.wait_for("handshake done")
        if w is not None and self.protocol == MSGPACK:
            # msgpack has no login answer: the last per-builder print ends the handshake.
            await w.wait_for_log(ATTACHED, count=1 + len(worker.builders))
        assert worker.conn is not None
        return worker.conn

    async def stop(self) -> None:
        for reg in self.registrations:
            await reg.unregister()
        await self.manager.stopService()
        for conn in list(self.workers.connections.values()):
            conn.loseConnection()
            await conn.wait_disconnected()


@asynccontextmanager
async def started_side(protocol: str, tmp_path: Path) -> AsyncIterator[MasterSide]:
    side = MasterSide(protocol, tmp_path)
    await side.manager.startService()
    try:
        yield side
    finally:
        await side.stop()


@pytest_twisted.async_yield_fixture(params=PROTOCOLS)
async def master_side(request: Any, tmp_path: Path) -> AsyncIterator[MasterSide]:
    """The master's side of each protocol in turn."""
    async with started_side(request.param, tmp_path) as side:
        yield side


@pytest_twisted.async_yield_fixture
async def pb_side(tmp_path: Path) -> AsyncIterator[MasterSide]:
    async with started_side(PB, tmp_path) as side:
        yield side


@pytest_twisted.async_yield_fixture
async def msgpack_side(tmp_path: Path) -> AsyncIterator[MasterSide]:
    async with started_side(MSGPACK, tmp_path) as side:
        yield side


class MasterLog:
    """Master log lines (formatted), awaitable."""

    def __init__(self) -> None:
        from tests.worker.standin import Events

        self.events = Events()

    def __call__(self, event: dict[str, Any]) -> None:
        from twisted.logger import formatEvent

        self.events.append(formatEvent(event) or "")

    def count(self, text: str) -> int:
        return sum(text in line for line in self.events.items)

    async def wait_for(self, text: str, count: int = 1, timeout: float = 120.0) -> None:
        await self.events.wait(lambda lines: sum(text in ln for ln in lines) >= count,
                               f"master log line {text!r} x{count}", timeout)


@pytest.fixture
def master_log() -> Any:
    from twisted.logger import globalLogPublisher

    capture = MasterLog()
    globalLogPublisher.addObserver(capture)
    yield capture
    globalLogPublisher.removeObserver(capture)


async def run_command(conn: Connection, name: str, args: dict[str, Any], builder: str = "b1",
                      cmd: Any = None, progress: Callable[[], Any] | None = None) -> Any:
    """Run one command to completion; the `RecordingCommand` (its `failure` set).

    `progress`: see `RecordingCommand.wait_complete` (for long transfers)."""
    from buildbot.worker.protocols.base import new_command_id
    from tests.worker.standin import RecordingCommand

    cmd = cmd if cmd is not None else RecordingCommand()
    await conn.remoteStartCommand(cmd, builder, new_command_id(), name, args)
    cmd.failure = await cmd.wait_complete(progress=progress)
    return cmd


async def wait_for_path(path: Path, timeout: float = 120.0) -> None:
    """Wait until `path` exists (something a worker command creates)."""
    reactor = global_reactor()

    from tests.fixtures.worker_process import POLL_INTERVAL, _sleep

    deadline = reactor.seconds() + timeout
    while not path.exists():
        if reactor.seconds() > deadline:
            raise AssertionError(f"{path} was never created")
        await _sleep(POLL_INTERVAL)
