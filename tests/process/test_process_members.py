"""4.3's members of the process classes (botmaster, distributor, metrics, caches, file
writers, worker links) and the distributor's view of unclaimed requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.logger import globalLogPublisher

from buildbot import locks
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.botmaster import BotMaster
from buildbot.process.buildrequestdistributor import BasicBuildChooser, PendingRequests
from buildbot.process.cache import CacheManager
from buildbot.process.metrics import (
    MetricAlarmEvent,
    MetricCountEvent,
    MetricCountHandler,
    MetricLogObserver,
    MetricTimeEvent,
)
from buildbot.process.remotetransfer import FileWriter, StringFileWriter
from buildbot.process.workerforbuilder import States, WorkerForBuilder
from tests.fixtures.master import running_master


# --- metrics --------------------------------------------------------------------------------
def test_metric_observer_records_through_its_handlers_while_enabled() -> None:
    obs = MetricLogObserver()
    obs.enable()
    try:
        MetricCountEvent.log("n", 2)
        MetricCountEvent.log("n", 3)
        MetricTimeEvent.log("t", 1.0)
        MetricTimeEvent.log("t", 3.0)
        MetricAlarmEvent.log("a", msg="hot", level=1)
        obs.emit({"message": "not a metric"})
        assert obs.getHandler(MetricCountEvent).get("n") == 5
        assert obs.getHandler(MetricTimeEvent).get("t") == 2.0
        assert obs.getHandler(MetricAlarmEvent).get("a") == ("WARN", "hot")
    finally:
        obs.disable()
    MetricCountEvent.log("n", 10)
    assert obs.getHandler(MetricCountEvent).get("n") == 5  # disabled: not recorded


def test_registered_handler_replaces_the_old_one_and_its_watchers_run() -> None:
    obs = MetricLogObserver()
    seen: list[Any] = []

    class Counting(MetricCountHandler):
        def handle(self, eventDict: dict[str, Any], metric: Any) -> None:
            seen.append(metric.counter)

    class Watcher:
        def run(self) -> None:
            seen.append("watched")

    old = obs.registerHandler(MetricCountEvent, Counting(obs))
    assert isinstance(old, MetricCountHandler)
    obs.getHandler(MetricCountEvent).addWatcher(Watcher())
    obs.emit({"metric": MetricCountEvent("c")})
    assert seen == ["c", "watched"]


def test_report_logs_each_handler_line() -> None:
    obs = MetricLogObserver()
    obs.emit({"metric": MetricCountEvent("builds", 4)})
    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_format") == "{line}":
            lines.append(event["line"])

    globalLogPublisher.addObserver(observe)
    try:
        obs.report()
    finally:
        globalLogPublisher.removeObserver(observe)
    assert "builds: 4" in lines


# --- caches and file writers ---------------------------------------------------------------
def test_unnamed_cache_gets_the_default_size() -> None:
    assert CacheManager.DEFAULT_CACHE_SIZE == 1

    async def miss(key: Any) -> Any:
        return key

    assert CacheManager().get_cache("unnamed", miss).max_size == CacheManager.DEFAULT_CACHE_SIZE


def test_file_writers_refuse_to_unpack(tmp_path: Path) -> None:
    writer = FileWriter(str(tmp_path / "f"), None, None)
    with pytest.raises(NotImplementedError):
        writer.remote_unpack()
    writer.cancel()
    with pytest.raises(NotImplementedError):
        StringFileWriter().remote_unpack()


# --- botmaster -----------------------------------------------------------------------------
@pytest_twisted.ensureDeferred
async def test_lock_lookups_give_the_one_real_lock() -> None:
    bm = BotMaster()
    lock = locks.MasterLock("l", maxCount=2)
    real = await bm.getLockByID(lock, 1)
    assert real is await bm.getLockFromLockAccess(lock.access("exclusive"), 1)
    assert real is await bm.getLockFromLockAccess(lock, 1)  # a bare lock: default access
    pairs = list(await bm.getLockFromLockAccesses([lock.access("counting")], 1))
    assert [(r, a.mode) for r, a in pairs] == [(real, "counting")]
    assert real.maxCount == 2
    await bm.getLockByID(locks.MasterLock("l", maxCount=5), 2)  # a newer config wins
    assert real.maxCount == 5


def test_in_progress_request_keeps_the_reason_of_a_cancel() -> None:
    bm = BotMaster()
    bm.maybe_cancel_in_progress_buildrequest(7, "ignored: not in progress")
    assert bm.remove_in_progress_buildrequest(7) is None
    bm.add_in_progress_buildrequest(7)
    assert bm.remove_in_progress_buildrequest(7) is False
    bm.add_in_progress_buildrequest(8)
    bm.maybe_cancel_in_progress_buildrequest(8, "stop it")
    assert bm.remove_in_progress_buildrequest(8) == "stop it"
    assert BotMaster.debug == 0


def _config(**extra: Any) -> dict[str, Any]:
    cfg = {"workers": [worker.Worker("w1", "pw")],
           "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
           "builders": [util.BuilderConfig(
               name="b", workernames=["w1"], project="p",
               factory=util.BuildFactory([steps.ShellCommand(command=["true"])]))],
           "projects": [util.Project(name="p", slug="p-slug")],
           "codebases": [util.Codebase(name="cb", project="p", slug="cb-slug")]}
    cfg.update(extra)
    return cfg


@pytest_twisted.ensureDeferred
async def test_reconfig_stores_codebases_and_refuses_an_unknown_project(tmp_path: Path) -> None:
    async with running_master(tmp_path, _config()) as master:
        (project,) = await master.data.get(("projects",))
        found = await master.data.get(("projects", project["projectid"], "codebases", "cb"))
        assert found["slug"] == "cb-slug"

        class Config:
            codebases = [util.Codebase(name="x", project="nowhere")]

        with pytest.raises(RuntimeError, match="Could not find project nowhere"):
            await master.botmaster.reconfig_codebases(Config())
        await master.botmaster.reconfigProjects(master.config)
        await master.botmaster.reconfigServiceBuilders(master.config)
        assert master.botmaster.getBuildernames() == ["b"]


# --- distributor ---------------------------------------------------------------------------
def test_pending_requests_follow_the_events() -> None:
    index = PendingRequests()
    index.note("new", {"builderid": 1, "buildrequestid": 10, "priority": 0,
                       "submitted_at": 100})
    assert not index.has(1)  # not loaded: the first load reads the truth
    index.loaded = True
    index.note("new", {"builderid": 1, "buildrequestid": 10, "priority": 0,
                       "submitted_at": 100})
    index.note("new", {"builderid": 1, "buildrequestid": 11, "priority": 3,
                       "submitted_at": 200})
    assert index.key(1) == (3, 100)
    index.note("claimed", {"builderid": 1, "buildrequestid": 11, "claimed": True})
    assert index.key(1) == (0, 100)
    index.note("complete", {"builderid": 1, "buildrequestid": 10, "complete": True})
    assert not index.has(1) and index.key(1) is None
    index.note("unclaimed", {"builderid": 2, "buildrequestid": 12, "submitted_at": 50})
    assert index.key(2) == (0, 50)
    index.replace(2, [])
    assert not index.has(2)


@pytest_twisted.ensureDeferred
async def test_builder_without_a_free_worker_reads_nothing(tmp_path: Path) -> None:
    # The worker never connects: distribution must not read requests at all.
    async with running_master(tmp_path, _config()) as master:
        reads: list[Any] = []
        real_get = master.data.get

        async def counting_get(path: Any, *args: Any, **kwargs: Any) -> Any:
            if "buildrequests" in path:
                reads.append(path)
            return await real_get(path, *args, **kwargs)

        master.data.get = counting_get
        try:
            await master.data.control("force", {"builderNames": ["b"], "owner": "t"},
                                      ("forceschedulers", "force"))
            master.botmaster.maybeStartBuildsForAllBuilders()
            while master.botmaster.brd._activity is not None:
                await defer.succeed(None)
        finally:
            del master.data.get
        # (the collapse hook of the new request reads requests, the distributor does not)
        assert not any(p[0] == "builders" for p in reads), reads
        assert not master.botmaster.brd.pending_requests.loaded
        assert isinstance(master.botmaster.brd.createBuildChooser(
            master.botmaster.builders["b"], master), BasicBuildChooser)
        assert master.botmaster.brd.can_distribute


# --- worker links --------------------------------------------------------------------------
class _SilentConn:
    """A connection whose worker never answers a print (a hung worker)."""

    def __init__(self) -> None:
        self.lost = False

    def remotePrint(self, message: str) -> defer.Deferred[None]:
        return defer.Deferred()

    def loseConnection(self) -> None:
        self.lost = True


class _Worker:
    workername = "w"

    def __init__(self) -> None:
        self.conn = _SilentConn()


class _Builder:
    name = "b"


@pytest_twisted.ensureDeferred
async def test_aborted_ping_answers_false_and_keeps_the_connection() -> None:
    wfb = WorkerForBuilder(_Builder())
    wfb.worker = _Worker()
    wfb.state = States.AVAILABLE
    answer = defer.ensureDeferred(wfb.ping())
    assert not answer.called
    wfb.abortPingIfAny()
    assert await answer is False
    assert not wfb.worker.conn.lost
    wfb.abortPingIfAny()  # nothing running: nothing happens
    wfb.insubstantiate_if_needed()  # a connected worker has nothing to stop


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_claim_first_reads_further_when_the_urgent_requests_are_gone(
        tmp_path: Path) -> None:
    # One worker: the chooser reads 1 + SPARE_REQUESTS requests at a time; with more
    # pending than that, every one is still built, most urgent first.
    from buildbot.process.results import SUCCESS
    from tests.fixtures.master import wait_for_message

    cfg = _config(collapseRequests=False)
    cfg["workers"] = [worker.LocalWorker("w1")]
    count = BasicBuildChooser.SPARE_REQUESTS + 3
    async with running_master(tmp_path, cfg) as master:
        wid = (await master.data.get(("workers",)))[0]["workerid"]
        await master.data.control("pause", {"reason": "hold"}, ("workers", wid))
        seen: list[Any] = []

        def enough(key: Any, body: Any) -> bool:
            seen.append(body)
            return len(seen) >= count

        done = wait_for_message(master, ("buildsets", None, "complete"), enough)
        for prio in range(count):
            await master.data.control("force", {"builderNames": ["b"], "owner": "t",
                                                "priority": prio % 3},
                                      ("forceschedulers", "force"))
        await master.data.control("unpause", {}, ("workers", wid))
        await done
        builds = sorted(await master.data.get(("builds",)), key=lambda b: b["buildid"])
        assert [b["results"] for b in builds] == [SUCCESS] * count
        requests = {r["buildrequestid"]: r for r in await master.data.get(("buildrequests",))}
        prios = [requests[b["buildrequestid"]]["priority"] for b in builds]
        assert prios[0] == 2  # the first build is a most urgent one
