"""Triggerable (completion reported to the caller) and Dependent (state `upstream_bsids`)."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.interfaces import ITriggerableScheduler
from buildbot.process.properties import Properties
from buildbot.schedulers.basic import SingleBranchScheduler
from buildbot.schedulers.dependent import Dependent
from buildbot.schedulers.triggerable import Triggerable
from buildbot.util.results import FAILURE, SUCCESS, WARNINGS
from tests.fixtures.stack import Stack
from tests.schedulers.harness import buildsets, start, stop


@pytest_twisted.ensureDeferred
async def test_trigger_returns_ids_then_results_when_complete(stack: Stack) -> None:
    sched = await start(stack, Triggerable(name="t", builderNames=["b1", "b2"]))
    try:
        assert ITriggerableScheduler.providedBy(sched)
        props = Properties()
        props.setProperty("reason", "from parent", "Trigger")
        props.setProperty("x", 1, "Trigger")
        ids_d, results_d = sched.trigger(True, [{"codebase": "", "revision": "r1",
                                                 "branch": "main", "repository": "repo",
                                                 "project": ""}], props)
        bsid, brids = await ids_d
        assert not results_d.called
        bs = await stack.data.get(("buildsets", bsid))
        assert (bs["reason"], bs["complete"]) == ("from parent", False)
        await stack.updates.claimBuildRequests(list(brids.values()))
        await stack.updates.completeBuildRequests([brids[min(brids)]], SUCCESS)
        assert not results_d.called
        await stack.updates.completeBuildRequests([brids[max(brids)]], WARNINGS)
        assert await results_d == (WARNINGS, brids)
        assert sched._buildset_complete_consumer is None
        bsprops = await stack.data.get(("buildsets", bsid, "properties"))
        assert bsprops["x"] == (1, "Trigger")
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_trigger_of_a_buildset_that_completes_at_once(stack: Stack) -> None:
    # No builder of that name exists: the buildset completes while it is being added.
    sched = await start(stack, Triggerable(name="t", builderNames=["missing"]), builders=())
    try:
        ids_d, results_d = sched.trigger(False, [])
        bsid, brids = await ids_d
        assert brids == {}
        assert await results_d == (SUCCESS, {})
        bs = await stack.data.get(("buildsets", bsid))
        assert bs["reason"] == "The Triggerable scheduler named 't' triggered this build"
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_stopping_fails_the_pending_waiters(stack: Stack) -> None:
    sched = await start(stack, Triggerable(name="t", builderNames=["b1"], reason="mine"))
    ids_d, results_d = sched.trigger(True, [])
    await ids_d
    await stop(sched)
    with pytest.raises(RuntimeError, match="stopped before build was complete"):
        await results_d


@pytest_twisted.ensureDeferred
async def test_dependent_builds_after_upstream_success(stack: Stack) -> None:
    upstream = SingleBranchScheduler(name="up", builderNames=["b1"], branch="main")
    await start(stack, upstream)
    down = await start(stack, Dependent(name="down", upstream=upstream, builderNames=["b2"]),
                       builders=())
    try:
        await stack.make_change(revision="r1")
        await upstream.tasks.wait()
        await down.tasks.wait()
        (up_bs,) = await buildsets(stack)
        oid = await stack.updates.getObjectId("down", "buildbot.schedulers.dependent.Dependent")
        assert await stack.updates.getState(oid, "upstream_bsids") == [up_bs["bsid"]]
        brs = await stack.data.get(("buildrequests",))
        await stack.updates.claimBuildRequests([br["buildrequestid"] for br in brs])
        await stack.updates.completeBuildRequests([br["buildrequestid"] for br in brs],
                                                  SUCCESS)
        got = await buildsets(stack, down)
        assert [(b["reason"], b["ssids"]) for b in got] == [
            (got[0]["reason"], up_bs["ssids"]), ("downstream", up_bs["ssids"])]
        assert await stack.updates.getState(oid, "upstream_bsids") == []
    finally:
        await stop(down)
        await stop(upstream)


@pytest_twisted.ensureDeferred
async def test_dependent_ignores_failed_upstream(stack: Stack) -> None:
    upstream = SingleBranchScheduler(name="up", builderNames=["b1"], branch="main")
    await start(stack, upstream)
    down = await start(stack, Dependent(name="down", upstream=upstream, builderNames=["b2"]),
                       builders=())
    try:
        await stack.make_change(revision="r1")
        await upstream.tasks.wait()
        await down.tasks.wait()
        brs = await stack.data.get(("buildrequests",))
        await stack.updates.claimBuildRequests([br["buildrequestid"] for br in brs])
        await stack.updates.completeBuildRequests([br["buildrequestid"] for br in brs],
                                                  FAILURE)
        assert len(await buildsets(stack, down)) == 1
    finally:
        await stop(down)
        await stop(upstream)


@pytest_twisted.ensureDeferred
async def test_dependent_catches_up_on_completions_missed_while_stopped(stack: Stack) -> None:
    upstream = SingleBranchScheduler(name="up", builderNames=["b1"], branch="main")
    await start(stack, upstream)
    down = await start(stack, Dependent(name="down", upstream=upstream, builderNames=["b2"]),
                       builders=())
    await stack.make_change(revision="r1")
    await upstream.tasks.wait()
    await down.tasks.wait()
    await stop(down)
    brs = await stack.data.get(("buildrequests",))
    await stack.updates.claimBuildRequests([br["buildrequestid"] for br in brs])
    await stack.updates.completeBuildRequests([br["buildrequestid"] for br in brs], SUCCESS)
    down = await start(stack, Dependent(name="down", upstream=upstream, builderNames=["b2"]),
                       builders=())
    try:
        got = await buildsets(stack, down)
        assert [b["reason"] for b in got][-1] == "downstream"
    finally:
        await stop(down)
        await stop(upstream)


def test_dependent_needs_a_scheduler_upstream() -> None:
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        Dependent(name="d", upstream="up", builderNames=["b"])
    assert e.value.errors == ["upstream must be another Scheduler instance"]
