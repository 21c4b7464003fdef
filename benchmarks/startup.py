#!/usr/bin/env python3
"""Start-up and reconfig time of a master with many builders and workers, for this project
and Buildbot 4.3 (its virtualenv given as an argument), measured in the same run.

    python benchmarks/startup.py /work/refvenv [--builders 1000 4000] [--workers 200]
    python benchmarks/startup.py --no-reference --builders 1000 4000 10000

For each builder count: `buildbot create-master`, then the wall time of `buildbot start`
(it returns once the log says 'BuildMaster is running'), then of `buildbot reconfig` after
one builder's factory changed (it returns once the log says the update is complete), then
`buildbot stop`; `reconfig_in_master_s` is the time the master itself logs for the
reconfig (both versions log it), without the CLI's own start-up; `*_cpu_s` are CPU seconds
(of the CLI with the twistd launcher it waits for, and of the daemonized master up to the
end of `buildbot start`), steadier than wall times on a loaded machine. Every builder has a tag,
two of the workers and a 2-step factory; one ForceScheduler names every builder. Prints one
JSON line per builder count with both figures and the ratio. A script, not a test.

Both run from compiled bytecode, as installed packages do (pip compiles them): this
checkout's modules are compiled first into a cache outside it (PYTHONPYCACHEPREFIX), even
where PYTHONDONTWRITEBYTECODE is set. Without that, every process of ours compiled our
sources again, a second of a start and most of a reconfig.
"""

from __future__ import annotations

import argparse
import contextlib
import compileall
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Where this checkout's bytecode goes (set by main()).
PYCACHE: str | None = None

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker('w%d' % i, 'pw') for i in range({workers})]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
names = ['b%d' % i for i in range({builders})]
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=names)]
CHANGED = {changed!r}
def factory(n):
    cmd = ['echo', 'changed'] if n == CHANGED else ['true']
    return util.BuildFactory([steps.ShellCommand(command=cmd, name='s1'),
                              steps.ShellCommand(command=['true'], name='s2')])
c['builders'] = [util.BuilderConfig(
    name=n, workernames=['w%d' % (i % {workers}), 'w%d' % ((i + 1) % {workers})],
    tags=['t%d' % (i % 10)], factory=factory(n))
    for i, n in enumerate(names)]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['buildbotNetUsageData'] = None
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children_cpu() -> float:
    """CPU seconds of the finished processes we waited for, theirs included (the CLI and
    the twistd launcher it waits for: imports of the master happen there, before the fork)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def process_cpu(pid: int) -> float | None:
    """CPU seconds process `pid` has used so far (the daemonized master; Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(cmd: list[str], check: bool = True) -> float:
    env = dict(os.environ)
    if cmd[0] == sys.executable:  # this project, run from the checkout
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        if PYCACHE is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = PYCACHE
    t0 = time.monotonic()
    # Not from the current directory: `python -m` puts it first on sys.path, and a checkout
    # there would shadow REPO.
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         cwd=tempfile.gettempdir())
    took = time.monotonic() - t0
    if out.returncode != 0 and check:
        raise SystemExit(f"{cmd} failed:\n{out.stdout}\n{out.stderr}")
    return took


def measure(bb: list[str], builders: int, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        basedir = Path(tmp) / "master"
        run(bb + ["create-master", "-q", "--db", "sqlite:///state.sqlite", str(basedir)])
        ports = {"pb": free_port(), "www": free_port()}
        cfg = basedir / "master.cfg"
        cfg.write_text(CFG.format(builders=builders, workers=workers, changed="", **ports))
        cpu0 = children_cpu()
        result = {"start_s": round(run(bb + ["start", "--start_timeout=600", str(basedir)]), 2)}
        # CPU time, less sensitive than wall time to other processes' load: the CLI's (with
        # the twistd launcher's), then the daemon's, both up to the end of `buildbot start`.
        result["start_cli_cpu_s"] = round(children_cpu() - cpu0, 2)
        daemon_cpu = process_cpu(int((basedir / "twistd.pid").read_text()))
        if daemon_cpu is not None:
            result["start_master_cpu_s"] = round(daemon_cpu, 2)
        try:
            cfg.write_text(CFG.format(builders=builders, workers=workers,
                                      changed=f"b{builders // 2}", **ports))
            cpu0 = children_cpu()
            result["reconfig_s"] = round(run(bb + ["reconfig", "--progress_timeout=600", str(basedir)]), 2)
            result["reconfig_cli_cpu_s"] = round(children_cpu() - cpu0, 2)
            # The master's own figure (both log it), without the CLI's imports and polling.
            took = re.findall(r"configuration update complete \(took ([0-9.]+) seconds\)",
                              (basedir / "twistd.log").read_text())
            result["reconfig_in_master_s"] = float(took[-1])
        finally:
            stop(bb, basedir)
        return result


def stop(bb: list[str], basedir: Path) -> None:
    """`buildbot stop`; a master still there after it (4.3 waits 10 s only) is killed."""
    run(bb + ["stop", str(basedir)], check=False)
    with contextlib.suppress(OSError, ValueError):
        pid = int((basedir / "twistd.pid").read_text())
        os.kill(pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("refvenv", nargs="?", help="Buildbot 4.3's virtualenv (e.g. /work/refvenv)")
    ap.add_argument("--no-reference", action="store_true", help="measure this project only")
    ap.add_argument("--builders", type=int, nargs="+", default=[1000])
    ap.add_argument("--workers", type=int, default=200)
    args = ap.parse_args()
    global PYCACHE
    PYCACHE = os.environ.get("PYTHONPYCACHEPREFIX") or str(
        Path(tempfile.gettempdir()) / "buildbot-benchmark-pycache")
    sys.pycache_prefix = PYCACHE  # compileall writes where the measured processes will read
    compileall.compile_dir(REPO / "buildbot", quiet=1)
    ours = [sys.executable, "-m", "buildbot.scripts.runner"]
    for n in args.builders:
        row: dict[str, object] = {"builders": n, "workers": args.workers}
        row["ours"] = mine = measure(ours, n, args.workers)
        if args.refvenv and not args.no_reference:
            row["buildbot_4_3"] = ref = measure(
                [str(Path(args.refvenv) / "bin" / "buildbot")], n, args.workers)
            row["ratio"] = {k: round(ref[k] / mine[k], 1) for k in mine}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
