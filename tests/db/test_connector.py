"""The connector: engines and URLs, the DB thread pool (retries, errors), housekeeping."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import sqlalchemy as sa
from twisted.internet import task

from buildbot.db.connector import DBConnector
from buildbot.db.engine import make_engine
from buildbot.db.errors import DatabaseNotReadyError, DbOperationError, InvalidValueError
from tests.db import rows
from tests.fixtures.db import close_test_db, external_db_url, make_file_db

pytestmark = pytest.mark.db

sqlite_only = pytest.mark.skipif(external_db_url() is not None, reason="an SQLite case")


@sqlite_only
def test_sqlite_paths_are_relative_to_the_basedir(tmp_path: Path) -> None:
    info = make_engine("sqlite:///state.sqlite?serialize_access=1", str(tmp_path))
    assert (info.engine.url.database, dict(info.engine.url.query), info.threads) == (
        str(tmp_path / "state.sqlite"), {}, 1)
    info.engine.dispose()
    info = make_engine("sqlite:///%(basedir)s/x.db", str(tmp_path))
    assert info.engine.url.database == f"{tmp_path}/x.db"
    info.engine.dispose()


@sqlite_only
@pytest_twisted.ensureDeferred
async def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    db = await make_file_db(tmp_path / "state.sqlite")
    try:
        mode = await db.pool.run(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
        assert (mode, db.pool.num_threads) == ("wal", 1)
    finally:
        await close_test_db(db)


@sqlite_only
@pytest_twisted.ensureDeferred
async def test_memory_sqlite_gets_its_schema_at_setup(tmp_path: Path) -> None:
    db = DBConnector(str(tmp_path), clock=task.Clock())
    await db.setup("sqlite://")
    try:
        assert await db.masters.findMasterId("m") == 1
    finally:
        await db.stop()


def test_mysql_url_arguments_are_consumed() -> None:
    info = make_engine("mysql+pymysql://u@h/db?max_idle=300&storage_engine=InnoDB", "/b")
    assert dict(info.engine.url.query) == {"charset": "utf8"}
    assert info.engine.pool._recycle == 300  # type: ignore[attr-defined]  # the pool's private setting
    assert info.threads == 15
    info.engine.dispose()
    with pytest.raises(DatabaseNotReadyError, match="charset"):
        make_engine("mysql+pymysql://u@h/db?charset=latin1", "/b")


def test_postgresql_threads_follow_the_pool_size() -> None:
    info = make_engine("postgresql://u@h/db", "/b", {"pool_size": 2, "max_overflow": 1})
    assert info.threads == 3 and info.engine.dialect.name == "postgresql"
    info.engine.dispose()


@pytest_twisted.ensureDeferred
async def test_a_failing_query_names_the_operation(db: DBConnector) -> None:
    def thd_broken_query(conn: sa.Connection) -> None:
        conn.exec_driver_sql("SELECT no_such_column FROM masters")

    with pytest.raises(DbOperationError, match="thd_broken_query") as info:
        await db.pool.run(thd_broken_query)
    assert isinstance(info.value.__cause__, sa.exc.DBAPIError)
    assert await db.masters.getMasters() == []  # the pool still works


@pytest_twisted.ensureDeferred
async def test_lost_connection_is_retried(db: DBConnector, logged_errors: Any) -> None:
    db.pool.retry_delay = 0.001
    attempts = []

    def thd_flaky(conn: sa.Connection) -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise sa.exc.OperationalError("SELECT 1", {},
                                          Exception("Lost connection to MySQL server"))
        return 7

    assert await db.pool.run(thd_flaky) == 7
    assert len(attempts) == 3


@pytest_twisted.ensureDeferred
async def test_retries_give_up_after_the_limit(db: DBConnector) -> None:
    db.pool.retry_delay, db.pool.retry_max_seconds = 0.001, 0.01

    def thd_locked(conn: sa.Connection) -> None:
        raise sa.exc.OperationalError("x", {}, sqlite3.OperationalError("database is locked"))

    with pytest.raises(DbOperationError, match="thd_locked"):
        await db.pool.run(thd_locked)


@sqlite_only
@pytest_twisted.ensureDeferred
async def test_locked_sqlite_file_is_waited_for(tmp_path: Path) -> None:
    from twisted.internet import reactor

    db = await make_file_db(tmp_path / "state.sqlite")
    db.pool.retry_delay = 0.02
    other = sqlite3.connect(tmp_path / "state.sqlite", isolation_level=None)
    other.execute("PRAGMA busy_timeout = 0")
    await db.pool.run(lambda c: c.exec_driver_sql("PRAGMA busy_timeout = 10"))
    try:
        other.execute("BEGIN IMMEDIATE")
        write = db.masters.findMasterId("m")
        reactor.callLater(0.1, other.execute, "COMMIT")  # type: ignore[attr-defined]  # the global reactor is untyped
        assert await write == 1
    finally:
        other.close()
        await close_test_db(db)


@pytest_twisted.ensureDeferred
async def test_mysql_checks_lengths(db: DBConnector) -> None:
    too_long = "x" * 300
    if db.pool.dialect == "mysql":
        with pytest.raises(InvalidValueError, match="author"):
            await db.changes.addChange(author=too_long, repository="r", project="p")
    elif db.pool.dialect == "sqlite":
        changeid = await db.changes.addChange(author=too_long, repository="r", project="p")
        got = await db.changes.getChange(changeid)
        assert got is not None and got.author == too_long


@pytest_twisted.ensureDeferred
async def test_change_horizon_prunes_now_and_hourly(db: DBConnector) -> None:
    for _ in range(4):
        await db.changes.addChange(repository="r", project="p")
    db.set_change_horizon(3)
    assert db.last_prune is not None
    await db.last_prune
    assert await db.changes.getChangesCount() == 3
    for _ in range(2):
        await db.changes.addChange(repository="r", project="p")
    db.clock.advance(3599)  # type: ignore[attr-defined]  # a task.Clock here
    assert await db.changes.getChangesCount() == 5
    db.clock.advance(1)  # type: ignore[attr-defined]  # a task.Clock here
    await db.last_prune
    assert await db.changes.getChangesCount() == 3
    db.set_change_horizon(None)
    await db.tasks.wait()


@pytest_twisted.ensureDeferred
async def test_vacuum_runs_outside_a_transaction(db: DBConnector) -> None:
    await rows.log(db)
    await db.vacuum()
    assert db.vacuum_statement() in ("VACUUM", "VACUUM FULL logchunks",
                                     "OPTIMIZE TABLE logchunks")


@pytest_twisted.ensureDeferred
async def test_plugin_facing_pool_do(db: DBConnector) -> None:
    def thd_count(conn: sa.Connection, table: str) -> int:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar())

    await db.masters.findMasterId("m")
    assert await db.pool.do(thd_count, "masters") == 1
