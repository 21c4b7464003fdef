"""`buildbot.worker.protocols.base`: disconnect subscriptions, keepalive timer, factories."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, task

from buildbot.worker.protocols.base import (
    Connection,
    WorkerConnectionLost,
    make_connection_factory,
    new_command_id,
)


class RecordingConnection(Connection):
    def __init__(self, clock: Any = None) -> None:
        super().__init__("w1", clock)
        self.keepalives = 0
        self.fail_keepalive = False

    async def remoteKeepalive(self) -> None:
        self.keepalives += 1
        if self.fail_keepalive:
            raise WorkerConnectionLost("gone")

    def loseConnection(self) -> None:
        self.notifyDisconnected()


@pytest_twisted.ensureDeferred
async def test_subscribers_run_once_in_order_and_are_awaited(logged_errors: Any) -> None:
    conn = RecordingConnection()
    seen: list[str] = []
    slow: defer.Deferred[None] = defer.Deferred()

    def failing() -> None:
        raise ValueError("subscriber bug")

    conn.notifyOnDisconnect(lambda: seen.append("a"))
    conn.notifyOnDisconnect(lambda: slow)
    conn.notifyOnDisconnect(failing)
    conn.notifyOnDisconnect(lambda: seen.append("b")).unsubscribe()
    conn.notifyOnDisconnect(lambda: seen.append("c"))

    conn.loseConnection()
    conn.loseConnection()
    assert seen == ["a", "c"] and not conn.is_connected
    waiting = defer.ensureDeferred(conn.wait_disconnected())
    assert not waiting.called
    slow.callback(None)
    await waiting
    assert len(logged_errors.flush(ValueError)) == 1

    conn.notifyOnDisconnect(lambda: seen.append("late"))  # already gone: called at once
    assert seen == ["a", "c", "late"]


def test_shutdown_waiters_fire_when_it_starts_and_when_subscribers_finish() -> None:
    conn = RecordingConnection()
    slow: defer.Deferred[None] = defer.Deferred()
    conn.notifyOnDisconnect(lambda: slow)
    started, finished = conn.wait_shutdown_started(), conn.waitShutdown()
    assert not started.called and not finished.called
    conn.loseConnection()
    assert started.called and not finished.called
    slow.callback(None)
    assert finished.called


def test_args_proxies_wrap_instances_of_the_mapped_classes() -> None:
    class Writer:
        pass

    class WriterProxy:
        def __init__(self, impl: Any) -> None:
            self.impl = impl

    class Proxying(RecordingConnection):
        proxies = {Writer: WriterProxy}

    writer = Writer()
    args = {"writer": writer, "path": "a/b", "mode": None}
    got = Proxying().createArgsProxies(args)
    assert isinstance(got["writer"], WriterProxy) and got["writer"].impl is writer
    assert (got["path"], got["mode"]) == ("a/b", None)
    assert args["writer"] is writer  # the caller's dict is left alone
    assert RecordingConnection().createArgsProxies(args) == args  # no proxies by default


def test_keepalive_is_sent_every_interval_until_disconnect() -> None:
    clock = task.Clock()
    conn = RecordingConnection(clock)
    conn.start_keepalive()
    conn.start_keepalive()  # idempotent
    clock.advance(3599)
    assert conn.keepalives == 0
    clock.advance(1)
    clock.advance(3600)
    assert conn.keepalives == 2
    conn.fail_keepalive = True  # failures are only noted; the timer goes on
    clock.advance(3600)
    assert conn.keepalives == 3 and clock.getDelayedCalls()
    conn.loseConnection()
    assert clock.getDelayedCalls() == []
    conn.start_keepalive()  # not after a disconnect
    assert clock.getDelayedCalls() == []


def test_command_ids_are_unique_strings() -> None:
    ids = {new_command_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.isdigit() for i in ids)


class Registry:
    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.offered: list[Any] = []

    def getWorkerByName(self, name: str) -> Any:
        return type("W", (), {"name": name})() if name == "w1" else None

    async def newConnection(self, conn: Any, workerName: str) -> bool:
        self.offered.append((conn, workerName))
        return self.accept


@pytest_twisted.ensureDeferred
async def test_connection_factory_offers_the_connection_to_the_worker_manager() -> None:
    registry = Registry(accept=True)
    factory = make_connection_factory(lambda worker, side: RecordingConnection(), registry)
    conn = await factory("mind", "w1")
    assert registry.offered == [(conn, "w1")]

    with pytest.raises(LookupError):
        await factory("mind", "nobody")
    with pytest.raises(RuntimeError, match="rejecting duplicate worker"):
        await make_connection_factory(lambda w, s: RecordingConnection(),
                                      Registry(accept=False))("mind", "w1")
