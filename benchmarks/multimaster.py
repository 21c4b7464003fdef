#!/usr/bin/env python3
"""Scale-out of forced builds over 1, 2, 3... masters sharing one PostgreSQL database.

For each master count N: a fresh database; N masters as separate processes (twistd on a
generated buildbot.tac), each with `multiMaster` on, the same builders, its own LocalWorkers
(the stock buildbot-worker code, in the master process) and a ForceScheduler; the masters
share events through the chosen bus (amqp: RabbitMQ; wamp: a crossbar router URL; simple:
none). The builds are forced through the masters' REST APIs in turn, and timed until every
buildset is complete. Every master process counts the SQL statements it executes (a
SQLAlchemy event hook installed by the generated tac), so the figures include statements
per build, summed over the masters.

    python benchmarks/multimaster.py --masters 1 2 3 --mq amqp \\
        --db-url postgresql://postgres@127.0.0.1:5432/bbbench

The database named in --db-url is dropped and re-created for each run (the server's
`postgres` database is used for that). Prints one JSON object per master count and a
summary line with the speed-ups. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]

TAC = """\
import os
import sqlalchemy
from twisted.application import service
from twisted.internet import task
from buildbot.master import BuildMaster

# Benchmark instrumentation: count the SQL statements of this process, written to a file.
_count = [0]
_by_text = {{}} if os.environ.get("BENCH_STATEMENT_TEXTS") else None


def _counted(conn, cursor, statement, *args, **kwargs):
    _count[0] += 1
    if _by_text is not None:
        key = " ".join(statement.split())[:160]
        _by_text[key] = _by_text.get(key, 0) + 1


sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", _counted)


def _dump():
    with open("statements.tmp", "w") as f:
        f.write(str(_count[0]))
    os.replace("statements.tmp", "statements")
    if _by_text is not None:
        import json
        with open("statement_texts.json", "w") as f:
            json.dump(_by_text, f)


task.LoopingCall(_dump).start(0.2)

# BENCH_PROFILE=1: a pyinstrument profile of the whole run, written as profile.txt at stop.
if os.environ.get("BENCH_PROFILE"):
    import pyinstrument
    from twisted.internet import reactor
    _profiler = pyinstrument.Profiler(interval=0.002)
    _profiler.start()

    def _write_profile():
        _profiler.stop()
        with open("profile.txt", "w") as f:
            f.write(_profiler.output_text(unicode=False, show_all=False))

    reactor.addSystemEventTrigger("before", "shutdown", _write_profile)
application = service.Application("buildmaster")
BuildMaster({basedir!r}, "master.cfg").setServiceParent(application)
"""

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [worker.LocalWorker('{name}w{{}}'.format(i)) for i in range({workers})]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
names = ['b{{}}'.format(i) for i in range({builders})]
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=names)]
c['builders'] = [util.BuilderConfig(
    name=n, workernames=['{name}w{{}}'.format(i) for i in range({workers})],
    factory=util.BuildFactory([steps.ShellCommand(command=['true'], name='s{{}}'.format(j))
                               for j in range({steps})]))
    for n in names]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': {db_url!r}}}
c['mq'] = {mq!r}
c['multiMaster'] = True
c['collapseRequests'] = False
c['buildbotNetUsageData'] = None
c['title'] = {name!r}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def post(url: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def wait_until(what: str, check: Any, timeout: float, poll: float = 0.1) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(poll)
    return time.monotonic() - start


def own_engine_url(url: str) -> sa.engine.URL:
    """The URL for this script's own engine (psycopg2, as the master uses for postgresql)."""
    parsed = sa.engine.make_url(url)
    return parsed.set(drivername="postgresql+psycopg2") \
        if parsed.drivername == "postgresql" else parsed


def fresh_database(url: str) -> None:
    target = own_engine_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


