"""Rows per second of the database's hot writes: log chunk appends, addStep, build property
writes, finishing steps and builds — each awaited one after the other, as a master does.

    python benchmarks/db_inserts.py [--url URL ...] [--reference] [--scale N]

Default URLs: an SQLite file (WAL) in a temporary directory, and the PostgreSQL database
`BENCH_PG_URL` (default postgresql://postgres@127.0.0.1:5432/bb_bench, skipped if
unreachable). Its tables are dropped and recreated. With `--reference`, the same
operations also run through Buildbot 4.3.0's own db API (the virtualenv in `REFVENV`,
default /work/refvenv), in a subprocess. Not a test: prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LINES = "".join(f"oline {i} of ordinary build output, compiling foo/bar{i}.c\n" for i in range(2))


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


async def _timed(n: int, op: Callable[[int], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    for i in range(n):
        await op(i)
    return _rate(n, time.perf_counter() - start)


async def run_operations(db: Any, scale: int, ours: bool) -> dict[str, float]:
    """The measured operations on a connector `db` (ours or the reference's)."""
    masterid = await db.masters.findMasterId("bench:/master")
    builderid = await db.builders.findBuilderId("bench")
    workerid = await db.workers.findWorkerId("w1")
    ss = {"branch": "main", "revision": "r", "repository": "repo", "project": "p",
          "codebase": ""}
    _, brids = await db.buildsets.addBuildset(
        sourcestamps=[ss], reason="bench", properties={}, builderids=[builderid],
        waited_for=False)
    brid = brids[builderid]
    results: dict[str, float] = {}
    builds: list[int] = []

    async def add_build(i: int) -> None:
        buildid, _ = await db.builds.addBuild(builderid, brid, workerid, masterid, "created")
        builds.append(buildid)

    results["addBuild"] = await _timed(max(scale // 2, scale // 20 + 2), add_build)
    steps: list[int] = []

    async def add_step(i: int) -> None:
        stepid, _, _ = await db.steps.addStep(builds[i // 20], f"step{i % 20}", "pending")
        steps.append(stepid)

    results["addStep"] = await _timed(scale, add_step)
    logid = await db.logs.addLog(steps[0], "stdio", "stdio", "s")
    results["appendLog (2 lines)"] = await _timed(
        scale * 4, lambda i: db.logs.appendLog(logid, LINES))
    results["setBuildProperty"] = await _timed(
        scale, lambda i: db.builds.setBuildProperty(builds[0], f"prop{i}", i, "bench"))
    if ours:
        props = {f"p{j}": (j, "bench") for j in range(20)}
        batch = await _timed(scale // 20, lambda i: db.builds.set_build_properties(
            builds[1 + i % (len(builds) - 1)], props))
        results["set_build_properties (20 per call, rows/s)"] = batch * 20
    results["finishStep"] = await _timed(
        scale, lambda i: db.steps.finishStep(steps[i], 0, False))
    results["finishBuild"] = await _timed(
        len(builds), lambda i: db.builds.finishBuild(builds[i], 0))
    return results


def _drop_everything(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        names = sa.inspect(conn).get_table_names()
        if names:
            conn.exec_driver_sql("DROP TABLE " + ", ".join(names) + " CASCADE")
    engine.dispose()


async def bench_ours(url: str, scale: int) -> dict[str, float]:
    """Our connector on `url` (schema recreated)."""
    sys.path.insert(0, str(ROOT))
    from twisted.internet import reactor

    from buildbot.db.connector import DBConnector

    db = DBConnector(tempfile.gettempdir(), clock=reactor)
    kwargs = json.loads(os.environ.get("BENCH_ENGINE_KWARGS", "{}"))
    await db.setup(url, engine_kwargs=kwargs, check_version=False)
    try:
        await db.upgrade()
        return await run_operations(db, scale, ours=True)
    finally:
        await db.stop()


async def bench_reference(url: str, scale: int) -> dict[str, float]:
    """Buildbot 4.3.0's connector on `url` (run in the reference virtualenv)."""
    from buildbot.test.fake.fakemaster import FakeMaster
    from twisted.internet import reactor

    from buildbot.config.master import DBConfig
    from buildbot.db.connector import DBConnector

    # Importing buildbot.test turns warnings into errors; this is not a test run.
    warnings.resetwarnings()
    warnings.simplefilter("ignore")
    master = FakeMaster(reactor, basedir=tempfile.gettempdir())
    db = DBConnector(tempfile.gettempdir())
    db.configured_db_config = DBConfig(url, {})
    await db.set_master(master)
    master.db = db
    await db.setup(check_version=False)
    await db.model.upgrade()
    await db.startService()  # starts the log compression threads
    try:
        return await run_operations(db, scale, ours=False)
    finally:
        await db.stopService()


def _run_in_reactor(coro_fn: Callable[[], Awaitable[dict[str, float]]]) -> dict[str, float]:
    from twisted.internet import defer, task

    out: dict[str, float] = {}

    async def main(_reactor: Any) -> None:
        out.update(await coro_fn())

    task.react(lambda r: defer.ensureDeferred(main(r)))  # exits the process at the end
    return out


def _child(args: argparse.Namespace) -> None:
    """Run one benchmark and print its JSON result (subprocess entry point)."""
    from twisted.internet import defer, task

    fn = bench_reference if args.child == "reference" else bench_ours

    async def main(_reactor: Any) -> None:
        result = await fn(args.url[0], args.scale)
        print("RESULT " + json.dumps(result), flush=True)

    task.react(lambda r: defer.ensureDeferred(main(r)))


def _spawn(python: str, which: str, url: str, scale: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if which == "reference":
        drivers = Path(tempfile.mkdtemp()) / "drivers"
        drivers.mkdir()
        import psycopg2  # noqa: F401
        import pymysql

        site = Path(pymysql.__file__).parent.parent
        for name in ("psycopg2", "psycopg2_binary.libs", "pymysql"):
            if (site / name).exists():
                (drivers / name).symlink_to(site / name)
        env["PYTHONPATH"] = str(drivers)
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    out = subprocess.run([python, __file__, "--child", which, "--scale", str(scale), "--url",
                          url], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(),
                         check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise RuntimeError(f"{which} benchmark on {url} failed:\n{out.stdout}\n{out.stderr}")


def _reachable(url: str) -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.SQLAlchemyError:
        return False


def main() -> None:
    """Command line (see module docstring)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append")
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--child", choices=["ours", "reference"])
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    urls = args.url
    if not urls:
        tmp = Path(tempfile.mkdtemp())
        urls = [f"sqlite:///{tmp}/bench.sqlite"]
        pg = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/bb_bench")
        if _reachable(pg):
            urls.append(pg)
    refpython = str(Path(os.environ.get("REFVENV", "/work/refvenv")) / "bin" / "python")
    table: dict[str, dict[str, float]] = {}
    for url in urls:
        engine = url.split(":")[0].split("+")[0]
        runs = [("ours", sys.executable)] + ([("reference", refpython)] if args.reference else [])
        for which, python in runs:
            if url.startswith("sqlite:///"):
                Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
            else:
                _drop_everything(url)
            table[f"{engine} {which}"] = _spawn(python, which, url, args.scale)
    columns = list(table)
    ops = list(dict.fromkeys(op for res in table.values() for op in res))
    print("| operation (rows/s) | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for op in ops:
        cells = [f"{table[c][op]:,.0f}" if op in table[c] else "—" for c in columns]
        print(f"| {op} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
