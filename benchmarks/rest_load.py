#!/usr/bin/env python3
"""REST throughput and tail latency under concurrent keep-alive clients, for this project and
Buildbot 4.3 (its virtualenv given as an argument), measured in the same run.

    python benchmarks/rest_load.py /work/refvenv [--builds 1000] [--steps 5] [--rounds 5]

For each master: `buildbot create-master`, then the database is filled directly (SQL on
the schema create-master made: builders, a worker, buildsets, requests, finished builds and
their steps, spread over --builders builders); then both masters are started, and a load
generator (this script with --load, a separate process: one thread and keep-alive
connection per client) runs --clients clients on each request for --seconds, --rounds
times, alternating between the masters, after a warm-up. Prints one JSON line per request
with the median requests/s, latency percentiles and CPU milliseconds per request (the
master process's user + system time over the round, divided by the requests answered) of
both and the ratios, then the masters' resident memory. A script, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker('w0', 'pw')]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['b%d' % i for i in range({builders})])]
c['builders'] = [util.BuilderConfig(name='b%d' % i, workernames=['w0'],
                 factory=util.BuildFactory([steps.ShellCommand(command=['true'])]))
                 for i in range({builders})]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['buildbotNetUsageData'] = None
"""

STALL_TIMEOUT = 5.0  # seconds without progress before a response is given up

PATHS = {
    "builds_limit_50": "builds?limit=50",
    "builder_builds": "builders/{builderid}/builds",
    "build_steps": "builds/{buildid}/steps",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], check: bool = True) -> None:
    env = dict(os.environ)
    if cmd[0] == sys.executable:  # this project, run from the checkout
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0 and check:
        raise SystemExit(f"{cmd} failed:\n{out.stdout}\n{out.stderr}")


def name_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def fill(db: Path, builders: int, builds: int, steps: int) -> None:
    """Finished builds, `builds // builders` per builder, each with `steps` steps."""
    engine = sa.create_engine(f"sqlite:///{db}")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = int(time.time()) - builds * 10
    with engine.begin() as conn:
        conn.execute(t["masters"].insert(), [{
            "id": 1, "name": "bench", "name_hash": name_hash("bench"), "active": 0,
            "last_active": now}])
        conn.execute(t["builders"].insert(), [
            {"id": i + 1, "name": f"b{i}", "name_hash": name_hash(f"b{i}")}
            for i in range(builders)])
        conn.execute(t["workers"].insert(), [{"id": 1, "name": "w0", "info": "{}",
                                              "paused": 0, "graceful": 0}])
        conn.execute(t["buildsets"].insert(), [{
            "id": n, "reason": "bench", "submitted_at": now + n, "complete": 1,
            "complete_at": now + n + 5, "results": 0, "external_idstring": None}
            for n in range(1, builds + 1)])
        conn.execute(t["buildrequests"].insert(), [{
            "id": n, "buildsetid": n, "builderid": n % builders + 1, "priority": 0,
            "complete": 1, "results": 0, "submitted_at": now + n, "complete_at": now + n + 5,
            "waited_for": 0} for n in range(1, builds + 1)])
        conn.execute(t["builds"].insert(), [{
            "id": n, "number": (n - 1) // builders + 1, "builderid": n % builders + 1,
            "buildrequestid": n, "workerid": 1, "masterid": 1, "started_at": now + n,
            "complete_at": now + n + 5, "locks_duration_s": 0, "state_string": "finished",
            "results": 0} for n in range(1, builds + 1)])
        conn.execute(t["steps"].insert(), [{
            "number": s, "name": f"step{s}", "buildid": n, "started_at": now + n,
            "locks_acquired_at": now + n, "complete_at": now + n + 1,
            "state_string": "done", "results": 0, "urls_json": "[]", "hidden": 0}
            for n in range(1, builds + 1) for s in range(steps)])
    engine.dispose()


