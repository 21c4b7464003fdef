#!/usr/bin/env python3
"""Build throughput of a master, end to end, for this project or Buildbot 4.3.

Creates a master with N LocalWorkers and B builders of S trivial shell steps, starts it with
`buildbot start`, forces a batch of builds through the REST API (JSON-RPC), and times until
every buildset is complete. Also times a few REST reads on the resulting data.

    # this project (from a checkout)
    python benchmarks/build_throughput.py --buildbot "python -m buildbot.scripts.runner"
    # Buildbot 4.3 in its own virtualenv
    python benchmarks/build_throughput.py --buildbot /path/to/refvenv/bin/buildbot

Prints one JSON object with the figures. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [{make_worker}('w{{}}'.format(i)) for i in range({workers})]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
names = ['b{{}}'.format(i) for i in range({builders})]
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=names)]
c['builders'] = [util.BuilderConfig(
    name=n, workernames=['w{{}}'.format(i) for i in range({workers})],
    factory=util.BuildFactory([steps.ShellCommand(command=['true'], name='s{{}}'.format(j))
                               for j in range({steps})]))
    for n in names]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': {db_url!r}}}
c['collapseRequests'] = False
c['buildbotNetUsageData'] = None
{extra}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], **kw: object) -> str:
    env = dict(os.environ)
    if "buildbot.scripts.runner" in cmd:  # this project, run from the checkout
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)  # type: ignore[call-overload]  # kw: run's options
    if out.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{out.stdout}\n{out.stderr}")
    return str(out.stdout)


def http(url: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mq_events(www: int) -> int:
    """Build and step messages the master has produced so far (this project's /metrics)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{www}/metrics", timeout=60) as resp:
        text = resp.read().decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(('buildbot_mq_messages_total{kind="builds"}',
                                       'buildbot_mq_messages_total{kind="steps"}'))))


