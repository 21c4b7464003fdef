"""The stall limit (buildbot.db.stall_limit): a session frozen inside a transaction loses
it, and its locks, once the limit passes, so other masters are not blocked behind it."""

from __future__ import annotations

import time

import pytest
import pytest_twisted
import sqlalchemy as sa
from twisted.internet import threads

from buildbot.db.connector import DBConnector

pytestmark = pytest.mark.integration


def _setting(conn: sa.Connection) -> float:
    if conn.dialect.name == "postgresql":
        raw = conn.execute(sa.text("SHOW idle_in_transaction_session_timeout")).scalar_one()
        units = {"ms": 0.001, "s": 1.0, "min": 60.0}
        for unit, factor in units.items():
            if str(raw).endswith(unit) and str(raw)[:-len(unit)].isdigit():
                return int(str(raw)[:-len(unit)]) * factor
        return float(raw) / 1000
    return float(conn.execute(sa.text("SELECT @@SESSION.idle_transaction_timeout")).scalar_one())


def _server_only(db: DBConnector) -> None:
    if db.pool.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no server sessions: the limit does not apply "
                    "(run with BUILDBOT_TEST_DB_URL, as .ci/run does)")


@pytest_twisted.ensureDeferred
async def test_the_limit_reaches_pooled_connections_and_can_be_lifted(db: DBConnector) -> None:
    _server_only(db)
    db.set_stall_limit(2.0)
    assert await db.pool.run(_setting) == 2.0
    db.set_stall_limit(None)
    assert await db.pool.run(_setting) == 0.0


@pytest_twisted.ensureDeferred
async def test_a_transaction_frozen_past_the_limit_releases_its_locks(db: DBConnector) -> None:
    _server_only(db)
    engine = db.pool.engine
    mysql = engine.dialect.name == "mysql"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS stall_probe"))
        conn.execute(sa.text("CREATE TABLE stall_probe (id INTEGER PRIMARY KEY, v INTEGER)"
                             + (" ENGINE=InnoDB" if mysql else "")))
        conn.execute(sa.text("INSERT INTO stall_probe VALUES (1, 0)"))
    db.set_stall_limit(1.0)
    frozen = engine.connect()  # stands for a master stopped in the middle of a write
    try:
        frozen.begin()
        frozen.execute(sa.text("UPDATE stall_probe SET v = 1 WHERE id = 1"))

        def other_master_writes() -> float:
            started = time.monotonic()
            with engine.begin() as conn:
                # bounded, so that a regression fails instead of hanging the suite
                conn.execute(sa.text("SET innodb_lock_wait_timeout = 20" if mysql
                                     else "SET lock_timeout = '20s'"))
                conn.execute(sa.text("UPDATE stall_probe SET v = 2 WHERE id = 1"))
            return time.monotonic() - started

        waited = await threads.deferToThread(other_master_writes)
        assert waited < 15, f"the frozen transaction held its lock for {waited:.1f}s"
        # the frozen session was ended by the server: its write is gone
        with pytest.raises(sa.exc.DBAPIError):
            frozen.execute(sa.text("UPDATE stall_probe SET v = 3 WHERE id = 1"))
    finally:
        frozen.invalidate()
        frozen.close()
        db.set_stall_limit(None)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT v FROM stall_probe")).scalar_one() == 2
            conn.execute(sa.text("DROP TABLE stall_probe"))
