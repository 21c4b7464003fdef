"""Masters as separate processes (twistd on a generated buildbot.tac), stock workers, and a
direct look at the shared database, for the failure tests of tests/multimaster.

`Cluster` starts and always stops everything it started; waits poll the database or a log
file (no fixed sleeps); a timeout names what never happened.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import textwrap
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from twisted.internet import defer, protocol, threads

from tests.fixtures.worker_process import WorkerProcess, create_worker

POLL = 0.05
# Generous: the waits return as soon as the event happens, and master and worker processes
# are slow on a loaded machine.
WAIT_TIMEOUT = 120.0
TAC = """\
from twisted.application import service
from buildbot.master import BuildMaster
application = service.Application('buildmaster')
BuildMaster({basedir!r}, 'master.cfg').setServiceParent(application)
"""


def _reactor() -> Any:
    from twisted.internet import reactor
    return reactor


def sleep(seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    _reactor().callLater(seconds, d.callback, None)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Proto(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.ended: defer.Deferred[Any] = defer.Deferred()
        self.output = bytearray()

    def outReceived(self, data: bytes) -> None:
        self.output += data

    errReceived = outReceived

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(None)


class MasterProcess:
    """One master: `twistd --nodaemon -y buildbot.tac` in its own basedir."""

    def __init__(self, basedir: Path, name: str, cfg: str) -> None:
        self.basedir = basedir
        self.name = name
        self.pb_port = free_port()
        self.www_port = free_port()
        basedir.mkdir(parents=True, exist_ok=True)
        (basedir / "buildbot.tac").write_text(TAC.format(basedir=str(basedir)))
        (basedir / "master.cfg").write_text(
            cfg.replace("PB_PORT", str(self.pb_port)).replace("WWW_PORT", str(self.www_port)))
        self._proto = _Proto()
        self._transport: Any = None

    def start(self) -> None:
        args = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                "--nodaemon", "--pidfile=", "--logfile=twistd.log", "-y", "buildbot.tac"]
        self._transport = _reactor().spawnProcess(self._proto, sys.executable, args,
                                                  env=dict(os.environ), path=str(self.basedir))

    @property
    def running(self) -> bool:
        return not self._proto.ended.called

    def log_text(self) -> str:
        try:
            return (self.basedir / "twistd.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self) -> str:
        tail = "\n".join(self.log_text().splitlines()[-40:])
        return f"master {self.name} ({'running' if self.running else 'exited'}):\n{tail}\n" \
               f"{bytes(self._proto.output[-1500:]).decode(errors='replace')}"

    async def wait_for_log(self, text: str, timeout: float = WAIT_TIMEOUT) -> None:
        await until(lambda: text in self.log_text(), f"{self.name} logs {text!r}", timeout,
                    self.describe)

    def signal(self, sig: int) -> None:
        if self.running:
            self._transport.signalProcess(sig)

    async def wait_exited(self, timeout: float = WAIT_TIMEOUT) -> None:
        await until(lambda: not self.running, f"{self.name} exits", timeout, self.describe)

    async def stop(self) -> None:
        if not self.running:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            await self.wait_exited(20)
        except AssertionError:
            self.signal(signal.SIGKILL)
            await self.wait_exited()

    async def force(self, builder: str, reason: str = "test") -> int:
        """Force a build through this master's REST API; returns the buildset id."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "force", "params": {
            "builderNames": [builder], "reason": reason, "owner": "t"}}).encode()
        url = f"http://127.0.0.1:{self.www_port}/api/v2/forceschedulers/force"

        def post() -> Any:
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=20) as r:
                return json.loads(r.read())

        answer = await threads.deferToThread(post)
        return int(answer["result"][0])


    async def post_change(self, revision: str, branch: str = "main") -> None:
        """Send a change through this master's `base` change hook."""
        body = urllib.parse.urlencode({"revision": revision, "branch": branch,
                                       "author": "t <t@example.org>", "comments": "c",
                                       "repository": "r", "project": "p"}).encode()
        url = f"http://127.0.0.1:{self.www_port}/change_hook/base"

        def post() -> None:
            with urllib.request.urlopen(urllib.request.Request(url, data=body),
                                        timeout=20) as r:
                r.read()

        await threads.deferToThread(post)


async def until(cond: Callable[[], Any], what: str, timeout: float = WAIT_TIMEOUT,
                describe: Callable[[], str] | None = None) -> Any:
    """Poll `cond` until it returns something true; fail after `timeout` naming `what`."""
    deadline = _reactor().seconds() + timeout
    while True:
        value = cond()
        if value:
            return value
        if _reactor().seconds() > deadline:
            raise AssertionError(f"timed out waiting for: {what}\n"
                                 f"{describe() if describe else ''}")
        await sleep(POLL)


