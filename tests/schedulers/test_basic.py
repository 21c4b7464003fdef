"""SingleBranchScheduler and AnyBranchScheduler on the real data stack with a task.Clock."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.changes.filter import ChangeFilter
from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.schedulers.basic import AnyBranchScheduler, SingleBranchScheduler
from tests.fixtures.stack import Stack
from tests.schedulers.harness import buildsets, start, stop

REASON = "The SingleBranchScheduler scheduler named 'sbs' triggered this build"


@pytest_twisted.ensureDeferred
async def test_important_change_builds_at_once_without_timer(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(name="sbs", builderNames=["b1"],
                                                     branch="main"))
    try:
        await stack.make_change(branch="other", revision="r0")
        await stack.make_change(branch="main", revision="r1")
        got = await buildsets(stack, sched)
        assert [(b["reason"], b["revisions"]) for b in got] == [(REASON, ["r1"])]
        bs = (await stack.data.get(("buildsets",)))[0]
        assert bs["sourcestamps"][0]["branch"] == "main"
        props = await stack.data.get(("buildsets", bs["bsid"], "properties"))
        assert props == {"scheduler": ("sbs", "Scheduler"), "color": ("blue", "Change")}
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_tree_stable_timer_collects_changes_until_quiet(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(
        name="sbs", builderNames=["b1"], branch="main", treeStableTimer=60,
        fileIsImportant=lambda ch: "doc" not in ch.files))
    try:
        c1 = await stack.make_change(revision="r1")
        stack.clock.advance(50)
        c2 = await stack.make_change(revision="r2", files=["doc"])  # unimportant: delays
        stack.clock.advance(50)
        assert await buildsets(stack, sched) == []
        assert await stack.updates.getChangeClassifications(sched.serviceid) == {
            c1: True, c2: False}
        stack.clock.advance(10)
        await sched.tasks.wait()
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["r2"]]
        assert await stack.updates.getChangeClassifications(sched.serviceid) == {}
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_unimportant_change_alone_starts_no_timer(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(
        name="sbs", builderNames=["b1"], branch="main", treeStableTimer=60,
        fileIsImportant=lambda ch: False))
    try:
        await stack.make_change(revision="r1")
        stack.clock.advance(120)
        assert await buildsets(stack, sched) == []
        assert sched._stable_timers == {}
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_only_important_drops_unimportant_changes(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(
        name="sbs", builderNames=["b1"], branch="main", treeStableTimer=60,
        fileIsImportant=lambda ch: False, onlyImportant=True))
    try:
        await stack.make_change(revision="r1")
        assert await stack.updates.getChangeClassifications(sched.serviceid) == {}
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_classifications_survive_a_restart_and_the_timer_restarts(stack: Stack) -> None:
    def make() -> SingleBranchScheduler:
        return SingleBranchScheduler(name="sbs", builderNames=["b1"], branch="main",
                                     treeStableTimer=60)

    sched = await start(stack, make())
    await stack.make_change(revision="r1")
    await stop(sched)
    assert stack.clock.getDelayedCalls() == []

    sched = await start(stack, make(), builders=())
    try:
        assert len(sched._stable_timers) == 1
        stack.clock.advance(60)
        await sched.tasks.wait()
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["r1"]]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_without_timer_activation_forgets_stored_classifications(stack: Stack) -> None:
    sid = await stack.updates.findSchedulerId("sbs")
    c1 = await stack.make_change(revision="r1")
    await stack.updates.classifyChanges(sid, {c1: True})
    sched = await start(stack, SingleBranchScheduler(name="sbs", builderNames=["b1"],
                                                     branch="main"))
    try:
        assert await stack.updates.getChangeClassifications(sid) == {}
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_any_branch_keeps_one_timer_per_branch(stack: Stack) -> None:
    sched = await start(stack, AnyBranchScheduler(name="abs", builderNames=["b1"],
                                                  treeStableTimer=30))
    try:
        await stack.make_change(branch="a", revision="a1")
        stack.clock.advance(20)
        await stack.make_change(branch="b", revision="b1")
        stack.clock.advance(10)
        await sched.tasks.wait()
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["a1"]]
        stack.clock.advance(20)
        await sched.tasks.wait()
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["a1"], ["b1"]]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_any_branch_branches_and_change_filter(stack: Stack) -> None:
    s1 = await start(stack, AnyBranchScheduler(name="abs", builderNames=["b1"],
                                               branches=["x", "y"]))
    s2 = await start(stack, AnyBranchScheduler(
        name="abs2", builderNames=["b2"], change_filter=ChangeFilter(branch_re="rel-.*")),
        builders=())
    try:
        for branch in ("x", "z", "rel-1", "y"):
            await stack.make_change(branch=branch, revision=branch)
        got = await buildsets(stack, s1, s2)
        assert sorted(b["revisions"][0] for b in got) == ["rel-1", "x", "y"]
    finally:
        await stop(s1)
        await stop(s2)


@pytest_twisted.ensureDeferred
async def test_changes_of_other_codebases_are_ignored(stack: Stack) -> None:
    sched = await start(stack, AnyBranchScheduler(name="abs", builderNames=["b1"],
                                                  codebases={"lib": {"repository": "r"}}))
    try:
        await stack.make_change(codebase="")
        assert await buildsets(stack, sched) == []
        await stack.make_change(codebase="lib", revision="L1")
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["L1"]]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_create_absolute_source_stamps_remembers_other_codebases(stack: Stack) -> None:
    def make() -> SingleBranchScheduler:
        return SingleBranchScheduler(
            name="sbs", builderNames=["b1"], branch="main", createAbsoluteSourceStamps=True,
            codebases={"a": {"repository": "ra"}, "b": {"repository": "rb"}})

    sched = await start(stack, make())
    await stack.make_change(codebase="a", revision="a1", repository="ra")
    await stack.make_change(codebase="b", revision="b1", repository="rb")
    await stop(sched)
    oid = await stack.updates.getObjectId("sbs", "SingleBranchScheduler")
    state = await stack.updates.getState(oid, "lastCodebases")
    assert {cb: v["revision"] for cb, v in state.items()} == {"a": "a1", "b": "b1"}

    sched = await start(stack, make(), builders=())
    try:
        await stack.make_change(codebase="a", revision="a2", repository="ra")
        got = await buildsets(stack, sched)
        assert got[-1]["revisions"] == ["a2", "b1"]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_disabling_stops_consuming_and_enabling_resumes(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(name="sbs", builderNames=["b1"],
                                                     branch="main"))
    try:
        await stack.data.control("enable", {"enabled": False}, ("schedulers", sched.serviceid))
        assert sched.enabled is False
        await stack.make_change(revision="r1")
        assert await buildsets(stack, sched) == []
        await stack.data.control("enable", {"enabled": True}, ("schedulers", sched.serviceid))
        await stack.make_change(revision="r2")
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["r2"]]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_disabled_in_db_does_not_consume_after_start(stack: Stack) -> None:
    sid = await stack.updates.findSchedulerId("sbs")
    await stack.updates.schedulerEnable(sid, False)
    sched = await start(stack, SingleBranchScheduler(name="sbs", builderNames=["b1"],
                                                     branch="main"))
    try:
        await stack.make_change(revision="r1")
        assert await buildsets(stack, sched) == []
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_reconfig_applies_the_new_filter(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(name="sbs", builderNames=["b1"],
                                                     branch="main"))
    try:
        await sched.reconfigServiceWithSibling(
            SingleBranchScheduler(name="sbs", builderNames=["b1"], branch="dev"))
        await stack.make_change(branch="main", revision="m")
        await stack.make_change(branch="dev", revision="d")
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["d"]]
    finally:
        await stop(sched)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "the 'branch' argument to SingleBranchScheduler is mandatory unless change_filter "
         "is provided"),
    ({"branch": "x", "branches": ["y"]},
     "the 'branches' argument is not allowed for SingleBranchScheduler"),
    ({"branch": "x", "fileIsImportant": 3}, "fileIsImportant must be a callable"),
    ({"branch": "x", "builderNames": "b"},
     "The builderNames argument to a scheduler must be a list of Builder names or an "
     "IRenderable object that will renderto a list of builder names."),
    ({"branch": "x", "codebases": 3}, "Codebases must be a dict of dicts, or list of strings"),
    ({"branch": "x", "codebases": {"a": {"foo": 1}}}, "Unknown codebase keys foo for codebase a"),
    ({"branch": "x", "priority": "high"},
     "Invalid type for priority: <class 'str'>. It must either be an integer or a function"),
])
def test_config_errors(kwargs: dict, message: str) -> None:
    args = {"name": "s", "builderNames": ["b"], **kwargs}
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        SingleBranchScheduler(**args)
    assert e.value.errors == [message]


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        SingleBranchScheduler("s", ["b"], branch="x")
    assert e.value.errors[0] == "pass arguments to schedulers using keyword arguments"


@pytest_twisted.ensureDeferred
async def test_enable_events_subscription_is_public_and_single(stack: Stack) -> None:
    sched = await start(stack, SingleBranchScheduler(name="sbs", builderNames=["b1"],
                                                     branch="main"))
    try:
        consumer = sched._enable_consumer
        await sched.startConsumingEnableEvents()  # as 4.3 subclasses call it: no second one
        assert sched._enable_consumer is consumer
        await stack.data.control("enable", {"enabled": False}, ("schedulers", sched.serviceid))
        await sched.tasks.wait()
        assert sched.enabled is False
    finally:
        await stop(sched)
