"""A build's next state string stored ahead with a neighbouring write, announced later."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from buildbot.process.properties import Properties
from buildbot.util.results import RETRY, SUCCESS
from tests.fixtures.stack import Stack


def count_transactions(stack: Stack) -> list[Any]:
    calls: list[Any] = []
    run = stack.db.pool.run

    async def counted(fn: Any) -> Any:
        calls.append(fn)
        return await run(fn)

    stack.db.pool.run = counted  # type: ignore[method-assign]  # counts transactions
    return calls


@pytest_twisted.ensureDeferred
async def test_state_stored_ahead_is_announced_without_a_write(stack: Stack) -> None:
    build = await stack.make_build()
    seen = stack.mq_record(("builds", None, None))
    calls = count_transactions(stack)
    u = stack.updates
    await u.set_build_properties_and_state(build.id, Properties(p=1), "preparing worker",
                                           state_ahead="pinging worker")
    row = await stack.db.builds.getBuild(build.id)
    assert row is not None and row.state_string == "pinging worker"
    n = len(calls)
    await u.setBuildStateString(build.id, "pinging worker")
    assert len(calls) == n
    await u.setBuildStateString(build.id, "pinging worker")  # a second time: stored again
    assert len(calls) == n + 1
    del stack.db.pool.run
    assert [b["state_string"] for _, b in seen] == [
        "preparing worker", "pinging worker", "pinging worker"]


@pytest_twisted.ensureDeferred
async def test_another_state_replaces_the_one_stored_ahead(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    await u.set_build_properties_and_state(build.id, Properties(), "preparing worker",
                                           state_ahead="pinging worker")
    await u.setBuildStateString(build.id, "something else")
    await u.setBuildStateString(build.id, "pinging worker")
    got = await stack.data.get(("builds", build.id))
    assert got["state_string"] == "pinging worker"


@pytest_twisted.ensureDeferred
async def test_build_ending_first_keeps_the_announced_state(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    await u.set_build_properties_and_state(build.id, Properties(), "preparing worker",
                                           state_ahead="pinging worker")
    await u.finishBuild(build.id, RETRY)
    got = await stack.data.get(("builds", build.id))
    assert (got["state_string"], got["results"]) == ("preparing worker", RETRY)


@pytest_twisted.ensureDeferred
async def test_step_end_stores_the_build_state_ahead(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    stepid, _, _ = await u.add_started_step(build.id, "worker_preparation",
                                            locks_acquired=True)
    await u.finish_step_and_logs(stepid, SUCCESS, False, state_string="worker w ready",
                                 build_state_ahead=(build.id, "building"))
    row = await stack.db.builds.getBuild(build.id)
    assert row is not None and row.state_string == "building"
    calls = count_transactions(stack)
    await u.setBuildStateString(build.id, "building")
    del stack.db.pool.run
    assert calls == []


@pytest_twisted.ensureDeferred
async def test_first_step_stored_with_the_build_is_announced_when_added(stack: Stack) -> None:
    builderid = await stack.make_builder()
    build = await stack.make_build(builderid=builderid)
    u = stack.updates
    seen = stack.mq_record(("steps", None, None))
    calls = count_transactions(stack)
    buildid, _ = await u.add_build_with_started_step(
        builderid, build.buildrequestid, build.workerid, step_name="worker_preparation")
    stepid, number, name = await u.add_started_step(buildid, "worker_preparation",
                                                    locks_acquired=True)
    del stack.db.pool.run
    assert len(calls) == 1
    assert (number, name) == (0, "worker_preparation")
    assert ["/".join(k) for k, _ in seen] == [f"steps/{stepid}/new", f"steps/{stepid}/started"]
    step = await stack.data.get(("steps", stepid))
    assert step["started_at"] is not None and step["locks_acquired_at"] == step["started_at"]
    assert seen[-1][1] == step


@pytest_twisted.ensureDeferred
async def test_properties_stored_ahead_are_announced_by_the_next_write(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    seen = stack.mq_record(("builds", None, None), ("builds", None, "properties", None))
    calls = count_transactions(stack)
    await u.set_build_properties_and_state(
        build.id, Properties(a=1), "starting", state_ahead="pinging worker",
        properties_ahead=Properties(a=1, owners=["me"]))
    stored = await stack.db.builds.getBuildProperties(build.id)
    assert stored == {"a": (1, "TEST"), "owners": (["me"], "TEST")}
    n = len(calls)
    await u.set_build_properties_and_state(build.id, Properties(a=1, owners=["me"]),
                                           "preparing worker", state_ahead="pinging worker")
    await u.setBuildStateString(build.id, "pinging worker")
    assert len(calls) == n
    del stack.db.pool.run
    assert [(k[-1], b.get("state_string", b)) for k, b in seen] == [
        ("update", {"a": (1, "TEST")}), ("update", "starting"),
        ("update", {"owners": (["me"], "TEST")}), ("update", "preparing worker"),
        ("update", "pinging worker")]


@pytest_twisted.ensureDeferred
async def test_properties_changed_since_the_ahead_write_are_stored(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    await u.set_build_properties_and_state(
        build.id, Properties(a=1), "starting", state_ahead="preparing worker",
        properties_ahead=Properties(a=1, owners=["me"]))
    await u.set_build_properties_and_state(build.id, Properties(a=1, owners=["you"]),
                                           "preparing worker")
    stored = await stack.db.builds.getBuildProperties(build.id)
    assert stored["owners"] == (["you"], "TEST")
    got = await stack.data.get(("builds", build.id))
    assert got["state_string"] == "preparing worker"
