"""A full disk, or failing database writes, during a build (issue 10, item 8).

The master's basedir is a small tmpfs holding the SQLite file; the test fills it while a
step writes its log, or makes some SQL statements fail for a while. The build must end
(EXCEPTION, the reason in its state string and in the master's log), its worker must be free
again, `stop` must work, what was stored before must stay intact, REST must keep answering,
and once space returns a new build must succeed without a restart.
"""

from __future__ import annotations

import errno
import json
import re
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from sqlalchemy import event
from twisted.internet import defer

from buildbot.master import BuildMaster
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import CANCELLED, EXCEPTION, SUCCESS
from tests.fixtures.master import DictLoader, create_database, running_master, wait_for_message
from tests.www.harness import http

pytestmark = pytest.mark.integration

# Random (incompressible) output at a steady pace until the step is interrupted.
NOISY = "while true; do head -c 3000 /dev/urandom | base64 -w 100; sleep 0.05; done"


@pytest.fixture
def tmpfs_basedir(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs mounted for the test (skips when mounting is not permitted)."""
    where = tmp_path / "m"
    where.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {e}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def fill(directory: Path) -> Path:
    """Write a file in `directory` until the file system is full."""
    filler = directory / "filler"
    block = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    # Whatever is left (less than a block) goes too.
    with open(filler, "ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    return filler


NEXT_COMMAND: dict[str, str] = {}


def config(command: str) -> dict[str, Any]:
    """One builder "b" on a LocalWorker running `command` (or the one passed to `force`)."""
    NEXT_COMMAND["cmd"] = command

    @util.renderer
    def cmd(props: Any) -> str:
        return NEXT_COMMAND["cmd"]

    return {
        "db": {"db_url": "sqlite:///state.sqlite"},
        "protocols": {"null": {}},
        "buildbotNetUsageData": None,
        "workers": [worker.LocalWorker("local")],
        "www": {"port": "tcp:0:interface=127.0.0.1"},
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(
            name="b", workernames=["local"],
            factory=util.BuildFactory([steps.ShellCommand(
                command=cmd, name="work")]))],
    }


async def force(master: Any, cmd: str | None = None) -> int:
    """Force a build of "b", running `cmd` instead of the configured command if given."""
    if cmd is not None:
        NEXT_COMMAND["cmd"] = cmd
    bsid, _ = await master.data.control(
        "force", {"builderNames": ["b"], "owner": "t"}, ("forceschedulers", "force"))
    return int(bsid)


async def rest(master: Any, path: str) -> Any:
    res = await http.get(f"http://127.0.0.1:{master.www.port_number}/api/v2/{path}")
    assert res.code == 200, (path, res.code, res.body[:300])
    return json.loads(res.body)


async def log_text(master: Any, logid: int) -> str:
    """The stored text of a log (the contents endpoint joins its chunks)."""
    chunks = (await rest(master, f"logs/{logid}/contents"))["logchunks"]
    return "".join(c["content"] for c in chunks)


def timed(d: Any, what: str, timeout: float = 120.0) -> defer.Deferred[Any]:
    """`d` (a Deferred or coroutine), failing with `what` if it takes over `timeout` s."""
    from twisted.internet import reactor

    out = defer.ensureDeferred(d) if not isinstance(d, defer.Deferred) else d

    def named(f: Any) -> Any:
        if f.check(defer.TimeoutError):
            raise AssertionError(f"{what} did not happen within {timeout} s")
        return f

    return out.addTimeout(timeout, reactor).addErrback(named)


async def running_build(master: Any) -> Any:
    """The build running on builder "b" (once its step started)."""
    building = master.botmaster.builders["b"].building
    assert len(building) == 1, building
    return building[0]


class FailingStatements:
    """Makes SQL statements matching `pattern` fail, at the SQLAlchemy level, while
    `active`; counts the attempts."""

    def __init__(self, engine: Any, pattern: str, message: str = "disk I/O error",
                 times: int | None = None) -> None:
        self.engine = engine
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.message = message
        self.active = False
        self.attempts = 0
        self.times = times  # fail only this many times (None: while active)
        event.listen(engine, "before_cursor_execute", self._hook)

    def _hook(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.active and self.pattern.search(statement):
            self.attempts += 1
            if self.times is not None and self.attempts >= self.times:
                self.active = False
            raise sqlite3.OperationalError(self.message)

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hook)


@contextmanager
def failing(master: Any, pattern: str, times: int | None = None
            ) -> Iterator[FailingStatements]:
    hook = FailingStatements(master.db.pool.engine, pattern, times=times)
    try:
        yield hook
    finally:
        hook.active = False
        hook.remove()


def integrity_ok(db_file: Path) -> None:
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


WRITES = r"^\s*(INSERT|UPDATE|DELETE)\b"


async def check_next_build_succeeds(master: Any) -> None:
    """A new build (on the same, only worker) completes SUCCESS, recorded as such."""
    done = wait_for_message(master, ("builds", None, "finished"))
    await force(master, "echo fine")
    _, build = await done
    assert (build["results"], build["state_string"]) == (SUCCESS, "build successful")


@pytest_twisted.ensureDeferred
async def test_full_disk_mid_build_ends_it_and_master_recovers_without_restart(
        tmpfs_basedir: Path, logged_errors: Any) -> None:
    async with running_master(tmpfs_basedir, config(NOISY)) as master:
        first_chunk = wait_for_message(master, ("logs", None, "append"))
        await force(master)
        _, logbody = await first_chunk
        logid = logbody["logid"]
        build = await running_build(master)
        before = await log_text(master, logid)
        assert before.startswith("hwhile true")

        filler = fill(tmpfs_basedir)
        try:
            # The command would print forever: the build ends because it was interrupted.
            results = await timed(build.waitUntilFinished(), "the end of the build")
            assert results == EXCEPTION
            assert "database or disk is full" in str(build.storage_error)
            # The worker is free again and the master still answers while the disk is full.
            wfb = master.botmaster.builders["b"].workers[0]
            assert wfb.isAvailable() and wfb.worker.quarantine_timer is None
            assert (await rest(master, f"builds/{build.buildid}"))["builds"][0]["buildid"] \
                == build.buildid
            assert (await log_text(master, logid)).startswith(before)
            finished = wait_for_message(master, ("builds", str(build.buildid), "finished"))
        finally:
            filler.unlink()
        # Space is back: the end of the build is stored without a restart.
        _, body = await finished
        assert body["results"] == EXCEPTION
        # The first refused write is the log's next chunk or the step's summary (written a
        # second after the step started, as in 4.3), whichever comes first.
        assert re.search(r"cannot store (log 'stdio'|its summary) of step 'work': "
                         r"database or disk is full", body["state_string"])
        await check_next_build_succeeds(master)
        assert (await log_text(master, logid)).startswith(before)
        step_logs = await rest(master, f"logs/{logid}")
        assert step_logs["logs"][0]["complete"] is True
        requests = (await rest(master, "buildrequests?order=buildrequestid"))["buildrequests"]
        assert [(r["complete"], r["results"]) for r in requests] == [
            (True, EXCEPTION), (True, SUCCESS)]
    integrity_ok(tmpfs_basedir / "state.sqlite")
    assert logged_errors.flush("ending the build")
    # Claims or heartbeats that happened to fall while the disk was full.
    logged_errors.flush("database or disk is full")


@asynccontextmanager
async def master_on_file_db(basedir: Path, command: str) -> AsyncIterator[BuildMaster]:
    """A master on an SQLite file in `basedir` that the test stops itself (the block then
    only checks that it did)."""
    from twisted.internet import reactor

    basedir.mkdir(parents=True, exist_ok=True)
    cfg = config(command)
    await create_database(str(basedir), "sqlite:///state.sqlite")
    master = BuildMaster(str(basedir), reactor=reactor, config_loader=DictLoader(lambda: cfg))
    await master.startService()
    try:
        yield master
    finally:
        if master.running:
            await master.stopService()


@pytest_twisted.ensureDeferred
async def test_failing_log_writes_end_the_build_once_without_retrying_or_buffering(
        tmp_path: Path, logged_errors: Any) -> None:
    async with running_master(tmp_path / "m", config(NOISY)) as master:
        with failing(master, r"INSERT INTO logchunks") as hook:
            first_chunk = wait_for_message(master, ("logs", None, "append"))
            await force(master)
            _, logbody = await first_chunk
            build = await running_build(master)
            before = await log_text(master, logbody["logid"])
            hook.active = True
            finished = wait_for_message(master, ("builds", str(build.buildid), "finished"))
            results = await timed(build.waitUntilFinished(), "the end of the build")
            step = build.executedSteps[0]
            stdio = step.logs["stdio"]
            # One refused write ends it all: no retry of the log's content, and what the
            # command printed until it was interrupted was dropped, not kept in memory.
            assert hook.attempts == 1
            assert stdio._pending == [] and stdio.write_error is not None
            assert results == EXCEPTION and step.results == EXCEPTION
            # Only the chunks are refused: the end of the build is stored at once.
            _, body = await finished
            assert body["results"] == EXCEPTION
            assert "cannot store log 'stdio' of step 'work': disk I/O error" in \
                body["state_string"]
            assert (await log_text(master, logbody["logid"])).startswith(before)
            assert master.botmaster.retried_writes.waiting == []
            hook.active = False
            await check_next_build_succeeds(master)
    assert logged_errors.flush("ending the build")


@pytest_twisted.ensureDeferred
async def test_stop_ends_a_build_whose_writes_all_fail_and_its_end_is_stored_later(
        tmp_path: Path, logged_errors: Any) -> None:
    async with running_master(tmp_path / "m", config("sleep 60")) as master:
        with failing(master, WRITES) as hook:
            headers = wait_for_message(master, ("logs", None, "append"))
            await force(master)
            await headers  # the command runs, quiet from now on
            build = await running_build(master)
            await build.currentStep._wait_summary()  # its running summary is stored
            hook.active = True
            # A build that looks hung: nothing to write, every write refused.
            assert (await rest(master, "builds"))["builds"][0]["complete"] is False
            await master.data.control("stop", {"reason": "stuck?"}, ("builds", build.buildid))
            results = await timed(build.waitUntilFinished(), "the end of the stopped build")
            assert results == CANCELLED
            assert master.botmaster.builders["b"].workers[0].isAvailable()
            waiting = master.botmaster.retried_writes.waiting
            assert waiting[-2:] == [f"finish build {build.buildid}",
                                    "complete build requests [1]"]
            finished = wait_for_message(master, ("builds", str(build.buildid), "finished"))
            hook.active = False
            _, body = await finished
            assert body["results"] == CANCELLED
            assert body["state_string"].startswith("cancelled (stuck?)")
        await check_next_build_succeeds(master)
        steps_ = (await rest(master, f"builds/{build.buildid}/steps"))["steps"]
        assert [(s["name"], s["complete"], s["results"]) for s in steps_] == [
            ("worker_preparation", True, SUCCESS), ("work", True, CANCELLED)]
    assert logged_errors.flush("ending the build")


@pytest_twisted.ensureDeferred
async def test_build_that_cannot_be_created_completes_its_request_and_frees_the_worker(
        tmp_path: Path, logged_errors: Any) -> None:
    async with running_master(tmp_path / "m", config("echo fine")) as master:
        with failing(master, r"INSERT INTO builds\b") as hook:
            hook.active = True
            request_done = wait_for_message(master, ("buildrequests", None, "complete"))
            bsid = await force(master)
            # Completed (not claimed again and again while the database refuses the build).
            _, request = await request_done
            assert (request["buildsetid"], request["results"]) == (bsid, EXCEPTION)
            assert hook.attempts == 1
            wfb = master.botmaster.builders["b"].workers[0]
            # Free, and not quarantined: the master's storage failed, not the worker.
            assert wfb.isAvailable() and wfb.worker.quarantine_timer is None
        await check_next_build_succeeds(master)
    assert logged_errors.flush("cannot store the new build")


@pytest_twisted.ensureDeferred
async def test_master_stops_promptly_with_writes_still_refused(tmp_path: Path,
                                                               logged_errors: Any) -> None:
    async with master_on_file_db(tmp_path / "m", NOISY) as master:
        with failing(master, WRITES) as hook:
            first_chunk = wait_for_message(master, ("logs", None, "append"))
            await force(master)
            await first_chunk
            build = await running_build(master)
            hook.active = True
            await timed(build.waitUntilFinished(), "the end of the build")
            assert master.botmaster.retried_writes.waiting
            await timed(master.stopService(), "the master's shutdown", timeout=20)
            assert not master.running
            assert len(master.botmaster.retried_writes) == 0
    assert logged_errors.flush("ending the build")
    lost = logged_errors.flush("not stored")
    assert f"finish build {build.buildid}" in str(lost[0].get("lost"))
    assert logged_errors.flush("cannot record that this master stopped")
    logged_errors.flush("disk I/O error")  # e.g. a scheduler releasing itself at shutdown


@pytest_twisted.ensureDeferred
async def test_refused_claim_is_tried_again_without_another_event(
        tmp_path: Path, monkeypatch: Any, logged_errors: Any) -> None:
    from buildbot.process.buildrequestdistributor import BuildRequestDistributor

    monkeypatch.setattr(BuildRequestDistributor, "STORAGE_RETRY_DELAY", 0.2)
    async with running_master(tmp_path / "m", config("echo fine")) as master:
        with failing(master, r"INSERT INTO buildrequest_claims", times=1) as hook:
            hook.active = True
            done = wait_for_message(master, ("builds", None, "finished"))
            await force(master)
            _, build = await done
            assert hook.attempts == 1
            assert build["results"] == SUCCESS


@pytest_twisted.ensureDeferred
async def test_refused_write_while_preparing_closes_the_build_and_its_open_steps(
        tmp_path: Path, logged_errors: Any) -> None:
    async with running_master(tmp_path / "m", config("echo fine")) as master:
        # The first write to the build row after its creation: its state "starting".
        with failing(master, r"^\s*UPDATE builds\b", times=1) as hook:
            hook.active = True
            done = wait_for_message(master, ("builds", None, "finished"))
            await force(master)
            _, build = await done
            assert hook.attempts == 1
        assert build["results"] == EXCEPTION
        assert "cannot store the build's progress: disk I/O error" in build["state_string"]
        steps_ = (await rest(master, f"builds/{build['buildid']}/steps"))["steps"]
        assert [(s["name"], s["complete"], s["results"]) for s in steps_] == [
            ("worker_preparation", True, EXCEPTION)]
        await check_next_build_succeeds(master)
    assert logged_errors.flush("ending the build")
