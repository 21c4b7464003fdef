"""upgrade-master, cleanupdb and copy-db, run in-process on real SQLite databases."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.scripts import cleanupdb, copydb, create_master, upgrade_master


def parsed(options_class: type, *argv: str) -> dict[str, Any]:
    opts = options_class()
    opts.parseOptions(list(argv))
    return dict(opts)


async def make_master(tmp_path: Path, *extra: str) -> Path:
    basedir = tmp_path / "master"
    rc = await create_master.create_master_async(
        parsed(create_master.CreateMasterOptions, "-q", *extra, str(basedir)))
    assert rc == 0
    return basedir


def use_sample_config(basedir: Path, logged_errors: Any) -> None:
    """master.cfg from the sample, which must load (a failure here is a bug of ours)."""
    from buildbot.config.master import FileLoader

    (basedir / "master.cfg").write_text(create_master.sample_config_text(None))
    FileLoader(str(basedir), "master.cfg").loadConfig()


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


# -- upgrade-master ----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_upgrade_master_prints_each_step(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               logged_errors: Any) -> None:
    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    capsys.readouterr()

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, str(basedir)))

    assert (rc, lines(capsys)) == (0, [
        "checking basedir",
        "checking for running master",
        "checking master.cfg",
        "upgrading basedir",
        "upgrading database (sqlite:///state.sqlite)",
        "Warning: Stopping this process might cause data loss",
        "upgrade complete",
    ])


@pytest_twisted.ensureDeferred
async def test_upgrade_master_rewrites_a_modified_sample(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    (basedir / "master.cfg.sample").write_text("# edited\n")
    capsys.readouterr()

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, str(basedir)))

    assert rc == 0
    assert lines(capsys)[4:6] == [f"{basedir}/master.cfg.sample has old/modified contents",
                                  " overwriting it with new contents"]
    assert (basedir / "master.cfg.sample").read_text() == create_master.sample_config_text(None)


@pytest_twisted.ensureDeferred
async def test_upgrade_master_reports_config_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basedir = await make_master(tmp_path)
    (basedir / "master.cfg").write_text("BuildmasterConfig = {'frob': 1}\n")

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, "-q", str(basedir)))

    out = lines(capsys)
    assert rc == 1
    assert out[:2] == ["Errors loading configuration:", "  Unknown BuildmasterConfig key frob"]


@pytest_twisted.ensureDeferred
async def test_upgrade_master_refuses_a_running_master(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basedir = await make_master(tmp_path)
    (basedir / "twistd.pid").write_text(str(os.getpid()))  # a live process: this one

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, str(basedir)))

    assert (rc, lines(capsys)) == (1, [
        "checking basedir", "checking for running master",
        f"'{basedir}/twistd.pid' exists - is this master still running?"])


@pytest_twisted.ensureDeferred
async def test_upgrade_master_rejects_string_rotation_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basedir = await make_master(tmp_path)
    tac = (basedir / "buildbot.tac").read_text()
    (basedir / "buildbot.tac").write_text(tac.replace("rotateLength = 10000000",
                                                      "rotateLength = '10000000'"))

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, "-q", str(basedir)))

    assert (rc, lines(capsys)) == (1, [
        "ERROR: rotateLength is a string, it should be a number",
        "ERROR: Please, edit your buildbot.tac file and run again",
        "ERROR: See http://trac.buildbot.net/ticket/2588 for more details"])


@pytest_twisted.ensureDeferred
async def test_upgrade_master_reports_a_broken_tac(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basedir = tmp_path / "m"
    basedir.mkdir()
    (basedir / "buildbot.tac").write_text(
        "application = service.Application('buildmaster')\n")  # NameError: service

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, "-q", str(basedir)))

    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith(f"Unable to load 'buildbot.tac' from '{basedir}':\nTraceback")
    assert "NameError" in err


# -- copy-db -----------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_copy_db_copies_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        logged_errors: Any) -> None:
    from buildbot.db.connector import DBConnector

    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    src = DBConnector(str(basedir))
    await src.setup("sqlite:///state.sqlite")
    try:
        ids = [await src.masters.findMasterId(f"host:/m{i}") for i in range(3)]
        before = await src.masters.getMasters()
    finally:
        await src.stop()
    dest_url = f"sqlite:///{tmp_path}/copy.sqlite"
    capsys.readouterr()

    rc = await copydb.copy_database_async(parsed(copydb.CopyDBOptions, dest_url, str(basedir)))

    out = lines(capsys)
    assert rc == 0
    assert out[:4] == ["checking basedir", "checking for running master", "checking master.cfg",
                       f"Copying database (sqlite:///state.sqlite) to ({dest_url})"]
    assert "Copying 3 items (3/3) for masters table" in out
    assert out[-1] == "Copy complete"
    dst = DBConnector(str(basedir))
    await dst.setup(dest_url)
    try:
        assert await dst.masters.getMasters() == before
        assert len(ids) == 3
    finally:
        await dst.stop()


@pytest_twisted.ensureDeferred
async def test_copy_db_refuses_a_destination_with_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    from buildbot.db.connector import DBConnector

    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    dest_url = f"sqlite:///{tmp_path}/copy.sqlite"
    dst = DBConnector(str(basedir))
    await dst.setup(dest_url, check_version=False)
    try:
        await dst.upgrade()
        await dst.masters.findMasterId("host:/already-here")
    finally:
        await dst.stop()

    rc = await copydb.copy_database_async(
        parsed(copydb.CopyDBOptions, "-q", dest_url, str(basedir)))

    assert (rc, lines(capsys)) == (1, [
        ("the destination database is not empty (rows in masters); copy-db only copies into "
         "an empty database")])


def test_copy_db_knows_the_order_of_every_table() -> None:
    from buildbot.db.model import TABLES

    assert sorted(TABLES.metadata.tables) == sorted(copydb.TABLE_ORDER)
    position = {name: i for i, name in enumerate(copydb.TABLE_ORDER)}
    for table in TABLES.metadata.tables.values():
        for column in table.columns:
            for fk in column.foreign_keys:
                if column.name in copydb.DEFERRED_COLUMNS.get(table.name, ()) \
                        or fk.column.table is table:
                    continue
                assert position[fk.column.table.name] < position[table.name], (
                    f"{table.name}.{column.name} -> {fk.column.table.name}")


# -- cleanupdb ---------------------------------------------------------------------------------


def test_vacuum_statements() -> None:
    assert [cleanupdb.vacuum_statement(d) for d in ("sqlite", "postgresql", "mysql", "oracle")] == [
        "vacuum;", "VACUUM FULL logchunks;", "OPTIMIZE TABLE logchunks;", None]


@pytest_twisted.ensureDeferred
async def test_cleanupdb_on_an_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              logged_errors: Any) -> None:
    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    capsys.readouterr()

    rc = await cleanupdb.cleanup_database_async(parsed(cleanupdb.CleanupDBOptions, str(basedir)))

    assert (rc, lines(capsys)) == (0, [
        "checking basedir", "checking for running master", "checking master.cfg",
        "cleaning database (sqlite:///state.sqlite)", "executing vacuum operation 'vacuum;'...",
        "cleanup complete"])


@pytest_twisted.ensureDeferred
async def test_copy_tables_between_two_databases(tmp_path: Path) -> None:
    from buildbot.db.connector import DBConnector

    src, dst = DBConnector(str(tmp_path)), DBConnector(str(tmp_path))
    said: list[str] = []
    await src.setup("sqlite:///src.sqlite", check_version=False)
    await dst.setup("sqlite:///dst.sqlite", check_version=False)
    try:
        await src.upgrade()
        await dst.upgrade()
        for i in range(5):
            await src.masters.findMasterId(f"host:/m{i}")
        await src.masters.setAllMastersActiveLongTimeAgo()
        assert await copydb.prepare_destination(dst, "sqlite:///src.sqlite") == (frozenset(), None)

        await copydb.copy_tables(src, dst, ignore_fk_errors=True, say=said.append)

        assert await dst.masters.getMasters() == await src.masters.getMasters()
        assert "Copying 5 items (5/5) for masters table" in said
        assert "Copying 0 items (0/0) for builds table" not in said  # empty tables: no batch
    finally:
        await src.stop()
        await dst.stop()


async def fill_database(basedir: Path) -> dict[str, Any]:
    """Builds, steps, logs (many small chunks) and a rebuilt child buildset in state.sqlite;
    returns what a copy must reproduce."""
    from buildbot.db.connector import DBConnector
    from tests.db import rows

    db = DBConnector(str(basedir))
    await db.setup("sqlite:///state.sqlite")
    try:
        logids = []
        for _ in range(3):
            logid = await rows.log(db)
            for i in range(40):
                await db.logs.appendLog(logid, f"line {i} " + "x" * 50 + "\n")
            await db.logs.finishLog(logid)
            logids.append(logid)
        _, _, parent = await rows.build(db)
        builderid = await db.builders.findBuilderId("b1")
        child, _ = await rows.buildset(db, [builderid], parent_buildid=parent,
                                       parent_relationship="child", rebuilt_buildid=parent)
        return {
            "logs": {i: await db.logs.getLogLines(i, 0, 39) for i in logids},
            "child": await db.buildsets.getBuildset(child),
            "builds": await db.builds.getBuilds(),
        }
    finally:
        await db.stop()


@pytest_twisted.ensureDeferred
async def test_cleanupdb_recompresses_every_log_keeping_its_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    from buildbot.db.connector import DBConnector

    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    before = await fill_database(basedir)
    capsys.readouterr()

    rc = await cleanupdb.cleanup_database_async(
        parsed(cleanupdb.CleanupDBOptions, "--force", str(basedir)))

    out = lines(capsys)
    assert rc == 0
    assert out[3] == "cleaning database (sqlite:///state.sqlite)"
    assert [line.split()[0] for line in out[4:7]] == ["33%", "66%", "100%"]
    assert all(line.startswith(" ") and line.endswith(" saved") for line in out[4:7])
    assert out[7:] == ["executing vacuum operation 'vacuum;'...", "cleanup complete"]
    db = DBConnector(str(basedir))
    await db.setup("sqlite:///state.sqlite")
    try:
        assert {i: await db.logs.getLogLines(i, 0, 39) for i in before["logs"]} == before["logs"]
    finally:
        await db.stop()


@pytest_twisted.ensureDeferred
async def test_copy_db_keeps_builds_logs_and_buildset_links(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    from buildbot.db.connector import DBConnector

    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    before = await fill_database(basedir)
    dest_url = f"sqlite:///{tmp_path}/copy.sqlite"

    rc = await copydb.copy_database_async(
        parsed(copydb.CopyDBOptions, "-q", dest_url, str(basedir)))

    assert (rc, capsys.readouterr().out) == (0, "")
    db = DBConnector(str(basedir))
    await db.setup(dest_url)
    try:
        assert {i: await db.logs.getLogLines(i, 0, 39) for i in before["logs"]} == before["logs"]
        assert await db.buildsets.getBuildset(before["child"].bsid) == before["child"]
        assert await db.builds.getBuilds() == before["builds"]
    finally:
        await db.stop()
