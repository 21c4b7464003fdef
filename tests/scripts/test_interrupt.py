"""copy-db and cleanupdb interrupted for real (issue 17): the CLI runs in a subprocess on a
SQLite database, gets SIGINT or SIGTERM once its progress lines show it is mid-way, and a
rerun must end with a complete, correct result and the source untouched."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from tests.scripts.conftest import cli_env, run_cli
from tests.scripts.test_maintenance import fill_database, make_master, use_sample_config

#: Enough rows for many copy batches (copydb.CHUNK_ROWS each) after the signal lands.
MASTER_ROWS = 60_000
#: Logs of many small chunks for cleanupdb to regroup, one log per progress step.
LOGS, CHUNKS_PER_LOG, LINES_PER_CHUNK = 120, 20, 5


def table_digests(path: Path) -> dict[str, str]:
    """A digest of every table's rows (ordered by every column), keyed by table name."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        digests = {}
        for name in names:
            ncols = len(conn.execute(f'SELECT * FROM "{name}" LIMIT 0').description)
            order = ", ".join(str(i) for i in range(1, ncols + 1))
            h = hashlib.sha256()
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}'):
                h.update(repr(row).encode())
            digests[name] = h.hexdigest()
        return digests
    finally:
        conn.close()


def schema(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")]
    finally:
        conn.close()


def add_masters(path: Path, count: int) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO masters (name, name_hash, active, last_active) VALUES (?, ?, 0, ?)",
            ((f"host{i}:/m", hashlib.sha1(f"host{i}".encode()).hexdigest(), i)
             for i in range(count)))
    conn.close()