def wait_until(what: str, check: object, timeout: float) -> float:
    start = time.monotonic()
    while True:
        if check():  # type: ignore[operator]  # a callable
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--buildbot", default=f"{sys.executable} -m buildbot.scripts.runner")
    ap.add_argument("--builds", type=int, default=200)
    ap.add_argument("--builders", type=int, default=10)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--db-url", default="sqlite:///state.sqlite")
    ap.add_argument("--clients", type=int, default=8, help="concurrent force requests")
    ap.add_argument("--metrics", action="store_true",
                    help="enable c['www']['metrics'] and scrape /metrics every second "
                         "during the builds (this project only; measures its overhead)")
    ap.add_argument("--ws-subscribers", type=int, default=0,
                    help="N WebSocket clients subscribed to all build and step events "
                         "during the builds (benchmarks/ws_subscribers.py); reports the "
                         "events each received")
    ap.add_argument("--worker-processes", metavar="BUILDBOT_WORKER",
                    help="run the workers as processes of this `buildbot-worker` command "
                         "(e.g. .venv/bin/buildbot-worker) connected over PB, instead of "
                         "LocalWorkers: the master's CPU then excludes the workers' (a "
                         "LocalWorker runs inside the master and forks every step from it)")
    args = ap.parse_args()

    bb = shlex.split(args.buildbot)
    result: dict[str, object] = {"buildbot": args.buildbot, "builds": args.builds,
                                 "builders": args.builders, "workers": args.workers,
                                 "steps": args.steps, "db_url": args.db_url}
    with tempfile.TemporaryDirectory() as tmp:
        basedir = Path(tmp) / "master"
        run(bb + ["create-master", "-q", "--db", args.db_url, str(basedir)])
        www, pb = free_port(), free_port()
        make_worker = ("(lambda name: worker.Worker(name, 'pass'))" if args.worker_processes
                       else "worker.LocalWorker")
        result["worker_processes"] = bool(args.worker_processes)
        (basedir / "master.cfg").write_text(textwrap.dedent(CFG.format(
            workers=args.workers, builders=args.builders, steps=args.steps, pb=pb,
            www=www, db_url=args.db_url, make_worker=make_worker,
            extra="c['www']['metrics'] = True" if args.metrics else "")))
        t0 = time.monotonic()
        worker_dirs: list[Path] = []
        try:
            # inside the try: a start that `buildbot start` gives up waiting for (a busy
            # machine) may still have left a running master behind, which `stop` ends
            run(bb + ["start", str(basedir)])
            result["start_s"] = round(time.monotonic() - t0, 2)
            api = f"http://127.0.0.1:{www}/api/v2"
            if args.worker_processes:
                wbin = shlex.split(args.worker_processes)
                for i in range(args.workers):
                    wdir = Path(tmp) / f"w{i}"
                    run(wbin + ["create-worker", "-q", str(wdir), f"127.0.0.1:{pb}", f"w{i}",
                                "pass"])
                    run(wbin + ["start", str(wdir)])
                    worker_dirs.append(wdir)
            wait_until("workers", lambda: len([
                w for w in http(f"{api}/workers")["workers"]  # type: ignore[index]  # JSON
                if w["connected_to"]]) == args.workers, 60)

            def force(i: int) -> object:
                return http(f"{api}/forceschedulers/force", {
                    "jsonrpc": "2.0", "method": "force", "id": i,
                    "params": {"builderNames": [f"b{i % args.builders}"]}})

            pid = int((basedir / "twistd.pid").read_text())
            subscribers = None
            if args.ws_subscribers:
                subscribers = subprocess.Popen(
                    [sys.executable, str(REPO / "benchmarks" / "ws_subscribers.py"),
                     f"ws://127.0.0.1:{www}/ws", str(args.ws_subscribers)],
                    stdout=subprocess.PIPE, text=True)
                assert subscribers.stdout is not None
                if subscribers.stdout.readline().strip() != "ready":
                    raise SystemExit("WebSocket subscribers did not start")
            mq0 = mq_events(www) if args.metrics else 0
            cpu0 = process_cpu_s(pid)
            t0 = time.monotonic()
            with ThreadPoolExecutor(args.clients) as ex:
                list(ex.map(force, range(args.builds)))
            submitted = time.monotonic() - t0
            scrapes = [0]

            def all_complete() -> bool:
                if args.metrics and time.monotonic() - t0 > scrapes[0]:
                    with urllib.request.urlopen(f"http://127.0.0.1:{www}/metrics") as resp:
                        resp.read()
                    scrapes[0] += 1
                # limit=1 (applied in SQL): only "is any left?" matters; reading every pending buildset
                # 20 times a second would charge the master for the benchmark's polling
                data = http(f"{api}/buildsets?complete=false&field=bsid&field=complete&limit=1")
                return not data["buildsets"]  # type: ignore[index]  # JSON

            wait_until("builds", all_complete, 1800)
            elapsed = time.monotonic() - t0
            # the master's own CPU (LocalWorkers included) per build: unlike builds/s,
            # barely moved by whatever else the machine is doing
            result["master_cpu_ms_per_build"] = round(
                (process_cpu_s(pid) - cpu0) / args.builds * 1000, 2)
            if args.metrics:
                result["metrics_scrapes"] = scrapes[0]
            if subscribers is not None:
                # every client must have every event: compare with the events the master
                # announced (each build: new, started?, finished; steps likewise)
                time.sleep(2)  # let the last frames reach the clients
                subscribers.send_signal(2)
                out, _ = subscribers.communicate(timeout=120)
                counts = json.loads(out.strip().splitlines()[-1])
                result["ws_subscribers"] = len(counts)
                result["ws_events_min"], result["ws_events_max"] = min(counts), max(counts)
                if args.metrics:  # what the master announced (this project's /metrics)
                    result["mq_build_and_step_events"] = mq_events(www) - mq0
            result["submit_s"] = round(submitted, 2)
            result["total_s"] = round(elapsed, 2)
            result["builds_per_s"] = round(args.builds / elapsed, 2)
            ok = http(f"{api}/builds?results=0&field=buildid&field=results")["builds"]  # type: ignore[index]  # JSON
            result["successful_builds"] = len(ok)

            def timed(path: str, n: int = 20) -> float:
                t = time.monotonic()
                for _ in range(n):
                    http(f"{api}/{path}")
                return round((time.monotonic() - t) / n * 1000, 2)

            result["ms_get_builds_page"] = timed("builds?order=-buildid&limit=50")
            result["ms_get_all_builds"] = timed("builds", 5)
            result["ms_get_steps_of_build"] = timed("builds/1/steps")
            result["ms_get_log_contents"] = timed("logs/1/contents")
        finally:
            for wdir in worker_dirs:
                run(shlex.split(args.worker_processes) + ["stop", str(wdir)])
            run(bb + ["stop", str(basedir)])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
