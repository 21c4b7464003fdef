#!/usr/bin/env python3
"""Log throughput of a master: lines stored per master CPU-second, and the database size.

A master (this project, or Buildbot 4.3 from the virtualenv given with --reference) with one
builder whose single `ShellCommand` prints N lines; the worker is a separate
`buildbot-worker` process (4.3.0's, the same program for both masters), so that the CPU
counted is the master's alone: receiving the output, cutting it into lines, redacting,
compressing, storing and announcing it. The clock and the CPU counter run from the force
request until the build is complete and its log finished.

    python benchmarks/log_throughput.py --lines 2000000 [--reference /work/refvenv]
    python benchmarks/log_throughput.py --subscribers 100   # with WebSocket clients

Prints one JSON object per master and, with --reference, the ratio. A script, not a test.
"""

from __future__ import annotations

import argparse
import http.client as http_client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_throughput import free_port, http, process_cpu_s, run, wait_until  # noqa: E402

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker('w0', 'pw')]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['b0'])]
c['builders'] = [util.BuilderConfig(name='b0', workernames=['w0'],
    factory=util.BuildFactory([steps.ShellCommand(name='print', command=[
        {python!r}, '-c',
        'import sys\\nw = sys.stdout.write\\n'
        'for i in range({lines}): w("compiling src/module_%d.c -O2 -Wall -o build/m.o\\\\n" % i)'
    ])]))]
