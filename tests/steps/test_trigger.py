"""Trigger step with a real Triggerable scheduler and LocalWorker builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS
from tests.fixtures.master import running_master
from tests.steps.harness import collect_build

pytestmark = pytest.mark.integration


def test_trigger_argument_errors() -> None:
    with capture_config_errors() as errors:
        steps.Trigger()
        steps.Trigger(schedulerNames=["a"], sourceStamps=[{}], updateSourceStamp=True)
        steps.Trigger(schedulerNames=["a"], sourceStamps=[{}], alwaysUseLatest=True)
        steps.Trigger(schedulerNames=["a"], alwaysUseLatest=True, updateSourceStamp=False)
        steps.Trigger(schedulerNames=["a"], unimportantSchedulerNames=["b"])
    assert errors.errors == [
        "You must specify a scheduler to trigger",
        "You can't specify both sourceStamps and updateSourceStamp",
        "You can't specify both sourceStamps and alwaysUseLatest",
        "You can't specify both alwaysUseLatest and updateSourceStamp",
        "unimportantSchedulerNames must be a subset of schedulerNames",
    ]


def trigger_config(parent_steps: list[Any], child_command: str = "true",
                   other_command: str = "true") -> dict[str, Any]:
    def builder(name: str, build_steps: list[Any]) -> Any:
        return util.BuilderConfig(name=name, workernames=["local"],
                                  factory=util.BuildFactory(build_steps))

    return {
        "workers": [worker.LocalWorker("local", max_builds=3)],
        "schedulers": [
            schedulers.ForceScheduler(name="force", builderNames=["parent"]),
            schedulers.Triggerable(name="t", builderNames=["child"]),
            schedulers.Triggerable(name="other", builderNames=["other"]),
        ],
        "builders": [
            builder("parent", parent_steps),
            builder("child", [steps.ShellCommand(command=child_command)]),
            builder("other", [steps.ShellCommand(command=other_command)]),
        ],
        "buildbotURL": "http://bb/",
    }


async def run_parent(master: Any, n_buildsets: int, stop_after_trigger: bool = False
                     ) -> dict[str, Any]:
    """Force the parent build; wait until `n_buildsets` buildsets completed."""
    done: defer.Deferred[None] = defer.Deferred()
    completed: list[int] = []

    def on_complete(key: Any, body: Any) -> None:
        completed.append(body["bsid"])
        if len(completed) == n_buildsets and not done.called:
            done.callback(None)

    consumer = await master.mq.startConsuming(on_complete, ("buildsets", None, "complete"))
    urls_seen: defer.Deferred[None] = defer.Deferred()

    def on_step(key: Any, body: Any) -> None:
        if body.get("urls") and not urls_seen.called:
            urls_seen.callback(None)

    step_consumer = await master.mq.startConsuming(on_step, ("steps", None, "updated"))
    from twisted.internet import reactor

    done.addTimeout(30, reactor)
    try:
        await master.data.control("force", {"builderNames": ["parent"]},
                                  ("forceschedulers", "force"))
        if stop_after_trigger:
            await urls_seen
            builds = await master.data.get(("builds",), filters=[])
            parent = next(b for b in builds if b["number"] == 1)
            await master.data.control("stop", {"reason": "halt"}, ("builds", parent["buildid"]))
        await done
    finally:
        consumer.stopConsuming()
        step_consumer.stopConsuming()
    out = {}
    for b in await master.data.get(("builds",)):
        builder = await master.data.get(("builders", b["builderid"]))
        out[builder["name"]] = await collect_build(master, b["buildid"])
        out[builder["name"]].buildrequestid = b["buildrequestid"]
    return out


@pytest_twisted.ensureDeferred
async def test_wait_for_finish_reports_results_urls_and_properties(tmp_path: Path) -> None:
    cfg = trigger_config([
        steps.SetProperty(property="color", value="red"),
        steps.Trigger(schedulerNames=["t"], waitForFinish=True,
                      set_properties={"fixed": util.Interpolate("%(prop:color)s!")},
                      copy_properties=["color"]),
    ])
    async with running_master(tmp_path, cfg) as master:
        builds = await run_parent(master, 2)
        child_br = await master.data.get(("buildrequests", builds["child"].buildrequestid))
        child_bs = await master.data.get(("buildsets", child_br["buildsetid"]))
    parent, child = builds["parent"], builds["child"]
    assert parent.summary[-1] == ("trigger", SUCCESS, "triggered t, 1 success")
    brid = builds["child"].buildrequestid
    child_builderid = child_br["builderid"]
    assert [(u["name"], u["url"]) for u in parent.steps[-1].urls] == [
        (f"t #{brid}", f"http://bb/#/buildrequests/{brid}"),
        ("success: child #1", f"http://bb/#/builders/{child_builderid}/builds/1"),
    ]
    assert (child.props["fixed"], child.props["color"]) == ("red!", "red")
    assert child.prop_sources["fixed"] == "Trigger"
    assert child_bs["parent_relationship"] == "Triggered from"
    assert child_bs["parent_buildid"] is not None


@pytest_twisted.ensureDeferred
async def test_failed_triggered_build_fails_step_unless_unimportant(tmp_path: Path) -> None:
    cfg = trigger_config([
        steps.Trigger(schedulerNames=["t", "other"], waitForFinish=True,
                      unimportantSchedulerNames=["other"], name="unimportant"),
        steps.Trigger(schedulerNames=["t"], waitForFinish=True, name="important"),
    ], child_command="exit 0", other_command="exit 1")
    async with running_master(tmp_path, cfg) as master:
        builds = await run_parent(master, 4)
    assert builds["parent"].summary == [
        ("unimportant", SUCCESS, "triggered t, other, 1 success, 1 failure"),
        ("important", SUCCESS, "triggered t, 1 success"),
    ]


@pytest_twisted.ensureDeferred
async def test_failure_of_triggered_build(tmp_path: Path) -> None:
    cfg = trigger_config([steps.Trigger(schedulerNames=["t"], waitForFinish=True)],
                         child_command="exit 1")
    async with running_master(tmp_path, cfg) as master:
        builds = await run_parent(master, 2)
    assert builds["parent"].summary == [("trigger", FAILURE, "triggered t, 1 failure")]
    assert builds["parent"].results == FAILURE


@pytest_twisted.ensureDeferred
async def test_update_source_stamp_uses_got_revision(tmp_path: Path) -> None:
    cfg = trigger_config([
        steps.SetProperty(property="got_revision", value="abc123"),
        steps.Trigger(schedulerNames=["t"], waitForFinish=True),
        steps.Trigger(schedulerNames=["other"], alwaysUseLatest=True, name="latest"),
    ])
    async with running_master(tmp_path, cfg) as master:
        builds = await run_parent(master, 3)
    assert builds["child"].props["revision"] == "abc123"
    assert builds["other"].props["revision"] is None
    assert builds["parent"].summary[2][:2] == ("latest", SUCCESS)


@pytest_twisted.ensureDeferred
async def test_interrupt_cancels_triggered_requests(tmp_path: Path) -> None:
    cfg = trigger_config([steps.Trigger(schedulerNames=["t"], waitForFinish=True)],
                         child_command="sleep 20")
    async with running_master(tmp_path, cfg) as master:
        builds = await run_parent(master, 2, stop_after_trigger=True)
        requests = await master.data.get(("buildrequests",))
    assert builds["parent"].summary == [("trigger", CANCELLED, "interrupted")]
    assert builds["parent"].results == CANCELLED
    assert [(r["complete"], r["results"]) for r in requests] == [(True, CANCELLED)] * 2


@pytest_twisted.ensureDeferred
async def test_not_waiting_succeeds_at_once(tmp_path: Path) -> None:
    cfg = trigger_config([steps.Trigger(schedulerNames=["t"])], child_command="exit 1")
    async with running_master(tmp_path, cfg) as master:
        builds = await run_parent(master, 2)
    # the summary is final when the step ends (as in Buildbot 4.3)
    assert builds["parent"].summary == [("trigger", SUCCESS, "triggered t")]
    assert builds["parent"].results == SUCCESS
    assert builds["child"].results == FAILURE