def interrupt_when(args: list[str], cwd: Path, mid_way: str, sig: signal.Signals,
                   ) -> tuple[int, str]:
    """Run the CLI, send `sig` once a stdout line (4.3's per-batch progress lines: the
    throttled stderr ones may skip a fast table) contains `mid_way`; returns the exit
    status and stderr. A run that never prints it is killed after 60 s."""
    with open(cwd / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "buildbot.scripts.runner", *args], cwd=cwd, env=cli_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
            # a shell without job control may start us with SIGINT ignored, and Twisted
            # keeps an ignored SIGINT ignored: give the command the default, as a terminal
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        watchdog = threading.Timer(60, proc.kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if mid_way in line:
                    proc.send_signal(sig)
                    break
            proc.stdout.read()
            rc = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        return rc, err.read()


@pytest.mark.integration  # two CLI runs in subprocesses on a database of 60k rows
@pytest_twisted.ensureDeferred
async def test_copy_db_interrupted_by_sigint_resumes_on_rerun(
        tmp_path: Path, logged_errors: Any) -> None:
    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    await fill_database(basedir)  # builds, logs and the buildsets' reference cycle
    source = basedir / "state.sqlite"
    add_masters(source, MASTER_ROWS)
    before = table_digests(source)
    dest = tmp_path / "copy.sqlite"
    args = ["copy-db", f"sqlite:///{dest}", str(basedir)]

    rc, err = interrupt_when(args, basedir, "for masters table", signal.SIGINT)

    assert rc == 1, err
    assert "copy-db: interrupted; run the same command again to resume the copy" in err
    half = sqlite3.connect(dest)
    copied = half.execute("SELECT count(*) FROM masters").fetchone()[0]
    marked = {r[0] for r in half.execute("SELECT step FROM copy_db_progress")}
    half.close()
    assert 0 < copied < MASTER_ROWS + 1 and copied % 10000 == 0  # whole batches only
    assert "buildsets" in marked and "masters" not in marked

    rerun = run_cli(*args, cwd=basedir)

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "Resuming an interrupted copy: " in rerun.stdout
    assert rerun.stdout.splitlines()[-1] == "Copy complete"
    after = table_digests(dest)
    assert "copy_db_progress" not in after
    assert {k: v for k, v in after.items() if k != "alembic_version"} == {
        k: v for k, v in before.items() if k != "alembic_version"}
    assert table_digests(source) == before


def add_chunked_logs(path: Path, stepid: int) -> dict[int, str]:
    """LOGS finished logs of uncompressed small chunks; returns each log's text."""
    conn = sqlite3.connect(path)
    texts = {}
    with conn:
        for n in range(LOGS):
            lines = [f"log {n} line {i} " + "y" * 40 for i in range(CHUNKS_PER_LOG
                                                                     * LINES_PER_CHUNK)]
            cur = conn.execute(
                "INSERT INTO logs (name, slug, stepid, complete, num_lines, type) "
                "VALUES (?, ?, ?, 1, ?, 's')", (f"log{n}", f"log{n}", stepid, len(lines)))
            logid = cur.lastrowid
            assert logid is not None
            conn.executemany(
                "INSERT INTO logchunks (logid, first_line, last_line, content, compressed) "
                "VALUES (?, ?, ?, ?, 0)",
                [(logid, c * LINES_PER_CHUNK, (c + 1) * LINES_PER_CHUNK - 1,
                  # stored as the master does: lines joined, no newline at the end
                  "\n".join(lines[c * LINES_PER_CHUNK:(c + 1) * LINES_PER_CHUNK]).encode())
                 for c in range(CHUNKS_PER_LOG)])
            texts[logid] = "".join(line + "\n" for line in lines)
    conn.close()
    return texts


@pytest.mark.integration  # two CLI runs in subprocesses on a database of 2400 log chunks
@pytest_twisted.ensureDeferred
async def test_cleanupdb_interrupted_by_sigterm_completes_on_rerun(
        tmp_path: Path, logged_errors: Any) -> None:
    from buildbot.db.connector import DBConnector
    from tests.db import rows

    basedir = await make_master(tmp_path)
    use_sample_config(basedir, logged_errors)
    db = DBConnector(str(basedir))
    await db.setup("sqlite:///state.sqlite")
    try:
        _, stepid = await rows.step(db)
    finally:
        await db.stop()
    texts = add_chunked_logs(basedir / "state.sqlite", stepid)

    rc, err = interrupt_when(["cleanupdb", str(basedir)], basedir, "% ", signal.SIGTERM)

    assert rc == 1, err
    assert "cleanupdb: interrupted; what is done is kept; run the same command again to " \
        "finish" in err
    assert "compacting the database" not in err  # stopped among the logs
    conn = sqlite3.connect(basedir / "state.sqlite")
    left = conn.execute("SELECT count(*) FROM logchunks").fetchone()[0]
    conn.close()
    assert LOGS < left < LOGS * CHUNKS_PER_LOG  # some logs regrouped, others not yet
    rerun = run_cli("cleanupdb", str(basedir), cwd=basedir)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.splitlines()[-1] == "cleanup complete"

    db = DBConnector(str(basedir))
    await db.setup("sqlite:///state.sqlite")
    try:
        for logid, text in texts.items():
            assert await db.logs.getLogLines(logid, 0, CHUNKS_PER_LOG * LINES_PER_CHUNK) == text
    finally:
        await db.stop()
    conn = sqlite3.connect(basedir / "state.sqlite")
    chunks = conn.execute("SELECT count(*), sum(compressed = 0) FROM logchunks "
                          "WHERE logid IN (%s)" % ",".join(map(str, texts))).fetchone()
    conn.close()
    assert chunks[0] == LOGS  # every log regrouped into one chunk


@pytest.mark.integration  # migrations on a real database: over the unit CPU budget
@pytest_twisted.ensureDeferred
async def test_upgrade_failing_mid_way_leaves_the_old_revision_and_reruns_cleanly(
        tmp_path: Path) -> None:
    """upgrade-master ignores SIGINT/SIGTERM while migrating; what remains is a crash mid-way.
    The upgrade is one transaction: a migration failing after another has run must leave
    the database exactly at its old revision, and the rerun must go through."""
    from buildbot.db.connector import DBConnector
    from buildbot.db.migrate import HEAD_REVISION, thd_migrate_to

    path = tmp_path / "state.sqlite"
    db = DBConnector(str(tmp_path))
    await db.setup(f"sqlite:///{path}", check_version=False)
    try:
        await db.upgrade()  # created at the newest revision, then taken back to 064
        await db.pool.run(lambda conn: thd_migrate_to(conn, "064"))
    finally:
        await db.stop()
    conn = sqlite3.connect(path)
    with conn:  # makes 066 (after 065 ran) fail: it adds this column
        conn.execute("ALTER TABLE builds ADD COLUMN locks_duration_s INTEGER")
    before = (table_digests(path), schema(path))

    db = DBConnector(str(tmp_path))
    await db.setup(f"sqlite:///{path}", check_version=False)
    try:
        with pytest.raises(Exception, match="duplicate column"):
            await db.upgrade()
    finally:
        await db.stop()

    # 065's new column and the version bumps are rolled back with 066
    assert (table_digests(path), schema(path)) == before
    assert "rebuilt_buildid" not in " ".join(before[1])
    with conn:
        conn.execute("ALTER TABLE builds DROP COLUMN locks_duration_s")
    conn.close()
    db = DBConnector(str(tmp_path))
    await db.setup(f"sqlite:///{path}", check_version=False)
    try:
        assert await db.upgrade() == "upgraded"
        assert await db.pool.run(lambda c: c.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalar()) == HEAD_REVISION
    finally:
        await db.stop()


@pytest_twisted.ensureDeferred
async def test_copy_db_refuses_the_unfinished_copy_of_another_source(tmp_path: Path) -> None:
    from buildbot.db.connector import DBConnector
    from buildbot.scripts import copydb

    dst = DBConnector(str(tmp_path))
    await dst.setup("sqlite:///dst.sqlite", check_version=False)
    try:
        await dst.upgrade()
        assert await copydb.prepare_destination(dst, "sqlite:///a.sqlite") == (frozenset(), None)
        await dst.masters.findMasterId("host:/half-copied")  # rows of a copy cut short

        refused = await copydb.prepare_destination(dst, "postgresql://u:xxxx@h/b")
        resumed = await copydb.prepare_destination(dst, "sqlite:///a.sqlite")

        assert refused == (frozenset(), (
            "the destination database holds an unfinished copy of another database "
            "(sqlite:///a.sqlite); empty it or choose another destination"))
        assert resumed == (frozenset(), None)  # nothing finished: every table emptied
        assert await dst.masters.getMasters() == []
    finally:
        await dst.stop()