c['www'] = {{'port': 'tcp:{www}:interface=127.0.0.1'}}
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['buildbotNetUsageData'] = None
{extra}
"""


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of each thread of `pid` over 0.05 s, by name (py-spy's thread
    names when py-spy is installed, else thread ids; Python 3.11 does not name OS threads)."""
    names: dict[str, str] = {}
    if shutil.which("py-spy"):
        out = subprocess.run(["py-spy", "dump", "--pid", str(pid), "--nonblocking"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Thread "):
                tid, _, rest = line[len("Thread "):].partition(" ")
                name = rest.split('"')[1] if '"' in rest else tid
                names[str(int(tid, 0))] = name
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if cpu >= 0.05:
            found[names.get(task.name, task.name)] = round(cpu, 2)
    return found


def counters(url: str) -> dict[str, float]:
    """This project's database transactions and log messages so far, from /metrics."""
    with urllib.request.urlopen(url, timeout=60) as resp:
        text = resp.read().decode()
    found: dict[str, float] = {"db_transactions": 0.0, "mq_log_messages": 0.0}
    for line in text.splitlines():
        if line.startswith("buildbot_db_transactions_total{"):
            found["db_transactions"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith('buildbot_mq_messages_total{kind="logs"}'):
            found["mq_log_messages"] += float(line.rsplit(" ", 1)[1])
    return found


def stop_master(bb: list[str], basedir: Path) -> None:
    """`buildbot stop`; 4.3's gives up after 10 s while a busy master is still stopping, so
    then wait for the process (which was started here) and end it if it does not go."""
    pid = int((basedir / "twistd.pid").read_text())
    if subprocess.run(bb + ["stop", str(basedir)], capture_output=True).returncode == 0:
        return
    for _ in range(600):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)
    os.kill(pid, 9)


def measure(venv: Path | None, lines: int, worker_bin: str,
            profile: Path | None = None, spy: Path | None = None,
            poll: float = 0.5, spy_gil: bool = False) -> dict[str, object]:
    if venv is None:
        bb = [sys.executable, "-m", "buildbot.scripts.runner"]
    else:
        bb = [str(venv / "bin" / "buildbot")]
    result: dict[str, object] = {"master": "this project" if venv is None else str(venv),
                                 "lines": lines}
    with tempfile.TemporaryDirectory() as tmp:
        basedir, wdir = Path(tmp) / "master", Path(tmp) / "worker"
        run(bb + ["create-master", "-q", str(basedir)])
        www, pb = free_port(), free_port()
        (basedir / "master.cfg").write_text(textwrap.dedent(CFG.format(
            pb=pb, www=www, lines=lines, python=sys.executable,
            # this project counts its transactions and messages (4.3 has no /metrics)
            extra="c['www']['metrics'] = True" if venv is None else "")))
        daemon = None
        if profile is None:
            run(bb + ["start", str(basedir)])
        else:  # in the foreground under cProfile; stats are written when it stops
            daemon = subprocess.Popen(
                [str(Path(sys.executable).parent / "twistd"), "--nodaemon", "--no_save",
                 "--pidfile", "twistd.pid", "--profiler=cprofile", "--savestats",
                 f"--profile={profile.resolve()}", "-y", "buildbot.tac"],
                cwd=basedir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_until("master", (basedir / "twistd.pid").exists, 60)
        run([worker_bin, "create-worker", "-q", str(wdir), f"127.0.0.1:{pb}", "w0", "pw"])
        run([worker_bin, "start", str(wdir)])
        api = f"http://127.0.0.1:{www}/api/v2"
        try:
            wait_until("worker", lambda: any(
                w["connected_to"] for w in http(f"{api}/workers")["workers"]), 60)  # type: ignore[index]  # JSON
            pid = int((basedir / "twistd.pid").read_text())
            sampler = None
            if spy is not None:  # every thread of the master, sampled (needs py-spy)
                sampler = subprocess.Popen(
                    ["py-spy", "record", "--pid", str(pid), "--rate", "250", "--threads",
                     "--nonblocking", "--format", "raw", "--output", str(spy.resolve())]
                    + (["--gil"] if spy_gil else []),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            metrics = f"http://127.0.0.1:{www}/metrics"
            before = counters(metrics) if venv is None else {}
            cpu0, t0 = process_cpu_s(pid), time.monotonic()
            http(f"{api}/forceschedulers/force", {
                "jsonrpc": "2.0", "method": "force", "id": 1,
                "params": {"builderNames": ["b0"]}})

            def done() -> bool:
                try:
                    builds = http(f"{api}/builds?field=complete")["builds"]  # type: ignore[index]  # JSON
                except (OSError, http_client.HTTPException):
                    return False  # 4.3 under load sometimes cuts a response short: ask again
                if not builds or not builds[0]["complete"]:
                    return False
                logs = http(f"{api}/builds/1/steps/print/logs")["logs"]  # type: ignore[index]  # JSON
                return all(lg["complete"] for lg in logs)

            # Not wait_until's 50 ms: each poll is two REST requests the master answers,
            # CPU that is not log work (an idle master: 2.4 ms of ours, 4.8 ms of 4.3's per poll).
            deadline = time.monotonic() + 3600
            while not done():
                if time.monotonic() > deadline:
                    raise SystemExit("timed out waiting for the build")
                time.sleep(poll)
            cpu = process_cpu_s(pid) - cpu0
            result["thread_cpu_s"] = thread_cpu(pid)
            if venv is None:
                result.update({k: v - before[k] for k, v in counters(metrics).items()})
            if sampler is not None:
                sampler.send_signal(2)  # py-spy writes its output on SIGINT
                sampler.wait()
            result["wall_s"] = round(time.monotonic() - t0, 2)
            result["master_cpu_s"] = round(cpu, 2)
            logs = http(f"{api}/builds/1/steps/print/logs")["logs"]  # type: ignore[index]  # JSON
            stored = max(lg["num_lines"] for lg in logs)
            result["stdio_lines"] = stored
            result["lines_per_cpu_s"] = round(stored / cpu)
        finally:
            subprocess.run([worker_bin, "stop", str(wdir)], capture_output=True)
            if daemon is None:
                stop_master(bb, basedir)
            else:
                daemon.terminate()
                daemon.wait()
        # stopped: the WAL is checkpointed into the file
        result["db_mb"] = round(sum(p.stat().st_size for p in basedir.glob("state.sqlite*"))
                                / 1e6, 2)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--reference", type=Path, default=None,
                    help="virtualenv of Buildbot 4.3 (e.g. /work/refvenv) to compare with")
    ap.add_argument("--worker", default=None,
                    help="buildbot-worker program (default: the reference's, else ours)")
    ap.add_argument("--profile", type=Path, default=None,
                    help="run this project's master under cProfile, stats to this file")
    ap.add_argument("--spy", type=Path, default=None,
                    help="sample this project's master with py-spy (all threads) into this "
                         "file (collapsed stacks)")
    ap.add_argument("--spy-gil", action="store_true",
                    help="with --spy, sample only the thread holding the GIL (where Python "
                         "code spends CPU; without it, threads waiting for the GIL count too)")
    ap.add_argument("--poll", type=float, default=0.5,
                    help="seconds between two checks whether the build is done (each check "
                         "is REST requests the master answers, counted in its CPU)")
    args = ap.parse_args()
    worker_bin = args.worker or str(
        (args.reference / "bin" / "buildbot-worker") if args.reference
        else shutil.which("buildbot-worker", path=str(Path(sys.executable).parent)))
    ours = measure(None, args.lines, worker_bin, args.profile, args.spy, args.poll,
                   args.spy_gil)
    print(json.dumps(ours), flush=True)
    if args.reference is not None:
        ref = measure(args.reference, args.lines, worker_bin, poll=args.poll)
        print(json.dumps(ref), flush=True)
        print(json.dumps({
            "lines_per_cpu_s_ratio": round(
                float(ours["lines_per_cpu_s"]) / float(ref["lines_per_cpu_s"]), 2),  # type: ignore[arg-type]  # JSON numbers
            "db_mb": [ours["db_mb"], ref["db_mb"]]}))


if __name__ == "__main__":
    main()