def load(url: str, clients: int, seconds: float, accept: str) -> dict[str, float]:
    """Requests/s and latency percentiles of `clients` keep-alive connections requesting
    `url` one request after the other for `seconds`, from a separate process (this script
    with --load). Unlike wrk, no request is cut off at the end: Buildbot 4.3's reactor
    (which writes the JSON from a thread) breaks when clients vanish mid-request."""
    out = subprocess.run([sys.executable, __file__, "--load", url, str(clients), str(seconds),
                          accept], capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


class RawClient:
    """One keep-alive HTTP/1.1 connection asking for the same URL again and again.

    The request's bytes are made once and a response is parsed only as far as its framing
    needs (status, Content-Length or chunks): http.client spent about a third of a
    millisecond of CPU per request, on the two cores the masters run on."""

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.sock = socket.create_connection((host, port), timeout=STALL_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request, self.buf = request, b""

    def _until(self, sep: bytes) -> bytes:
        while (i := self.buf.find(sep)) < 0:
            self._more()
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _exactly(self, n: int) -> None:
        while len(self.buf) < n:
            self._more()
        self.buf = self.buf[n:]

    def _more(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def get(self) -> tuple[int, bool]:
        """(status, whether the connection stays open) of one request, body read."""
        self.sock.sendall(self.request)
        head = self._until(b"\r\n\r\n").lower()
        status = int(head[9:12])
        if b"\r\ntransfer-encoding: chunked" in head:
            while (size := int(self._until(b"\r\n").split(b";")[0], 16)):
                self._exactly(size + 2)
            self._until(b"\r\n")  # no trailers
        elif (m := re.search(rb"\r\ncontent-length: *(\d+)", head)) is not None:
            self._exactly(int(m.group(1)))
        else:  # delimited by the end of the connection
            with contextlib.suppress(ConnectionError):
                while True:
                    self._more()
            return status, False
        return status, b"\r\nconnection: close" not in head

    def close(self) -> None:
        self.sock.close()


def _load_process(url: str, clients: int, seconds: float, accept: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    target = parsed.path + ("?" + parsed.query if parsed.query else "")
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    # the headers http.client sent, as before
    request = (f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Accept-Encoding: identity\r\n"
               + (f"Accept: {accept}\r\n" if accept else "") + "\r\n").encode()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    stalled: list[int] = []
    start = time.monotonic()
    deadline = start + seconds

    def client(mine: list[float]) -> None:
        conn = RawClient(host, port, request)
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                status, keep = conn.get()
            except TimeoutError:
                # A response that stopped half-way (seen with 4.3, which writes its JSON
                # from a thread): counted with its wait, then a new connection.
                stalled.append(1)
                mine.append(time.monotonic() - t0)
                conn.close()
                conn = RawClient(host, port, request)
                continue
            except (ConnectionError, ValueError) as e:  # closed early, or not HTTP
                failures.append(repr(e))
                conn.close()
                conn = RawClient(host, port, request)
                continue
            if status != 200:
                failures.append(str(status))
            mine.append(time.monotonic() - t0)
            if not keep:
                conn.close()
                conn = RawClient(host, port, request)
        conn.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    if failures:
        raise SystemExit(f"{url}: {len(failures)} failed requests ({failures[:3]})")
    every = sorted(x for mine in latencies for x in mine)

    def pct(p: float) -> float:
        return round(every[min(len(every) - 1, int(len(every) * p))] * 1000, 2)

    completed = len(every) - len(stalled)
    print(json.dumps({"rps": round(completed / elapsed, 1), "p50_ms": pct(0.50),
                      "p99_ms": pct(0.99), "stalled": len(stalled), "requests": completed}))


def cpu_seconds(basedir: Path) -> float:
    """User + system CPU time the master's process has used so far."""
    pid = int((basedir / "twistd.pid").read_text())
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(master: Master, url: str, args: argparse.Namespace) -> dict[str, float]:
    """`load` of `url`, with the master's CPU time per request: on a shared machine,
    requests/s follow the other processes' load, CPU milliseconds per request much less."""
    before = cpu_seconds(master.basedir)
    result = load(url, args.clients, args.seconds, args.accept)
    used = cpu_seconds(master.basedir) - before
    result["cpu_ms_per_req"] = round(used * 1000 / max(1, result["requests"]), 3)
    return result


def rss_mb(basedir: Path) -> float:
    pid = int((basedir / "twistd.pid").read_text())
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Master:
    """A master created, filled and started in a temporary directory; `stop()` removes it."""

    def __init__(self, bb: list[str], args: argparse.Namespace) -> None:
        self.bb, self.tmp = bb, tempfile.mkdtemp()
        self.basedir = Path(self.tmp) / "master"
        run(bb + ["create-master", "-q", "--db", "sqlite:///state.sqlite", str(self.basedir)])
        fill(self.basedir / "state.sqlite", args.builders, args.builds, args.steps)
        www = free_port()
        (self.basedir / "master.cfg").write_text(CFG.format(builders=args.builders,
                                                            pb=free_port(), www=www))
        self.api = f"http://127.0.0.1:{www}/api/v2/"
        run(bb + ["start", "--start_timeout=600", str(self.basedir)])

    def url(self, path: str, args: argparse.Namespace) -> str:
        url = self.api + path.format(builderid=1, buildid=args.builds // 2)
        with urllib.request.urlopen(url) as resp:  # check it and warm caches
            body = json.loads(resp.read())
            assert body["meta"]["total"] > 0, (url, body)
        return url

    def stop(self) -> None:
        run(self.bb + ["stop", str(self.basedir)], check=False)
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((self.basedir / "twistd.pid").read_text()), signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The figures of each measure's median over the rounds."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("refvenv", nargs="?", help="Buildbot 4.3's virtualenv (e.g. /work/refvenv)")
    ap.add_argument("--builders", type=int, default=10)
    ap.add_argument("--builds", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=4, help="per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--accept", default="application/json",
                    help="Accept header ('' for none: both masters then indent the JSON)")
    args = ap.parse_args()
    masters = {"ours": Master([sys.executable, "-m", "buildbot.scripts.runner"], args)}
    try:
        if args.refvenv:
            masters["buildbot_4_3"] = Master([str(Path(args.refvenv) / "bin" / "buildbot")],
                                             args)
        for path in PATHS.values():
            urls = {name: m.url(path, args) for name, m in masters.items()}
            for url in urls.values():
                load(url, args.clients, 2, args.accept)  # warm-up
            # Rounds alternate between the masters, so that both see the same share of a
            # machine whose load varies.
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in masters}
            for _ in range(args.rounds):
                for name, url in urls.items():
                    runs[name].append(measured(masters[name], url, args))
            row: dict[str, Any] = {"request": path, "clients": args.clients,
                                   "accept": args.accept, "builds": args.builds}
            row.update({name: median_run(r) for name, r in runs.items()})
            row["rps_rounds"] = {name: [r["rps"] for r in rs] for name, rs in runs.items()}
            if "buildbot_4_3" in row and row["buildbot_4_3"]["rps"]:
                row["rps_ratio"] = round(row["ours"]["rps"] / row["buildbot_4_3"]["rps"], 1)
                row["cpu_ratio"] = round(row["buildbot_4_3"]["cpu_ms_per_req"]
                                         / max(0.001, row["ours"]["cpu_ms_per_req"]), 1)
            print(json.dumps(row), flush=True)
        print(json.dumps({"rss_mb": {name: rss_mb(m.basedir) for name, m in masters.items()}}))
    finally:
        for m in masters.values():
            m.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--load"]:
        _load_process(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        main()
