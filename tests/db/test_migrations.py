"""Recognising, upgrading and refusing databases (alembic 059 ... 067), and reading a
database Buildbot 4.3.0 wrote."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import sqlalchemy as sa

from buildbot.db.connector import DBConnector
from buildbot.db.errors import (
    DatabaseNotReadyError,
    UpgradeError,
    UpgradeFromBefore0p9Error,
    UpgradeFromBefore3p0Error,
)
from buildbot.db.migrate import thd_inspect, thd_migrate_to
from buildbot.db.model import HEAD_REVISION
from tests.db import make_reference_db, rows
from tests.db.schema_description import describe, reference_path
from tests.fixtures.db import close_test_db, external_db_url, open_empty_db

pytestmark = pytest.mark.db

REFERENCE_DUMP = Path(__file__).parent / "buildbot-4.3.0.sqlite.sql"
REFVENV = make_reference_db.REFVENV


def _unordered(desc: dict[str, Any]) -> dict[str, Any]:
    # Columns added by a migration come last; Buildbot's migrated databases are the same.
    return {t: {**v, "columns": sorted(v["columns"], key=lambda c: c["name"])}
            for t, v in json.loads(json.dumps(desc)).items()}


async def _exec(db: DBConnector, *statements: str) -> None:
    def thd(conn: sa.Connection) -> None:
        for s in statements:
            conn.exec_driver_sql(s)

    await db.pool.run(thd)


async def _tables(db: DBConnector) -> list[str]:
    return sorted(await db.pool.run(lambda conn: sa.inspect(conn).get_table_names()))


@pytest_twisted.ensureDeferred
async def test_empty_database_is_created_at_head(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        assert (await db.pool.run(thd_inspect)).kind == "empty"
        assert await db.upgrade() == "created"
        assert await db.upgrade() == "current"
        assert (await db.pool.run(thd_inspect)).revision == HEAD_REVISION
    finally:
        await close_test_db(db)


@pytest_twisted.ensureDeferred
async def test_startup_refuses_a_database_not_at_head(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await db.upgrade()
        await db.pool.run(lambda conn: thd_migrate_to(conn, "064"))
        url = str(db.pool.engine.url.render_as_string(hide_password=False))
    finally:
        await close_test_db(db)
    again = DBConnector(str(tmp_path))
    with pytest.raises(DatabaseNotReadyError, match=f"buildbot upgrade-master {tmp_path}"):
        await again.setup(url)


@pytest_twisted.ensureDeferred
async def test_every_migration_from_the_baseline_gives_the_4_3_schema(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await db.upgrade()
        await db.pool.run(lambda conn: thd_migrate_to(conn, "059"))
        cols = await db.pool.run(lambda c: [x["name"] for x in sa.inspect(c).get_columns("steps")])
        assert "locks_acquired_at" not in cols
        assert "codebases" not in await _tables(db)
        await _exec(db,
                    "INSERT INTO masters VALUES (1, 'm', 'h', 0, 0)",
                    "INSERT INTO builders (id, name, name_hash) VALUES (1, 'b', 'h')",
                    "INSERT INTO buildsets (id, submitted_at, complete, results) "
                    "VALUES (1, 5, 0, -1)",
                    "INSERT INTO buildrequests (id, buildsetid, builderid, priority, complete, "
                    "results, submitted_at, waited_for) VALUES (1, 1, 1, 0, 0, -1, 5, 0)",
                    "INSERT INTO builds (id, number, builderid, buildrequestid, masterid, "
                    "started_at, state_string) VALUES (1, 1, 1, 1, 1, 5, 'x')",
                    "INSERT INTO steps (id, number, name, buildid, started_at, state_string, "
                    "urls_json, hidden) VALUES (1, 0, 's', 1, 7, 'x', '[]', 0)")
        assert await db.upgrade() == "upgraded"
        ours = await db.pool.run(describe)
        assert _unordered(ours) == _unordered(
            json.loads(reference_path(db.pool.dialect).read_text()))
        step = await db.steps.getStep(1)
        build = await db.builds.getBuild(1)
        assert step is not None and step.locks_acquired_at == rows.t(7)  # backfilled
        assert build is not None and build.locks_duration_s == 0
    finally:
        await close_test_db(db)


@pytest_twisted.ensureDeferred
async def test_sqlalchemy_migrate_version_58_is_upgraded(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await db.upgrade()
        await db.pool.run(lambda conn: thd_migrate_to(conn, "059"))
        await _exec(db, "DROP TABLE alembic_version",
                    "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL, "
                    "repository_path TEXT, version INTEGER)",
                    "INSERT INTO migrate_version VALUES ('Buildbot', 'x', 58)")
        assert await db.upgrade() == "upgraded"
        tables = await _tables(db)
        assert "migrate_version" not in tables and "codebases" in tables
        assert (await db.pool.run(thd_inspect)).is_current
    finally:
        await close_test_db(db)


@pytest.mark.parametrize(("version", "error"), [(30, UpgradeFromBefore0p9Error),
                                                (50, UpgradeFromBefore3p0Error)])
@pytest_twisted.ensureDeferred
async def test_older_migrate_versions_are_refused(tmp_path: Path, version: int,
                                                  error: type[Exception]) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await _exec(db, "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL, "
                        "repository_path TEXT, version INTEGER)",
                    f"INSERT INTO migrate_version VALUES ('Buildbot', 'x', {version})")
        with pytest.raises(error):
            await db.upgrade()
        assert await _tables(db) == ["migrate_version"]
    finally:
        await close_test_db(db)


@pytest_twisted.ensureDeferred
async def test_buildbot_0_8_database_is_refused(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await _exec(db, "CREATE TABLE version (version INTEGER)")
        with pytest.raises(UpgradeFromBefore0p9Error):
            await db.upgrade()
    finally:
        await close_test_db(db)


@pytest_twisted.ensureDeferred
async def test_newer_revision_is_refused_and_untouched(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await db.upgrade()
        await _exec(db, "UPDATE alembic_version SET version_num = '068'")
        before = await db.pool.run(describe)
        with pytest.raises(UpgradeError, match="'068'.*newer Buildbot"):
            await db.upgrade()
        assert await db.pool.run(describe) == before
        assert (await db.pool.run(thd_inspect)).revision == "068"
    finally:
        await close_test_db(db)


@pytest_twisted.ensureDeferred
async def test_foreign_database_is_refused_and_untouched(tmp_path: Path) -> None:
    db = await open_empty_db(tmp_path)
    try:
        await _exec(db, "CREATE TABLE invoices (id INTEGER)")
        with pytest.raises(UpgradeError, match="not a Buildbot database"):
            await db.upgrade()
        assert await _tables(db) == ["invoices"]
    finally:
        await close_test_db(db)


@pytest.mark.skipif(external_db_url() is not None, reason="an SQLite case")
@pytest_twisted.ensureDeferred
async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite").write_bytes(b"this is not SQLite" * 100)
    db = DBConnector(str(tmp_path))
    with pytest.raises(DatabaseNotReadyError, match="cannot read the database"):
        await db.setup("sqlite:///state.sqlite")
    assert (tmp_path / "state.sqlite").read_bytes() == b"this is not SQLite" * 100


# -- a database Buildbot 4.3.0 wrote -----------------------------------------------------------

def _load_reference(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(REFERENCE_DUMP.read_text())
    conn.close()


@pytest.mark.skipif(external_db_url() is not None, reason="an SQLite fixture")
@pytest_twisted.ensureDeferred
async def test_reads_and_extends_a_buildbot_4_3_sqlite_database(tmp_path: Path) -> None:
    _load_reference(tmp_path / "state.sqlite")
    db = DBConnector(str(tmp_path))
    await db.setup("sqlite:///state.sqlite")  # at head: accepted as is
    try:
        assert await db.upgrade() == "current"
        await _check_reference_content(db)
    finally:
        await db.stop()


async def _check_reference_content(db: DBConnector) -> None:
    builds = await db.builds.getBuilds()
    assert [(b.number, b.results, b.state_string) for b in builds] == [
        (1, 0, "build successful"), (2, 0, "build successful")]
    steps = await db.steps.getSteps(builds[0].id)
    assert [s.name for s in steps] == ["worker_preparation", "say", "answer", "many"]
    logs = await db.logs.getLogs(steps[3].id)
    many = await db.logs.getLogLines(logs[0].id, 0, logs[0].num_lines)
    assert "o1\no2\no3\n" in many and "o3000\n" in many
    say = await db.logs.getLogs(steps[1].id)
    assert "ohello w\u00f6rld\n" in await db.logs.getLogLines(say[0].id, 0, 100)
    props = await db.builds.getBuildProperties(builds[0].id)
    assert props["answer"] == ("42", "SetPropertyFromCommand Step")
    changes = await db.changes.getChanges()
    assert [(c.revision, c.parent_changeids, c.files, c.properties) for c in changes] == [
        ("rev0", [], ["src/file0.c"], {"ticket": ("0", "Change")}),
        ("rev1", [changes[0].changeid], ["src/file1.c"], {"ticket": ("1", "Change")})]
    assert [c.changeid for c in await db.changes.getChangesForBuild(builds[1].id)] == \
        [changes[1].changeid]
    requests = await db.buildrequests.getBuildRequests(complete=True)
    assert [(r.claimed, r.results) for r in requests] == [(True, 0), (True, 0)]
    # state written by 4.3 is found under the same keys
    key = ("main", "buildbot.schedulers.basic.SingleBranchScheduler")
    objects = db.tables.objects
    stored = await db.pool.run(lambda conn: conn.execute(sa.select(objects.c.id).where(
        objects.c.name == key[0], objects.c.class_name == key[1])).scalar())
    assert stored is not None and await db.state.getObjectId(*key) == stored
    builder = await db.builders.getBuilder(builds[0].builderid)
    assert builder is not None and (builder.tags, builder.description) == (["fast"],
                                                                            "the builder")
    # and the master can go on writing into it
    buildid, number = await db.builds.addBuild(builds[0].builderid, builds[0].buildrequestid,
                                               builds[0].workerid, builds[0].masterid, "x")
    assert number == 3
    stepid, _, _ = await db.steps.addStep(buildid, "say", "pending")
    logid = await db.logs.addLog(stepid, "stdio", "stdio", "s")
    await db.logs.appendLog(logid, "onew\n")
    await db.logs.compressLog(logs[0].id, force=True)
    assert await db.logs.getLogLines(logs[0].id, 0, logs[0].num_lines) == many


def _reference_drivers(tmp_path: Path) -> str:
    """A directory exposing our database drivers to the reference virtualenv."""
    import psycopg2  # noqa: F401 (only located)
    import pymysql

    extra = tmp_path / "drivers"
    extra.mkdir()
    site = Path(pymysql.__file__).parent.parent
    for name in ("psycopg2", "psycopg2_binary.libs", "pymysql"):
        if (site / name).exists():
            (extra / name).symlink_to(site / name)
    return str(extra)


@pytest.mark.integration
@pytest.mark.skipif(external_db_url() is None or not (REFVENV / "bin" / "buildbot").exists(),
                    reason="needs BUILDBOT_TEST_DB_URL and the Buildbot 4.3.0 virtualenv")
@pytest_twisted.ensureDeferred
async def test_reads_and_extends_a_buildbot_4_3_database_on_this_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twisted.internet import reactor, threads

    empty = await open_empty_db(tmp_path)  # drops every table of the test database
    await close_test_db(empty)
    url = external_db_url()
    assert url is not None
    monkeypatch.setenv("REFVENV_EXTRA_PATH", _reference_drivers(tmp_path))
    await threads.deferToThread(make_reference_db.make, url, tmp_path / "ref")
    db = DBConnector(str(tmp_path), clock=reactor)
    await db.setup(url)
    try:
        await _check_reference_content(db)
    finally:
        await db.stop()
