"""Time of the read paths that carry times: data API getters, their REST encoding, db
model reads and mq bodies encoded for WebSocket clients — in one process, no HTTP.

    python benchmarks/data_reads.py [--builds N] [--steps S] [--repeat R]

Fills an SQLite file (WAL) through the data API's update methods with N finished builds
of S steps each, then times each read R times and prints, as JSON, the fastest and the
median run in milliseconds, wall and CPU time. On a shared machine compare the fastest
CPU times of runs made one after the other. A script,
not a test; it uses only names that exist before and after the datetime change of #12,
so the same file measures both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.internet import defer, task

from buildbot.config.master import MasterConfig
from buildbot.data.connector import DataConnector
from buildbot.db.connector import DBConnector
from buildbot.mq.simple import SimpleMQ
from buildbot.www.encoding import envelope_chunks, json_default


class Master:
    """What the data connector needs: db, mq, reactor, masterid, config."""

    def __init__(self, db: DBConnector, reactor: Any) -> None:
        self.db, self.mq, self.reactor = db, SimpleMQ(), reactor
        self.master = self
        self.config = MasterConfig()
        self.masterid: int | None = None
        self.data = DataConnector(self)


async def fill(master: Master, builds: int, steps: int) -> list[int]:
    u = master.data.updates
    master.masterid = master.db.masterid = await u.findMasterId("bench:/master")
    await u.masterActive("bench:/master", master.masterid)
    builderid = await u.findBuilderId("b")
    workerid = await u.findWorkerId("w")
    ss = {"codebase": "", "repository": "r", "branch": "main", "revision": "1", "project": ""}
    buildids = []
    for _ in range(builds):
        _, brids = await u.addBuildset(waited_for=False, sourcestamps=[ss], reason="bench",
                                       properties={}, builderids=[builderid])
        await u.claimBuildRequests([brids[builderid]])
        buildid, _ = await u.addBuild(builderid, brids[builderid], workerid)
        for j in range(steps):
            stepid, _, _ = await u.addStep(buildid, f"s{j}")
            await u.startStep(stepid)
            await u.finishStep(stepid, 0, False)
        await u.finishBuild(buildid, 0)
        await u.completeBuildRequests([brids[builderid]], 0)
        buildids.append(buildid)
    return buildids


async def timed(repeat: int, op: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Wall time and CPU time (of the whole process: the DB thread included) per run; the
    CPU time varies less on a loaded machine."""
    runs, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        await op()
        cpu.append((time.process_time() - start_cpu) * 1000)
        runs.append((time.perf_counter() - start) * 1000)
    return {"min_ms": round(min(runs), 3), "median_ms": round(statistics.median(runs), 3),
            "min_cpu_ms": round(min(cpu), 3), "median_cpu_ms": round(statistics.median(cpu), 3)}


def rest_body(plural: str, items: list[Any]) -> str:
    """The REST encoding of a collection, as `GET /api/v2/<plural>` sends it."""
    return "".join(envelope_chunks(plural, items, {"total": len(items)}, True))


async def measure(reactor: Any, args: argparse.Namespace) -> dict[str, Any]:
    basedir = tempfile.mkdtemp()
    db = DBConnector(basedir, clock=reactor)
    await db.setup(f"sqlite:///{basedir}/state.sqlite", check_version=False)
    await db.upgrade()
    await db.startService()
    master = Master(db, reactor)
    try:
        buildids = await fill(master, args.builds, args.steps)
        data = master.data
        r = args.repeat
        out: dict[str, Any] = {"builds": args.builds, "steps": args.steps}

        async def all_builds_rest() -> None:
            rest_body("builds", await data.get(("builds",)))

        async def page_rest() -> None:
            rest_body("builds", await data.get(("builds",), order=["-buildid"], limit=50))

        async def steps_rest() -> None:
            rest_body("steps", await data.get(("builds", buildids[0], "steps")))

        async def buildrequests_rest() -> None:
            rest_body("buildrequests", await data.get(("buildrequests",)))

        all_builds = await data.get(("builds",))
        all_brs = await data.get(("buildrequests",))

        async def encode_builds() -> None:
            rest_body("builds", all_builds)

        async def encode_ws() -> None:
            for b in all_builds:
                # as the WebSocket resource frames an event
                json.dumps({"k": "builds/1/finished", "m": b}, separators=(",", ":"),
                           default=json_default).encode()

        out["data.get /builds"] = await timed(r, lambda: data.get(("builds",)))
        out["data.get /buildrequests"] = await timed(r, lambda: data.get(("buildrequests",)))
        out["data.get /builds/1/steps"] = await timed(
            r, lambda: data.get(("builds", buildids[0], "steps")))
        out["REST /builds (get + encode)"] = await timed(r, all_builds_rest)
        out["REST /builds?order=-buildid&limit=50"] = await timed(r, page_rest)
        out["REST /builds/1/steps"] = await timed(r, steps_rest)
        out["REST /buildrequests"] = await timed(r, buildrequests_rest)
        out["encode /builds only"] = await timed(r, encode_builds)
        out["WebSocket encode, one message per build"] = await timed(r, encode_ws)
        out["db.builds.getBuilds"] = await timed(r, lambda: db.builds.getBuilds())
        out["db.buildrequests.getBuildRequests"] = await timed(
            r, lambda: db.buildrequests.getBuildRequests())
        out["buildrequests"] = len(all_brs)
        return out
    finally:
        await db.stopService()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builds", type=int, default=500)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()

    async def run(reactor: Any) -> None:
        print(json.dumps(await measure(reactor, args), indent=1))

    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))


if __name__ == "__main__":
    main()
