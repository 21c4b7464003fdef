#!/usr/bin/env python3
"""Multi-master soak: do the masters' check-ins hold over a long run on a busy machine?

Starts two masters (separate `buildbot start` processes) sharing one database with the
default heartbeat (`c['masterHeartbeat']`: check in every 5 s, expire after 30 s), each with
LocalWorkers, and forces a build on each master every few seconds for `--minutes`. At the end
it reports whether any master was ever expired (a false positive: both were alive all along),
whether any master found itself fenced, and whether every forced request was built exactly
once.

    python benchmarks/soak.py --minutes 30 --db-url sqlite:////tmp/soak.sqlite

Prints one JSON object. A script, not a test: run it beside other load to make it mean
something.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [worker.LocalWorker('{name}-w{{}}'.format(i)) for i in range(2)]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
c['schedulers'] = [schedulers.ForceScheduler(name='force-{name}', builderNames=['b-{name}'])]
c['builders'] = [util.BuilderConfig(
    name='b-{name}', workernames=['{name}-w0', '{name}-w1'],
    factory=util.BuildFactory([steps.ShellCommand(command=['sleep', '1'])]))]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': {db_url!r}}}
c['multiMaster'] = True
c['buildbotNetUsageData'] = None
"""

# What the masters log when the heartbeat judges a master dead or fenced (buildbot/master.py,
# buildbot/data/masters.py).
EXPIRED = "expired"
FENCED = "marked inactive by another master"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-m", "buildbot.scripts.runner", *args], env=env,
                   check=True, capture_output=True)


def http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{url}: {e.code} {e.read().decode(errors='replace')}") from e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--every", type=float, default=10, help="seconds between forced builds")
    ap.add_argument("--db-url", default=None, help="default: a SQLite file in a temp dir")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db_url or f"sqlite:///{tmp}/shared.sqlite"
        apis: dict[str, str] = {}
        basedirs: dict[str, Path] = {}
        forced = 0
        started = time.monotonic()
        try:
            for name in ("a", "b"):
                basedir = Path(tmp) / name
                cli("create-master", "-q", "--db", db_url, str(basedir))
                www = free_port()
                (basedir / "master.cfg").write_text(textwrap.dedent(CFG.format(
                    name=name, pb=free_port(), www=www, db_url=db_url)))
                basedirs[name] = basedir  # from here on, stopped in the end
                cli("start", str(basedir))
                apis[name] = f"http://127.0.0.1:{www}/api/v2"
            started = time.monotonic()
            while time.monotonic() - started < args.minutes * 60:
                for name, api in apis.items():
                    http(f"{api}/forceschedulers/force-{name}", {
                        "jsonrpc": "2.0", "method": "force", "id": forced,
                        "params": {"builderNames": [f"b-{name}"]}})
                    forced += 1
                time.sleep(args.every)  # pacing the load, not waiting for an event
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                pending = http(f"{apis['a']}/buildrequests?complete=false"
                               "&field=buildrequestid&field=complete")
                if not pending["buildrequests"]:
                    break
                time.sleep(1)
            builds = http(f"{apis['a']}/builds?field=buildrequestid&field=results")["builds"]
            masters = http(f"{apis['a']}/masters")["masters"]
        finally:
            for basedir in basedirs.values():
                cli("stop", str(basedir))
        logs = {name: (basedirs[name] / "twistd.log").read_text() for name in basedirs}
        per_request: dict[int, int] = {}
        for b in builds:
            per_request[b["buildrequestid"]] = per_request.get(b["buildrequestid"], 0) + 1
        print(json.dumps({
            "minutes": round((time.monotonic() - started) / 60, 1),
            "requests_forced": forced,
            "requests_built": len(per_request),
            "requests_built_twice": sum(1 for n in per_request.values() if n > 1),
            "builds_not_success": sum(1 for b in builds if b["results"] != 0),
            "masters_active_at_end": [m["name"] for m in masters if m["active"]],
            "expiry_lines": {n: log.count(EXPIRED) for n, log in logs.items()},
            "fenced_lines": {n: log.count(FENCED) for n, log in logs.items()},
        }))


if __name__ == "__main__":
    main()