class Cluster:
    """Masters and workers of one test, on one shared database."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.tmp_path = tmp_path
        self.db_url = db_url
        # the test's own look at the database (psycopg2 where the URL names no driver)
        self.engine = sa.create_engine(db_url.replace("postgresql://",
                                                      "postgresql+psycopg2://", 1))
        self.masters: list[MasterProcess] = []
        self.workers: list[WorkerProcess] = []

    def query(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def add_master(self, name: str, cfg: str) -> MasterProcess:
        m = MasterProcess(self.tmp_path / name, name, cfg)
        self.masters.append(m)
        return m

    async def start_master(self, name: str, cfg: str) -> MasterProcess:
        m = self.add_master(name, cfg)
        m.start()
        await m.wait_for_log("BuildMaster is running")
        return m

    async def start_worker(self, name: str, master: MasterProcess) -> WorkerProcess:
        basedir = self.tmp_path / f"worker-{name}-{master.name}"
        await create_worker(basedir, master.pb_port, name, "pass", keepalive=0)
        w = WorkerProcess(basedir, name)
        self.workers.append(w)
        w.start()
        await w.wait_for_log("Connected to buildmaster; worker is ready")
        return w

    async def pause_outside_transactions(self, m: MasterProcess) -> None:
        """SIGSTOP `m` at a moment it holds no open write transaction.

        A master frozen inside a transaction keeps its locks (SQLite's single writer lock,
        row locks on a server) and blocks every other master's writes until it is resumed:
        that is the database's behaviour, not the fencing under test. So pause, look for a
        transaction left open, and if there is one resume and pause again. A transaction of
        a running master seen by the probe costs only another try."""
        for _ in range(50):
            m.signal(signal.SIGSTOP)
            if not await threads.deferToThread(self._stalled_transaction):
                return
            m.signal(signal.SIGCONT)
            await sleep(POLL)
        raise AssertionError(f"master {m.name} always held a transaction when paused")

    def _stalled_transaction(self) -> bool:
        """Is a transaction open on the database that does not end within about a second?"""
        backend = self.engine.dialect.name
        if backend == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.engine.url.database or "", timeout=1.0,
                                  isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:  # "database is locked"
                return True
            finally:
                con.close()
        import time
        time.sleep(1.1)  # on this DB thread: lets a live transaction end
        if backend == "postgresql":
            sql = ("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                   "AND datname = current_database() AND state LIKE 'idle in transaction%' "
                   "AND state_change < now() - interval '1 second'")
        else:  # MySQL / MariaDB: InnoDB's open transactions (second resolution)
            sql = ("SELECT count(*) FROM information_schema.innodb_trx "
                   "WHERE trx_started <= NOW() - INTERVAL 1 SECOND")
        return bool(self.query(sql)[0][0])

    def masterid(self, m: MasterProcess) -> int:
        rows = self.query("SELECT id, name FROM masters")
        return next(r.id for r in rows if r.name.endswith(str(m.basedir)))

    def active(self, masterid: int) -> bool:
        return bool(self.query("SELECT active FROM masters WHERE id = :i", i=masterid)[0][0])

    def builds(self) -> list[Any]:
        return self.query("SELECT id, buildrequestid, masterid, results, complete_at "
                          "FROM builds ORDER BY id")

    def requests(self) -> list[Any]:
        return self.query("SELECT id, complete, results FROM buildrequests ORDER BY id")

    async def stop(self) -> None:
        for w in self.workers:
            await w.stop()
        for m in self.masters:
            await m.stop()
        self.engine.dispose()


@asynccontextmanager
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    url = os.environ.get("BUILDBOT_TEST_DB_URL")
    if url:
        from tests.fixtures.db import _reset_external
        await threads.deferToThread(_reset_external, url)
    else:
        url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    from tests.fixtures.master import create_database
    await create_database(str(tmp_path), url)
    c = Cluster(tmp_path, url)
    try:
        yield c
    finally:
        await c.stop()


def master_cfg(db_url: str, *, interval: float = 0.5, expiry: float = 3.0,
               workers: tuple[str, ...] = ("wa", "wb"), sleep_s: float = 2.0,
               extra: str = "") -> str:
    """A master.cfg: builder `b` (one `sleep` step) on the given workers, a force scheduler,
    the web UI on WWW_PORT and workers on PB_PORT (replaced by MasterProcess)."""
    return textwrap.dedent(f"""\
        from buildbot.plugins import schedulers, steps, util, worker
        c = BuildmasterConfig = {{}}
        c['multiMaster'] = True
        c['masterHeartbeat'] = {{'interval': {interval}, 'expiry': {expiry}}}
        c['buildbotNetUsageData'] = None
        c['db'] = {{'db_url': {db_url!r}}}
        c['protocols'] = {{'pb': {{'port': 'tcp:PB_PORT:interface=127.0.0.1'}}}}
        c['www'] = {{'port': 'tcp:WWW_PORT:interface=127.0.0.1'}}
        c['workers'] = [worker.Worker(n, 'pass') for n in {list(workers)!r}]
        c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['b'])]
        f = util.BuildFactory([steps.ShellCommand(command=['sleep', '{sleep_s}'])])
        c['builders'] = [util.BuilderConfig(name='b', workernames={list(workers)!r},
                                            factory=f)]
        """) + textwrap.dedent(extra)


class RestartableRouter:
    """A crossbar router that can be stopped and started again on the same port."""

    def __init__(self, basedir: Path, realm: str = "buildbot") -> None:
        from tests.fixtures.crossbar import _config
        self.cbdir = basedir / ".crossbar"
        self.cbdir.mkdir(parents=True)
        port = free_port()
        (self.cbdir / "config.json").write_text(json.dumps(_config(port, realm)))
        self.url = f"ws://127.0.0.1:{port}/ws"
        self._proc: Any = None
        self._transport: Any = None

    async def start(self) -> None:
        from tests.fixtures.crossbar import _Router, crossbar_path
        exe = crossbar_path()
        assert exe is not None
        self._proc = _Router()
        self._transport = _reactor().spawnProcess(
            self._proc, exe, [exe, "start", "--cbdir", str(self.cbdir), "--loglevel", "info"],
            env=dict(os.environ), path=str(self.cbdir.parent))
        self._proc.ready.addTimeout(90, _reactor())
        await self._proc.ready

    async def stop(self) -> None:
        if self._proc is None or self._proc.ended.called:
            return
        self._transport.signalProcess(signal.SIGTERM)
        self._proc.ended.addTimeout(30, _reactor())
        try:
            await self._proc.ended
        except defer.TimeoutError:
            self._transport.signalProcess(signal.SIGKILL)
