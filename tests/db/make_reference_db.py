"""Make a database the way users have one: Buildbot 4.3.0 itself, with a worker, running
builds triggered by changes. Used to produce `buildbot-4.3.0.sqlite.sql` (committed) and,
when the reference virtualenv is present, 4.3 databases on PostgreSQL/MariaDB for the
migration tests.

    python -m tests.db.make_reference_db DB_URL [--dump FILE.sql]

`REFVENV` (default /work/refvenv) must hold `buildbot[bundle]==4.3.0` and `buildbot-worker`.
The PostgreSQL/MySQL drivers may come from `REFVENV_EXTRA_PATH` (a directory put on its
PYTHONPATH). Nothing here imports our `buildbot`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REFVENV = Path(os.environ.get("REFVENV", "/work/refvenv"))

MASTER_CFG = """
from buildbot.plugins import changes, schedulers, steps, util, worker

c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker('w1', 'pass')]
c['protocols'] = {{'pb': {{'port': 'tcp:{port}:interface=127.0.0.1'}}}}
c['change_source'] = [changes.PBChangeSource()]
c['schedulers'] = [
    schedulers.SingleBranchScheduler(
        name='main', change_filter=util.ChangeFilter(branch='main'), treeStableTimer=None,
        builderNames=['b1']),
    schedulers.ForceScheduler(name='force', builderNames=['b1']),
]
f = util.BuildFactory([
    steps.ShellCommand(name='say', command=['echo', 'hello', 'w\\u00f6rld']),
    steps.SetPropertyFromCommand(name='answer', command='echo 42', property='answer'),
    steps.ShellCommand(name='many', command=['seq', '1', '3000']),
])
c['builders'] = [util.BuilderConfig(name='b1', workernames=['w1'], factory=f,
                                    tags=['fast'], description='the builder')]
c['db'] = {{'db_url': {db_url!r}}}
c['buildbotNetUsageData'] = None
c['title'] = 'reference'
c['buildbotURL'] = 'http://localhost:8010/'
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in args], check=True, env=env, cwd=cwd,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def make(db_url: str, workdir: Path, builds: int = 2, timeout: float = 120) -> Path:
    """Run Buildbot 4.3 on `db_url` until `builds` builds have finished; returns basedir."""
    env = dict(os.environ)
    extra = os.environ.get("REFVENV_EXTRA_PATH")
    if extra:
        env["PYTHONPATH"] = extra
    env.pop("BUILDBOT_TEST_DB_URL", None)
    if db_url.startswith("postgresql://"):
        # SQLAlchemy 2.1 (in the reference virtualenv) defaults to psycopg 3.
        db_url = "postgresql+psycopg2://" + db_url[len("postgresql://"):]
    bb, bw = REFVENV / "bin" / "buildbot", REFVENV / "bin" / "buildbot-worker"
    workdir.mkdir(parents=True, exist_ok=True)
    master, wdir = workdir / "master", workdir / "worker"
    port = _free_port()
    _run(bb, "create-master", "--db", db_url, master, env=env)
    (master / "master.cfg").write_text(MASTER_CFG.format(port=port, db_url=db_url))
    _run(bb, "start", master, env=env)
    try:
        _run(bw, "create-worker", wdir, f"127.0.0.1:{port}", "w1", "pass", env=env)
        _run(bw, "start", wdir, env=env)
        try:
            for i in range(builds):
                _run(bb, "sendchange", "--master", f"127.0.0.1:{port}", "--auth",
                     "change:changepw", "--who", "dev <dev@example.org>", "--branch", "main",
                     "--revision", f"rev{i}", "--repository", "git://example.org/r",
                     "--project", "proj", "--comments", f"change {i}", "-p", f"ticket:{i}",
                     f"src/file{i}.c", env=env)
                _wait_for_builds(master, i + 1, timeout)
        finally:
            _run(bw, "stop", wdir, env=env)
    finally:
        _run(bb, "stop", master, env=env)
    return master


def _wait_for_builds(master: Path, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = (master / "twistd.log").read_text(errors="replace").count("build finished")
        if _finished_builds(master) >= n or done >= n:
            return
        time.sleep(0.5)
    raise TimeoutError(f"Buildbot 4.3 did not finish {n} build(s) in {timeout}s; see "
                       f"{master / 'twistd.log'}")


def _finished_builds(master: Path) -> int:
    db = master / "state.sqlite"
    if not db.exists():
        return -1  # not SQLite: rely on the log
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(
            "SELECT count(*) FROM builds WHERE complete_at IS NOT NULL").fetchone()[0])
    finally:
        conn.close()


def main(argv: list[str]) -> None:
    """Command line (see module docstring)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url", nargs="?", default="sqlite:///state.sqlite")
    parser.add_argument("--dump", type=Path, help="write the SQLite database as SQL here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        master = make(args.db_url, Path(tmp))
        if args.dump:
            conn = sqlite3.connect(master / "state.sqlite")
            header = textwrap.dedent("""\
                -- A database written by Buildbot 4.3.0 (create-master, then two builds of a
                -- real worker triggered by `buildbot sendchange`); regenerate with
                -- python -m tests.db.make_reference_db --dump tests/db/buildbot-4.3.0.sqlite.sql
                """)
            args.dump.write_text(header + "\n".join(conn.iterdump()) + "\n")
            conn.close()


if __name__ == "__main__":
    main(sys.argv[1:])
