"""Build request distribution: collapsing, priorities and the user hooks (LocalWorker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SKIPPED, SUCCESS
from tests.fixtures.master import running_master, wait_for_message


def config(builders: list[str], **extra: Any) -> dict[str, Any]:
    builder_kwargs = extra.pop("builder_kwargs", {})
    cfg = {
        "workers": [worker.LocalWorker("w")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=builders)],
        "builders": [util.BuilderConfig(name=n, workernames=["w"],
                                        factory=util.BuildFactory(
                                            [steps.ShellCommand(command=["true"])]),
                                        **builder_kwargs)
                     for n in builders],
    }
    cfg.update(extra)
    return cfg


async def pause(master: Any) -> None:
    wid = (await master.data.get(("workers",)))[0]["workerid"]
    await master.data.control("pause", {"reason": "hold"}, ("workers", wid))


async def unpause(master: Any) -> None:
    wid = (await master.data.get(("workers",)))[0]["workerid"]
    await master.data.control("unpause", {}, ("workers", wid))


async def force(master: Any, builder: str, **params: Any) -> int:
    bsid, _ = await master.data.control(
        "force", {"builderNames": [builder], "owner": "t", **params},
        ("forceschedulers", "force"))
    return int(bsid)


def collect(master: Any, count: int) -> Any:
    seen: list[Any] = []

    def check(key: Any, body: Any) -> bool:
        seen.append(body)
        return len(seen) >= count

    d = wait_for_message(master, ("buildsets", None, "complete"), check)
    d.addCallback(lambda _: seen)
    return d


async def build_order(master: Any) -> list[int]:
    builds = sorted(await master.data.get(("builds",)), key=lambda b: b["buildid"])
    return [b["buildrequestid"] for b in builds]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_pending_duplicates_collapse_into_the_newest(tmp_path: Path) -> None:
    async with running_master(tmp_path, config(["b"])) as master:
        await pause(master)
        done = collect(master, 3)
        for _ in range(3):
            await force(master, "b")
        await unpause(master)
        buildsets = await done
        # A buildset whose only request was collapsed (SKIPPED) counts as a success.
        assert [bs["results"] for bs in buildsets] == [SUCCESS] * 3
        requests = await master.data.get(("buildrequests",))
        assert [r["results"] for r in requests] == [SKIPPED, SKIPPED, SUCCESS]
        assert len(await master.data.get(("builds",))) == 1


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_collapsing_disabled_per_builder(tmp_path: Path) -> None:
    cfg = config(["b"], builder_kwargs={"collapseRequests": False})
    async with running_master(tmp_path, cfg) as master:
        await pause(master)
        done = collect(master, 3)
        for _ in range(3):
            await force(master, "b")
        await unpause(master)
        assert [bs["results"] for bs in await done] == [SUCCESS] * 3


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_collapse_callable_decides(tmp_path: Path) -> None:
    calls = []

    def never(master: Any, builder: Any, req1: Any, req2: Any) -> bool:
        calls.append((req1["buildrequestid"], req2["buildrequestid"]))
        return False

    async with running_master(tmp_path, config(["b"], collapseRequests=never)) as master:
        await pause(master)
        done = collect(master, 2)
        await force(master, "b")
        await force(master, "b")
        await unpause(master)
        assert [bs["results"] for bs in await done] == [SUCCESS, SUCCESS]
        assert calls == [(2, 1)]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_higher_priority_request_builds_first(tmp_path: Path) -> None:
    cfg = config(["b"], collapseRequests=False)
    async with running_master(tmp_path, cfg) as master:
        await pause(master)
        done = collect(master, 3)
        await force(master, "b", priority=0)
        await force(master, "b", priority=5)
        await force(master, "b", priority=1)
        await unpause(master)
        await done
        assert await build_order(master) == [2, 3, 1]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_next_build_and_prioritize_builders_hooks(tmp_path: Path) -> None:
    def oldest_last(builder: Any, requests: list[Any]) -> Any:
        return max(requests, key=lambda r: r.id)

    def reverse_names(master: Any, builders: list[Any]) -> list[Any]:
        return sorted(builders, key=lambda b: b.name, reverse=True)

    cfg = config(["a", "z"], collapseRequests=False, prioritizeBuilders=reverse_names,
                 builder_kwargs={"nextBuild": oldest_last})
    async with running_master(tmp_path, cfg) as master:
        await pause(master)
        done = collect(master, 4)
        await force(master, "a")
        await force(master, "a")
        await force(master, "z")
        await force(master, "z")
        await unpause(master)
        await done
        builds = sorted(await master.data.get(("builds",)), key=lambda b: b["buildid"])
        # One worker: builders in the prioritised order, newest request first in each.
        assert [b["buildrequestid"] for b in builds][:1] == [4]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_can_start_build_and_next_worker_hooks(tmp_path: Path) -> None:
    asked: list[str] = []

    def only_second(builder: Any, wfb: Any, request: Any) -> bool:
        asked.append(wfb.worker.name)
        return wfb.worker.name == "w2"

    def pick_first(builder: Any, workers: list[Any], request: Any) -> Any:
        return sorted(workers, key=lambda w: w.worker.name)[0]

    cfg = config(["b"], builder_kwargs={"canStartBuild": only_second, "nextWorker": pick_first})
    cfg["workers"] = [worker.LocalWorker("w1"), worker.LocalWorker("w2")]
    cfg["builders"][0].workernames = ["w1", "w2"]
    async with running_master(tmp_path, cfg) as master:
        done = collect(master, 1)
        await force(master, "b")
        await done
        (build,) = await master.data.get(("builds",))
        workers = {w["workerid"]: w["name"] for w in await master.data.get(("workers",))}
        assert workers[build["workerid"]] == "w2"
        assert asked[:2] == ["w1", "w2"]
