"""Progress of upgrade-master, cleanupdb and copy-db on stderr (issue 17): counts, a
percentage and the time left, throttled, never with -q; stdout keeps 4.3's lines."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.scripts import cleanupdb, copydb, upgrade_master
from buildbot.scripts.progress import Progress
from tests.scripts.test_maintenance import fill_database, make_master, parsed, use_sample_config


async def filled_master(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        logged_errors: Any) -> Path:
    """A master basedir whose database holds builds and logs; output so far discarded."""
    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    await fill_database(basedir)
    capsys.readouterr()
    return basedir


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_are_throttled_but_the_last_is_always_written() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress("copy-db", "rows", 1000, stream=out, interval=1.0, clock=clock)
    progress.advance(10, context="0/3 tables")  # first line at once
    progress.advance(10)  # within the interval: silent
    clock.now = 30.0
    progress.set_detail("copying logs")
    progress.advance(480, context="1/3 tables")
    progress.advance(500, context="2/3 tables")  # done: written despite the interval
    assert out.getvalue().splitlines() == [
        "copy-db: 0/3 tables, 10/1000 rows (1%)",
        "copy-db: 1/3 tables, 500/1000 rows (50%), copying logs, about 30 s left",
        "copy-db: 2/3 tables, 1000/1000 rows (100%), copying logs",
    ]


def test_progress_time_left_in_minutes_and_hours_and_nothing_when_quiet() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress("cleanupdb", "logs", 100, stream=out, clock=clock)
    clock.now = 60.0
    progress.advance(10)
    clock.now = 7200.0
    progress.advance(10)
    assert out.getvalue().splitlines() == [
        "cleanupdb: 10/100 logs (10%), about 9 min left",
        "cleanupdb: 20/100 logs (20%), about 8.0 h left"]
    silent = io.StringIO()
    quiet = Progress("cleanupdb", "logs", 1, stream=silent, quiet=True)
    quiet.advance(1)
    quiet.note("compacting")
    assert silent.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_tqdm_bar_on_a_terminal_and_plain_lines_elsewhere() -> None:
    screen = Terminal()
    with Progress("copy-db", "rows", 200, stream=screen) as progress:
        assert progress.draws_bar
        progress.set_detail("copying logs")
        progress.advance(50, context="1/3 tables")
        progress.note("a phase line")  # above the bar, not inside it
        progress.advance(150, context="2/3 tables")
    drawn = screen.getvalue()
    last = drawn.rsplit("\r", 1)[-1]  # tqdm redraws the line in place
    assert last.startswith("copy-db 2/3 tables: 100%|") and "200/200" in last
    assert "copying logs" in last and last.endswith("\n")
    assert "copy-db: a phase line\n" in drawn
    progress.advance(1)  # after close (a DB thread finishing its batch): nothing drawn
    assert screen.getvalue() == drawn

    assert not Progress("copy-db", "rows", stream=io.StringIO()).draws_bar
    assert not Progress("copy-db", "rows", stream=Terminal(), quiet=True).draws_bar
    assert not Progress("copy-db", "rows", stream=Terminal(), bar=False).draws_bar


@pytest.mark.integration  # whole commands on a real database: over the unit CPU budget
@pytest_twisted.ensureDeferred
async def test_cleanupdb_reports_chunks_and_logs_done_on_stderr_and_nothing_with_quiet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    basedir = await filled_master(tmp_path, capsys, logged_errors)

    assert await cleanupdb.cleanup_database_async(
        parsed(cleanupdb.CleanupDBOptions, "--force", str(basedir))) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    # 3 logs of 40 one-line chunks each; the count of logs done leads, as tables in copy-db
    assert err[0].startswith("cleanupdb: 0/3 logs, 40/120 chunks (33%), ")
    assert err[0].endswith(" bytes saved")
    assert err[-2].startswith("cleanupdb: 2/3 logs, 120/120 chunks (100%), ")
    assert err[-1] == ("cleanupdb: compacting the database; this can take long and shows no "
                       "progress")
    assert " 100%" in captured.out  # 4.3's lines stay on stdout

    assert await cleanupdb.cleanup_database_async(
        parsed(cleanupdb.CleanupDBOptions, "-q", "--force", str(basedir))) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.integration  # whole commands on a real database: over the unit CPU budget
@pytest_twisted.ensureDeferred
async def test_copy_db_reports_rows_and_tables_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    basedir = await filled_master(tmp_path, capsys, logged_errors)

    rc = await copydb.copy_database_async(
        parsed(copydb.CopyDBOptions, f"sqlite:///{tmp_path}/copy.sqlite", str(basedir)))
    err = capsys.readouterr().err.splitlines()
    assert rc == 0
    ntables = len(copydb.TABLE_ORDER)
    assert err[0].startswith("copy-db: 0/") and " rows (" in err[0]
    total = int(err[-1].split("(")[1].split()[0])
    assert total > 100  # builds, steps, 3 logs of 40 lines...
    assert err[-2].endswith(f"{total}/{total} rows (100%), copying "
                            f"{err[-2].rsplit(' ', 1)[1]}")
    assert err[-1] == f"copy-db: {ntables}/{ntables} tables copied ({total} rows)"

    rc = await copydb.copy_database_async(
        parsed(copydb.CopyDBOptions, "-q", f"sqlite:///{tmp_path}/copy2.sqlite", str(basedir)))
    assert (rc, capsys.readouterr()) == (0, ("", ""))


@pytest.mark.integration  # whole commands on a real database: over the unit CPU budget
@pytest_twisted.ensureDeferred
async def test_upgrade_master_reports_each_migration_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    from buildbot.db.connector import DBConnector
    from buildbot.db.migrate import thd_migrate_to

    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    db = DBConnector(str(basedir))
    await db.setup("sqlite:///state.sqlite", check_version=False)
    try:
        await db.pool.run(lambda conn: thd_migrate_to(conn, "064"))
    finally:
        await db.stop()
    capsys.readouterr()

    rc = await upgrade_master.upgrade_master_async(
        parsed(upgrade_master.UpgradeMasterOptions, str(basedir)))
    captured = capsys.readouterr()
    assert rc == 0 and "upgrade complete" in captured.out
    err = captured.err.splitlines()
    assert err[0].startswith("upgrade-master: 0/3 migrations (0%), running 064 -> 065")
    assert err[-1] == "upgrade-master: 3/3 migrations (100%)"
