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

    stack.db.pool.run = counted  # type: ignore[method-assign]
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
