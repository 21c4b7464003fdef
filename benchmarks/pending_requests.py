#!/usr/bin/env python3
"""Distribution over many pending build requests (issue 16 item 5).

One master in this process (the test fixture's, SQLite file database), `--builders`
builders, each served by `--workers-per-builder` of the `--workers` LocalWorkers (one build
at a time each), collapsing off. First run: `--pending`
requests are submitted (one buildset per `--builders` requests) while every worker is
paused, and the master stops. Second run, the figures, on the same database:

- `restart_s`: start of the master (reconfig of every builder, workers connecting)
  until it runs;
- `first_builds_s`: from then until every worker runs a build (the distributor
  starting builds at the rate the workers allow);
- `cpu_per_build_ms`: CPU time of the process (all threads) per build started while
  measuring (the whole build, not only its start: compare runs with few and many pending);
- `free_to_next_ms`: for each build that ends (its worker link freed), the time until
  that worker is handed its next request, over `--measure` builds; mean, median, p95, max.

Each build is one master-side step that waits `--step-s` seconds, so what is timed is the
distributor, not the workers. The same run with a few pending requests (`--pending 500`)
shows whether the figures depend on the number of requests. A script, not a test.

    python benchmarks/pending_requests.py --pending 25000 --builders 500 --workers 50
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from twisted.internet import defer, task  # noqa: E402

from buildbot.master import BuildMaster  # noqa: E402
from buildbot.plugins import schedulers, util, worker  # noqa: E402
from buildbot.process.builder import Builder  # noqa: E402
from buildbot.process.buildstep import BuildStep  # noqa: E402
from buildbot.process.results import SUCCESS  # noqa: E402
from buildbot.process.workerforbuilder import AbstractWorkerForBuilder  # noqa: E402
from tests.fixtures.master import DictLoader, running_master  # noqa: E402


class Wait(BuildStep):
    """A master-side step lasting `seconds` (± half, at random: builds end one by one, as
    they do in real life, not all in the same instant)."""

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds

    async def run(self) -> int:
        from twisted.internet import reactor
        await task.deferLater(reactor, self.seconds * random.uniform(0.5, 1.5))
        return SUCCESS


def config(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    names = [f"b{i}" for i in range(args.builders)]
    workers = [f"w{i}" for i in range(args.workers)]
    per = args.workers_per_builder
    return {
        # one build at a time per worker: "the rate workers allow"
        "workers": [worker.LocalWorker(w, max_builds=1) for w in workers],
        "builders": [util.BuilderConfig(name=n, workernames=[
                         workers[(i * per + k) % len(workers)] for k in range(per)],
                                        factory=util.BuildFactory([Wait(args.step_s)]))
                     for i, n in enumerate(names)],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=names)],
        "collapseRequests": False,
        "db": {"db_url": db_url},
    }


async def submit(master: Any, args: argparse.Namespace) -> None:
    updates = master.data.updates
    builderids = [master.botmaster.builders[f"b{i}"].builderid for i in range(args.builders)]
    for i in range(args.pending // args.builders):
        await updates.addBuildset(
            waited_for=False, scheduler="bench", reason=f"bench {i}",
            sourcestamps=[{"codebase": "", "repository": "r", "branch": "main",
                           "revision": None, "project": ""}],
            builderids=builderids)


def workers_of(master: Any) -> list[Any]:
    return [s for s in master.workers if hasattr(s, "workername")]


async def pause_all(master: Any) -> None:
    for w in workers_of(master):
        await defer.maybeDeferred(w.pause, "bench")


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from twisted.internet import reactor
    tmp = Path(tempfile.mkdtemp(prefix="bbpending-"))
    db_file = tmp / "state.sqlite"
    db_url = f"sqlite:///{db_file}"
    cached = None
    if args.db_cache:
        cached = Path(args.db_cache) / (f"pending{args.pending}-b{args.builders}-w{args.workers}"
                                        f"-p{args.workers_per_builder}.sqlite")
    t0 = time.monotonic()
    if cached is not None and cached.exists():
        (tmp / "m1").mkdir()
        shutil.copyfile(cached, db_file)
    else:
        async with running_master(tmp / "m1", config(args, db_url)) as master:
            await pause_all(master)
            await submit(master, args)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(db_file, cached)
    fill_s = time.monotonic() - t0

    freed: dict[str, float] = {}
    latencies: list[float] = []
    started: list[float] = []
    done = defer.Deferred()
    orig_finished = AbstractWorkerForBuilder.buildFinished
    orig_start = Builder.maybeStartBuild

    def build_finished(self: Any) -> None:
        if self.worker is not None:
            freed[self.worker.workername] = time.monotonic()
        orig_finished(self)

    async def maybe_start(self: Any, wfb: Any, breqs: list[Any]) -> bool:
        now = time.monotonic()
        name = wfb.worker.workername
        if name in freed:
            latencies.append(now - freed.pop(name))
            if len(latencies) >= args.measure and not done.called:
                done.callback(None)
        started.append(now)
        return await orig_start(self, wfb, breqs)

    AbstractWorkerForBuilder.buildFinished = build_finished  # type: ignore[method-assign]  # instrumented, undone after
    Builder.maybeStartBuild = maybe_start  # type: ignore[method-assign]  # instrumented, undone after
    try:
        cfg = config(args, db_url)
        cfg.update(buildbotNetUsageData=None, protocols={"null": {}})
        master = BuildMaster(str(tmp / "m1"), reactor=reactor,
                             config_loader=DictLoader(lambda: dict(cfg)))
        t1 = time.monotonic()
        await master.startService()
        restart_s = time.monotonic() - t1
        try:
            for w in workers_of(master):
                w.unpause()
            t2 = time.monotonic()
            while len(started) < args.workers:
                await task.deferLater(reactor, 0.005)
            first_builds_s = time.monotonic() - t2
            profiler = None
            cpu0, starts0 = time.process_time(), len(started)
            if args.profile:
                import pyinstrument
                profiler = pyinstrument.Profiler(interval=0.001, async_mode="disabled")
                profiler.start()
            timeout = reactor.callLater(600, lambda: done.called or done.errback(
                RuntimeError("timed out")))
            await done
            if timeout.active():
                timeout.cancel()
            cpu_per_build_ms = (time.process_time() - cpu0) * 1000 / max(1, len(started) - starts0)
            if profiler is not None:
                profiler.stop()
                Path(args.profile).write_text(profiler.output_text(show_all=False))
            for w in workers_of(master):
                await defer.maybeDeferred(w.pause, "bench")
        finally:
            await defer.maybeDeferred(master.stopService)
    finally:
        AbstractWorkerForBuilder.buildFinished = orig_finished  # type: ignore[method-assign]  # undoes the instrumentation
        Builder.maybeStartBuild = orig_start  # type: ignore[method-assign]  # undoes the instrumentation
    ms = sorted(x * 1000 for x in latencies)
    return {"pending": args.pending, "builders": args.builders, "workers": args.workers,
            "workers_per_builder": args.workers_per_builder,
            "fill_s": round(fill_s, 1), "restart_s": round(restart_s, 2),
            "first_builds_s": round(first_builds_s, 2),
            "cpu_per_build_ms": round(cpu_per_build_ms, 1),
            "free_to_next_ms": {"n": len(ms), "mean": round(statistics.mean(ms), 1),
                                "median": round(statistics.median(ms), 1),
                                "p95": round(ms[int(len(ms) * 0.95) - 1], 1),
                                "max": round(ms[-1], 1)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pending", type=int, default=25000)
    ap.add_argument("--builders", type=int, default=500)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--workers-per-builder", type=int, default=5)
    ap.add_argument("--step-s", type=float, default=0.5)
    ap.add_argument("--profile", help="write a pyinstrument profile of the measured part here")
    ap.add_argument("--measure", type=int, default=300, help="freed workers to time")
    ap.add_argument("--db-cache", help="keep the filled database in this directory and start "
                    "from a copy of it in later runs with the same figures (skips the fill)")
    args = ap.parse_args()
    from twisted.internet import reactor

    result: dict[str, Any] = {}

    async def run() -> None:
        try:
            result.update(await measure(args))
        finally:
            reactor.stop()

    reactor.callWhenRunning(lambda: defer.ensureDeferred(run()))
    reactor.run()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