class Master:
    def __init__(self, root: Path, name: str, args: argparse.Namespace, mq: dict[str, Any]):
        self.name, self.basedir = name, root / name
        self.www = free_port()
        self.basedir.mkdir(parents=True)
        (self.basedir / "buildbot.tac").write_text(TAC.format(basedir=str(self.basedir)))
        (self.basedir / "master.cfg").write_text(textwrap.dedent(CFG.format(
            name=name, workers=args.workers, builders=args.builders, steps=args.steps,
            pb=free_port(), www=self.www, db_url=args.db_url, mq=mq)))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
             "--nodaemon", "--pidfile=", "--logfile=twistd.log", "-y", "buildbot.tac"],
            cwd=self.basedir, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def log(self) -> str:
        try:
            return (self.basedir / "twistd.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        text = self.log()
        if "BuildMaster startup failed" in text or (self.proc and self.proc.poll() is not None):
            raise SystemExit(f"master {self.name} failed:\n{text[-3000:]}")
        return "BuildMaster is running" in text

    def statements(self) -> int:
        try:
            return int((self.basedir / "statements").read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def claim_attempts(self) -> int:
        """Claim INSERTs of the whole run (with BENCH_STATEMENT_TEXTS=1 only, else 0)."""
        try:
            texts = json.loads((self.basedir / "statement_texts.json").read_text())
        except (FileNotFoundError, ValueError):
            return 0
        return sum(n for text, n in texts.items()
                   if text.startswith("INSERT INTO buildrequest_claims"))

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the master process used so far."""
        if self.proc is None:
            return 0.0
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_cluster(n: int, args: argparse.Namespace, mq: dict[str, Any]) -> dict[str, Any]:
    fresh_database(args.db_url)
    engine = sa.create_engine(own_engine_url(args.db_url))
    with tempfile.TemporaryDirectory() as tmp:
        if args.keep:
            tmp = tempfile.mkdtemp(prefix=f"bbbench-{n}-")
        subprocess.run([sys.executable, "-m", "buildbot.scripts.runner", "create-master", "-q",
                        "--db", args.db_url, str(Path(tmp) / "schema")], env=env(),
                       check=True, capture_output=True)
        masters = [Master(Path(tmp), f"m{i}", args, mq) for i in range(n)]
        try:
            for m in masters:
                m.start()
            wait_until("masters", lambda: all(m.running() for m in masters), 120)

            def connected() -> int:
                with engine.connect() as conn:
                    return int(conn.execute(sa.text(
                        "select count(*) from connected_workers")).scalar_one())
            wait_until("workers", lambda: connected() == n * args.workers, 120)
            before = [m.statements() for m in masters]
            cpu_before = [m.cpu_s() for m in masters]

            def force(i: int) -> Any:
                m = masters[i % n]
                return post(f"http://127.0.0.1:{m.www}/api/v2/forceschedulers/force", {
                    "jsonrpc": "2.0", "method": "force", "id": i,
                    "params": {"builderNames": [f"b{i % args.builders}"]}})

            def incomplete() -> int:
                with engine.connect() as conn:
                    return int(conn.execute(sa.text(
                        "select count(*) from buildsets where complete = 0")).scalar_one())

            t0 = time.monotonic()
            with ThreadPoolExecutor(args.clients) as ex:
                list(ex.map(force, range(args.builds)))
            submitted = time.monotonic() - t0
            wait_until("builds", lambda: incomplete() == 0, 1800, poll=0.05)
            elapsed = time.monotonic() - t0
            # Let the masters write their last counts (the tac dumps every 0.2 s).
            time.sleep(0.5)
            statements = sum(m.statements() - b for m, b in zip(masters, before))
            cpu = [round(m.cpu_s() - b, 1) for m, b in zip(masters, cpu_before)]
            claims = sum(m.claim_attempts() for m in masters)
            with engine.connect() as conn:
                rows = conn.execute(sa.text(
                    "select m.name, count(*) from builds b join masters m "
                    "on m.id = b.masterid group by m.name order by m.name")).all()
                builds = int(conn.execute(sa.text("select count(*) from builds")).scalar_one())
                per_request = conn.execute(sa.text(
                    "select max(c) from (select count(*) c from builds "
                    "group by buildrequestid) x")).scalar_one()
        finally:
            for m in masters:
                m.stop()
            engine.dispose()
    return {"masters": n, "builds": builds, "dir": tmp if args.keep else None, "submit_s": round(submitted, 2),
            "total_s": round(elapsed, 2), "builds_per_s": round(args.builds / elapsed, 2),
            "statements_per_build": round(statements / max(builds, 1), 1),
            "master_cpu_s": cpu,
            "claim_attempts_per_build": round(claims / max(builds, 1), 2) if claims else None, "load_avg": round(os.getloadavg()[0], 1),
            "builds_by_master": {name: count for name, count in rows},
            "max_builds_per_request": per_request}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--masters", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--db-url", default="postgresql://postgres@127.0.0.1:5432/bbbench")
    ap.add_argument("--mq", choices=["amqp", "wamp", "simple"], default="amqp")
    ap.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    ap.add_argument("--router-url", help="crossbar router URL for --mq wamp")
    ap.add_argument("--builds", type=int, default=200)
    ap.add_argument("--builders", type=int, default=10)
    ap.add_argument("--workers", type=int, default=4, help="workers per master")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8, help="concurrent force requests")
    ap.add_argument("--keep", action="store_true",
                    help="keep the master directories (statement_texts.json with "
                         "BENCH_STATEMENT_TEXTS=1 in the environment)")
    args = ap.parse_args()
    if not args.db_url.startswith("postgresql"):
        raise SystemExit("--db-url must name a PostgreSQL database (it is dropped and re-created)")

    if args.mq == "amqp":
        # A private exchange per run: nothing left from an earlier run is delivered.
        mq: dict[str, Any] = {"type": "amqp", "url": args.amqp_url,
                              "exchange": f"bbbench-{os.getpid()}",
                              "queue_prefix": f"bbbench-{os.getpid()}.", "queue_expires": 600}
    elif args.mq == "wamp":
        if not args.router_url:
            raise SystemExit("--mq wamp needs --router-url")
        mq = {"type": "wamp", "router_url": args.router_url, "realm": "buildbot"}
    else:
        mq = {"type": "simple"}
    results = []
    for n in args.masters:
        res = run_cluster(n, args, mq)
        res.update(mq=args.mq, builders=args.builders, workers_per_master=args.workers,
                   steps=args.steps)
        print(json.dumps(res), flush=True)
        results.append(res)
    base = next((r for r in results if r["masters"] == 1), None)
    if base:
        print(json.dumps({"speedup": {r["masters"]: round(r["builds_per_s"] / base["builds_per_s"],
                                                          2) for r in results}}))


if __name__ == "__main__":
    main()
