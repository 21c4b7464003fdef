"""`/healthz` and `/readyz` on a real master (real db, botmaster, web server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import sqlalchemy as sa

from buildbot.plugins import worker
from tests.fixtures.master import running_master
from tests.worker.masterkit import config
from tests.www.harness import http

pytestmark = pytest.mark.integration


def _config() -> dict[str, object]:
    # with a login configured: the probes must still answer anonymous clients
    return config([worker.LocalWorker("local")], www={"port": "tcp:0:interface=127.0.0.1",
                                                      "auth": _auth()})


def _auth() -> Any:
    from buildbot.www.auth import UserPasswordAuth
    return UserPasswordAuth({"admin": "pw"})


async def _get(master: Any, path: str) -> tuple[int, dict[str, Any]]:
    res = await http.get(f"http://127.0.0.1:{master.www.port_number}/{path}")
    return res.code, json.loads(res.body)


@contextmanager
def failing_master_queries(engine: sa.Engine) -> Iterator[None]:
    """Every SELECT on the masters table fails as if the database server were gone."""
    def fail(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "masters" in statement:
            raise sa.exc.OperationalError(statement, {}, Exception("server closed the connection"))

    sa.event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail)


@pytest_twisted.ensureDeferred
async def test_ready_and_live_on_a_running_master_without_login(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        code, body = await _get(master, "healthz")
        assert code == 200 and body["status"] == "ok" and body["problems"] == []
        assert body["checks"]["reactor_lag_seconds"] >= 0
        code, body = await _get(master, "readyz")
        assert (code, body["status"], body["checks"]["database"]) == (200, "ok", "ok")
        # as if the reactor had just come back from a 20 s block
        master.www.lag_monitor.last_tick -= 20
        code, body = await _get(master, "healthz")
        assert code == 503 and body["problems"][0].startswith("reactor: blocked"), body


@pytest_twisted.ensureDeferred
async def test_not_ready_while_the_database_fails(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        with failing_master_queries(master.db.pool.engine):
            code, body = await _get(master, "readyz")
            assert code == 503 and body["checks"]["database"] == "unreachable"
            assert any("server closed the connection" in p for p in body["problems"]), body
            live, _ = await _get(master, "healthz")
            assert live == 200  # the process itself is fine: no restart wanted
        code, _ = await _get(master, "readyz")
        assert code == 200


@pytest_twisted.ensureDeferred
async def test_graceful_shutdown_reports_not_ready_first(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        master.botmaster.tasks.spawn("clean shutdown", master.botmaster.cleanShutdown(
            stopReactor=False))
        code, body = await _get(master, "readyz")
        assert code == 503 and "master: shutting down" in body["problems"]
        assert (await _get(master, "healthz"))[0] == 200
        master.botmaster.cancelCleanShutdown()
        assert (await _get(master, "readyz"))[0] == 200
