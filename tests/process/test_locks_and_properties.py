"""Locks at build and step level, and property precedence, in real builds (LocalWorker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from twisted.internet import defer

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.buildstep import BuildStep
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message


async def force_all(master: Any, names: list[str]) -> list[int]:
    bsids = []
    for name in names:
        bsid, _ = await master.data.control("force", {"builderNames": [name], "owner": "t"},
                                            ("forceschedulers", "force"))
        bsids.append(bsid)
    return bsids


async def wait_complete(master: Any, count: int) -> None:
    seen: list[Any] = []

    def check(key: Any, body: Any) -> bool:
        seen.append(body)
        return len(seen) >= count

    await wait_for_message(master, ("buildsets", None, "complete"), check)


def overlaps(spans: list[tuple[int, int]]) -> bool:
    spans = sorted(spans)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


def marker_step(name: str) -> Any:
    # Records wall-clock start/end in the worker directory; sleeping a little makes overlap
    # observable if the lock did not serialise the builds.
    return steps.ShellCommand(
        command=f"date +%s%N > {name}.start; sleep 0.3; date +%s%N > {name}.end; "
                f"cat {name}.start {name}.end", name="work")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_exclusive_master_lock_serialises_builds_of_two_builders(tmp_path: Path) -> None:
    lock = util.MasterLock("deploy")
    cfg = {
        "workers": [worker.LocalWorker("a"), worker.LocalWorker("b")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["x", "y"])],
        "builders": [
            util.BuilderConfig(name="x", workernames=["a"], locks=[lock.access("exclusive")],
                               factory=util.BuildFactory([marker_step("x")])),
            util.BuilderConfig(name="y", workernames=["b"], locks=[lock.access("exclusive")],
                               factory=util.BuildFactory([marker_step("y")])),
        ],
    }
    async with running_master(tmp_path, cfg) as master:
        done = wait_complete(master, 2)
        await force_all(master, ["x", "y"])
        await done
        spans = []
        for build in await master.data.get(("builds",)):
            assert build["results"] == SUCCESS
            stepl = await master.data.get(("builds", build["buildid"], "steps"))
            work = [s for s in stepl if s["name"] == "work"][0]
            logs = await master.data.get(("steps", work["stepid"], "logs"))
            content = (await master.data.get(("logs", logs[0]["logid"], "contents")))["content"]
            times = [int(line[1:]) for line in content.splitlines() if line.startswith("o")]
            spans.append((times[0], times[1]))
            assert [s["name"] for s in stepl] == ["worker_preparation", "locks_acquire", "work"]
        assert not overlaps(spans)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_counting_step_lock_allows_max_count_holders(tmp_path: Path) -> None:
    lock = util.MasterLock("pool", maxCount=2)
    names = ["p", "q", "r"]
    pool = HolderPool(len(names))
    cfg = {
        "workers": [worker.LocalWorker(f"w{n}") for n in names],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=names)],
        "builders": [util.BuilderConfig(
            name=n, workernames=[f"w{n}"],
            factory=util.BuildFactory([Hold(pool, name="work", locks=[lock.access("counting")])]))
            for n in names],
    }
    async with running_master(tmp_path, cfg) as master:
        done = wait_complete(master, 3)
        await force_all(master, names)
        await done
        results = [b["results"] for b in await master.data.get(("builds",))]
        assert results == [SUCCESS] * 3
    # Two holders were inside together (the lock admits maxCount), never three.
    assert (pool.most, pool.blocked) == (2, 1)


class HolderPool:
    """Counts the holders of a lock. Nobody leaves until every one of `steps` is inside, was
    refused by the lock, or has left: so each step meets the lock while the holders are
    still in, whatever the timing, and `most` is how many the lock let in together."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.inside = self.blocked = self.left = self.most = 0
        self.waiters: list[defer.Deferred[None]] = []

    def changed(self) -> None:
        if self.inside + self.blocked + self.left >= self.steps:
            waiters, self.waiters = self.waiters, []
            for d in waiters:
                d.callback(None)

    async def hold(self) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        d: defer.Deferred[None] = defer.Deferred()
        self.waiters.append(d)
        self.changed()
        await d
        self.inside -= 1
        self.left += 1


class Hold(BuildStep):
    def __init__(self, pool: HolderPool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool = pool

    async def _acquire_locks(self, lock_list: list[Any]) -> bool:
        if not all(real.isAvailable(self, access) for real, access in lock_list):
            self.pool.blocked += 1
            self.pool.changed()
        return await super()._acquire_locks(lock_list)

    async def run(self) -> int:
        await self.pool.hold()
        return SUCCESS


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_property_precedence_in_a_build(tmp_path: Path) -> None:
    cfg = {
        "properties": {"shared": "global", "g": "global"},
        "workers": [worker.LocalWorker("w", properties={"shared": "worker", "wk": 1},
                                       defaultProperties={"g": "worker-default"})],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(
            name="b", workernames=["w"], properties={"shared": "builder", "bk": 2},
            defaultProperties={"bd": "builder-default"},
            factory=util.BuildFactory([
                steps.ShellCommand(command=["echo", util.Interpolate(
                    "%(prop:shared)s %(prop:buildername)s %(prop:workername)s")]),
                steps.SetProperty(property="shared", value="step"),
            ]))],
    }
    async with running_master(tmp_path, cfg) as master:
        done = wait_complete(master, 1)
        await force_all(master, ["b"])
        await done
        build = (await master.data.get(("builds",)))[0]
        props = (await master.data.get(("builds", build["buildid"], "properties")))
        props = props[0] if isinstance(props, list) else props
        props = {k: list(v) for k, v in props.items()}
        assert props["shared"] == ["step", "SetProperty"]
        assert props["g"][0] == "global"
        assert props["wk"] == [1, "Worker"] and props["bk"] == [2, "Builder"]
        assert props["bd"] == ["builder-default", "Builder"]
        assert props["buildername"] == ["b", "Builder"]
        assert props["workername"] == ["w", "Worker"]
        assert props["buildnumber"] == [1, "Build"]
        assert props["owner"] == ["t", "Force Build Form"]
        stepl = await master.data.get(("builds", build["buildid"], "steps"))
        logs = await master.data.get(("steps", stepl[1]["stepid"], "logs"))
        content = (await master.data.get(("logs", logs[0]["logid"], "contents")))["content"]
        assert "oworker b w\n" in content
