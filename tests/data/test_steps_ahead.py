"""A step's start storing ahead what it stores next (its locks' time, its first log), and
its end storing its logs' completion: fewer transactions, the same messages and rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest_twisted

from buildbot.util.identifiers import incrementIdentifier
from buildbot.util.results import SKIPPED, SUCCESS
from tests.fixtures.stack import START_TIME, Stack, at


def counting(stack: Stack) -> list[Any]:
    calls: list[Any] = []
    run: Callable[..., Any] = stack.db.pool.run

    async def counted(fn: Any) -> Any:
        calls.append(fn)
        return await run(fn)

    stack.db.pool.run = counted  # type: ignore[method-assign]  # counts transactions
    return calls


def keys(seen: list[Any]) -> list[str]:
    return ["/".join(k) for k, _ in seen]


@pytest_twisted.ensureDeferred
async def test_everything_used_as_stored_ahead(stack: Stack) -> None:
    build = await stack.make_build()
    seen = stack.mq_record(("steps", None, None), ("logs", None, None))
    calls = counting(stack)
    u = stack.updates
    stepid, _, _ = await u.add_started_step_ahead(build.id, "sh", started_at=START_TIME + 1,
                                                  locks_ahead=True, first_log=("stdio", "s"))
    assert len(calls) == 1
    await u.set_step_locks_acquired_at(stepid, START_TIME + 1)
    logid = await u.addLog(stepid, "stdio", "s")
    assert len(calls) == 1  # announced only
    await u.appendLog(logid, "ohello\n")
    await u.finish_step_and_logs(stepid, SUCCESS, False, state_string="done", logids=[logid])
    assert len(calls) == 3
    del stack.db.pool.run
    assert calls[-1].__qualname__.startswith("StepsDb.finish_step_and_logs")
    assert keys(seen) == [
        f"steps/{stepid}/new", f"steps/{stepid}/started", f"steps/{stepid}/updated",
        f"logs/{logid}/new", f"logs/{logid}/append", f"logs/{logid}/finished",
        f"steps/{stepid}/updated", f"steps/{stepid}/finished"]
    assert seen[2][1]["locks_acquired_at"] == at(1)
    log = await stack.data.get(("logs", logid))
    assert (log["name"], log["slug"], log["complete"], log["num_lines"]) == \
        ("stdio", "stdio", True, 1)
    assert seen[5][1] == log
    step = await stack.data.get(("steps", stepid))
    assert (step["locks_acquired_at"], step["state_string"], step["results"]) == \
        (at(1), "done", SUCCESS)


@pytest_twisted.ensureDeferred
async def test_what_a_skipped_step_never_used_is_undone_by_its_end(stack: Stack) -> None:
    build = await stack.make_build()
    seen = stack.mq_record(("steps", None, None), ("logs", None, None))
    u = stack.updates
    stepid, _, _ = await u.add_started_step_ahead(build.id, "sh", started_at=START_TIME,
                                                  locks_ahead=True, first_log=("stdio", "s"))
    await u.finishStep(stepid, SKIPPED, False)
    assert keys(seen) == [f"steps/{stepid}/new", f"steps/{stepid}/started",
                          f"steps/{stepid}/finished"]
    step = await stack.data.get(("steps", stepid))
    assert step["locks_acquired_at"] is None and step["results"] == SKIPPED
    assert await stack.data.get(("steps", stepid, "logs")) == []


@pytest_twisted.ensureDeferred
async def test_locks_acquired_later_are_stored_then(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    stepid, _, _ = await u.add_started_step_ahead(build.id, "sh", started_at=START_TIME,
                                                  locks_ahead=True)
    await u.set_step_locks_acquired_at(stepid, START_TIME + 5)
    await u.finishStep(stepid, SUCCESS, False)
    assert (await stack.data.get(("steps", stepid)))["locks_acquired_at"] == at(5)


@pytest_twisted.ensureDeferred
async def test_another_log_first_removes_the_reserved_one(stack: Stack) -> None:
    build = await stack.make_build()
    u = stack.updates
    stepid, _, _ = await u.add_started_step_ahead(build.id, "sh", started_at=START_TIME,
                                                  first_log=("stdio", "s"))
    err = await u.addLog(stepid, "stdio", "t")  # same slug, other type
    later = await u.addLog(stepid, "stdio", "s")
    logs = await stack.data.get(("steps", stepid, "logs"))
    assert [(lg["logid"], lg["slug"], lg["type"]) for lg in logs] == [
        (err, "stdio", "t"), (later, incrementIdentifier(50, "stdio"), "s")]
    await u.finishStep(stepid, SUCCESS, False)
    assert len(await stack.data.get(("steps", stepid, "logs"))) == 2


@pytest_twisted.ensureDeferred
async def test_build_properties_stored_with_the_step_end(stack: Stack) -> None:
    from buildbot.process.properties import Properties

    build = await stack.make_build()
    u = stack.updates
    stepid, _, _ = await u.add_started_step(build.id, "sh", started_at=START_TIME)
    seen = stack.mq_record(("steps", None, None), ("builds", None, "properties", None))
    calls = counting(stack)
    await u.finish_step_and_logs(stepid, SUCCESS, False,
                                 build_properties=(build.id, Properties(got="x")))
    # unchanged properties: nothing more to store
    await u.setBuildProperties(build.id, Properties(got="x"))
    del stack.db.pool.run
    assert len(calls) == 1
    assert keys(seen) == [f"steps/{stepid}/finished",
                          f"builds/{build.id}/properties/update"]
    assert seen[-1][1] == {"got": ("x", "TEST")}
    assert await stack.db.builds.getBuildProperties(build.id) == {"got": ("x", "TEST")}
