"""Stock buildbot-worker 4.3 processes connecting over PB and msgpack: login, handshake,
refusals, duplicates, keepalives, shutdown and disconnection."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
import pytest_twisted

from tests.fixtures.worker_process import (
    ATTACHED,
    CONNECTED,
    KEEPALIVE_SENT,
    LOGIN_ERROR,
    UNAUTHORIZED,
)
from tests.worker.conftest import PB, MasterSide

pytestmark = pytest.mark.integration

HANDSHAKE = ["attached", "printed attached", "got info", ("builders", ["b1", "b2"]),
             "handshake done"]


@pytest_twisted.ensureDeferred
async def test_handshake_runs_in_order_and_worker_reports_ready(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)

        assert worker.events.items == HANDSHAKE
        assert conn.info["basedir"] == str(w.basedir)
        assert (conn.info["system"], conn.info["version"]) == (os.name, "4.3.0")
        assert conn.info["worker_commands"]["shell"] == "3.3"
        assert {"admin", "host", "environ", "numcpus"} <= set(conn.info)
        assert conn.builders == ["b1", "b2"]
        assert conn.get_peer().startswith("127.0.0.1:")
        # builder directories exist (the worker makes them over PB, the master over msgpack)
        assert (w.basedir / "b1").is_dir() and (w.basedir / "b2").is_dir()
        log = w.log_text()
        assert log.count(ATTACHED) == 3  # after login, then once per builder
        if master_side.protocol == PB:
            # the login is answered only after the whole handshake
            assert log.index(CONNECTED) > log.rindex(ATTACHED)


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("mistake", ["wrong password", "unknown name"])
async def test_bad_credentials_are_refused_and_the_worker_keeps_retrying(
        master_side: MasterSide, master_log: Any, mistake: str) -> None:
    worker = await master_side.add_worker("w1", "secret")
    name, password = ("w1", "nope") if mistake == "wrong password" else ("intruder", "secret")
    async with master_side.run_worker(name, password, wait=False) as w:
        # a second refused attempt shows that the worker retried instead of exiting
        await master_log.wait_for(f"refused on tcp:0:interface=127.0.0.1: {mistake}", count=2)
        line = next(ln for ln in master_log.events.items if mistake in ln)
        assert repr(name) in line and "(from 127.0.0.1:" in line
        if master_side.protocol == PB:
            await w.wait_for_log(UNAUTHORIZED)
        else:
            await w.wait_for_log("upgrade failed [401]")
        assert w.running and LOGIN_ERROR not in w.log_text()
    assert worker.events.items == []


@pytest_twisted.ensureDeferred
async def test_duplicate_login_is_refused_while_the_first_worker_answers(
        master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1", basedir="first") as first:
        conn = await master_side.connected(worker, first)
        async with master_side.run_worker("w1", basedir="second", wait=False) as second:
            await master_side.workers.events.wait_for(("duplicate refused", "w1"))
            if master_side.protocol == PB:
                # any login error other than UnauthorizedLogin makes the worker exit
                await second.wait_exited()
                assert LOGIN_ERROR in second.log_text()
            else:
                # msgpack: the master closes the WebSocket; the worker retries later
                await second.wait_for_log("WebSocket connection closed")
                assert second.running
        await first.wait_for_log("message from master: master got a duplicate connection")
        assert conn.is_connected and worker.conn is conn


@pytest_twisted.ensureDeferred
async def test_duplicate_login_replaces_a_connection_that_no_longer_answers(
        master_side: MasterSide) -> None:
    master_side.workers.ping_timeout = 0.5
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1", basedir="first") as first:
        old = await master_side.connected(worker, first)
        first.pause()  # connected, but silent
        async with master_side.run_worker("w1", basedir="second") as second:
            await master_side.workers.events.wait_for(
                ("old connection dropped", "w1", "TimeoutError"))
            new = await master_side.connected(worker, second)
            assert new is not old and not old.is_connected
            assert master_side.workers.connections["w1"] is new


@pytest_twisted.ensureDeferred
async def test_worker_keepalive_reaches_the_worker_service(pb_side: MasterSide) -> None:
    worker = await pb_side.add_worker("w1")
    async with pb_side.run_worker("w1", keepalive=1) as w:
        await pb_side.connected(worker, w)
        await worker.events.wait_for("message")
        await w.wait_for_log(KEEPALIVE_SENT)


@pytest_twisted.ensureDeferred
async def test_master_keepalive_is_sent_periodically(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        conn.stop_keepalive()
        conn.keepalive_interval = 0.05
        conn.start_keepalive()
        if master_side.protocol == PB:
            await w.wait_for_log("message from master: keepalive")
        else:
            await w.wait_for_log("Connection keepalive confirmed.")
        conn.stop_keepalive()


@pytest_twisted.ensureDeferred
async def test_remote_shutdown_makes_the_worker_process_exit(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        await conn.remoteShutdown()
        assert await w.wait_exited() == 0
        await conn.wait_disconnected()
        assert "worker shutting down on command from master" in w.log_text()
        assert worker.events.items[-1] == "detached"


@pytest_twisted.ensureDeferred
async def test_dropped_connection_notifies_subscribers(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        seen: list[str] = []
        conn.notifyOnDisconnect(lambda: seen.append("first"))
        gone = conn.notifyOnDisconnect(lambda: seen.append("unsubscribed"))
        conn.notifyOnDisconnect(lambda: seen.append("second"))
        gone.unsubscribe()
        await w.kill()
        await conn.wait_disconnected()
        assert seen == ["first", "second"]
        assert not conn.is_connected and "w1" not in master_side.workers.connections


@pytest_twisted.ensureDeferred
async def test_master_dropping_the_connection_lets_the_worker_reconnect(
        master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        conn.loseConnection()
        await conn.wait_disconnected()
        await worker.events.wait(lambda ev: ev.count("handshake done") == 2, "reconnection")
        assert worker.conn is not None and worker.conn is not conn


@pytest_twisted.ensureDeferred
async def test_unregistering_the_last_name_closes_the_port(master_side: MasterSide) -> None:
    await master_side.add_worker("w1")
    await master_side.add_worker("w2")
    port = master_side.port
    for reg in master_side.registrations:
        assert reg.getPort() == port  # one port for every name
    first, second = master_side.registrations
    await first.unregister()
    assert second.getPort() == port
    await second.unregister()
    assert master_side.manager.dispatchers == {}
    master_side.registrations.clear()


@pytest_twisted.ensureDeferred
async def test_worker_graceful_shutdown_request_reaches_the_worker_service(
        pb_side: MasterSide) -> None:
    worker = await pb_side.add_worker("w1")
    async with pb_side.run_worker("w1", extra_args=["--allow-shutdown=signal"]) as w:
        await pb_side.connected(worker, w)
        w.signal(signal.SIGHUP)
        await worker.events.wait_for("shutdown requested")



@pytest_twisted.ensureDeferred
async def test_worker_processes_fixture_stops_what_it_started(
        pb_side: MasterSide, worker_processes: Any) -> None:
    worker = await pb_side.add_worker("w1")
    w = await worker_processes.start(pb_side.port, "w1", "pass", wait_for=CONNECTED)
    await pb_side.connected(worker, w)
    assert w.running  # the fixture stops it after the test
