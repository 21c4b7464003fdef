"""steps: getters on every path and the step updates with their messages."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from buildbot.data.steps import step_entity
from buildbot.util.results import SUCCESS
from tests.fixtures.stack import START_TIME, Stack, at


def step_body(stepid: int, buildid: int, number: int = 0, name: str = "step",
              **kw: Any) -> dict[str, Any]:
    body = {"stepid": stepid, "number": number, "name": name, "buildid": buildid,
            "started_at": None, "locks_acquired_at": None, "complete": False,
            "complete_at": None, "state_string": "pending", "results": None, "urls": [],
            "hidden": False}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_step_lifecycle_messages(stack: Stack) -> None:
    build = await stack.make_build()
    seen = stack.mq_record(("builds", None, "steps", None, None), ("steps", None, None))

    stepid, number, name = await stack.updates.addStep(build.id, "compile")
    stack.clock.advance(1)
    await stack.updates.startStep(stepid)
    await stack.updates.setStepStateString(stepid, "compiling")
    await stack.updates.addStepURL(stepid, "doc", "https://example.org/doc")
    await stack.updates.addStepURL(stepid, "doc", "https://example.org/doc")
    await stack.updates.set_step_locks_acquired_at(stepid, START_TIME + 2)
    stack.clock.advance(9)
    await stack.updates.finishStep(stepid, SUCCESS, False)

    events = ["new", "started", "updated", "updated", "updated", "updated", "finished"]
    assert [k for k, _ in seen] == [
        key for e in events for key in (("builds", str(build.id), "steps", str(stepid), e),
                                        ("steps", str(stepid), e))]
    bodies = [b for _, b in seen][::2]
    assert bodies[0] == step_body(stepid, build.id, 0, "compile")
    assert bodies[1]["started_at"] == at(1)
    doc = [{"name": "doc", "url": "https://example.org/doc"}]
    assert bodies[-1] == step_body(
        stepid, build.id, 0, "compile", started_at=at(1),
        locks_acquired_at=at(2), complete=True, complete_at=at(10),
        state_string="compiling", results=SUCCESS, urls=doc)
    assert bodies[-1] == await stack.data.get(("steps", stepid))
    assert step_entity.invalid_fields(bodies[-1]) == []
    assert (number, name) == (0, "compile")


@pytest_twisted.ensureDeferred
async def test_start_step_with_locks_acquired(stack: Stack) -> None:
    step = await stack.make_step(start=False)
    await stack.updates.startStep(step.id, started_at=START_TIME + 3, locks_acquired=True)
    got = await stack.data.get(("steps", step.id))
    assert (got["started_at"], got["locks_acquired_at"]) == (at(3), at(3))


@pytest_twisted.ensureDeferred
async def test_step_names_are_made_unique(stack: Stack) -> None:
    build = await stack.make_build()
    names = [(await stack.updates.addStep(build.id, "test"))[2] for _ in range(3)]
    assert names == ["test", "test_1", "test_2"]


@pytest_twisted.ensureDeferred
async def test_step_getters(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    build = await stack.make_build(builderid=bid)
    s0 = await stack.make_step(build.id, "checkout", start=False)
    s1 = await stack.make_step(build.id, "compile", start=False)
    b0 = step_body(s0.id, build.id, 0, "checkout")
    b1 = step_body(s1.id, build.id, 1, "compile")

    for path in [("steps", s1.id), ("builds", build.id, "steps", "compile"),
                 ("builds", build.id, "steps", 1),
                 ("builders", bid, "builds", 1, "steps", "compile"),
                 ("builders", bid, "builds", 1, "steps", 1),
                 ("builders", "linux", "builds", 1, "steps", "compile"),
                 ("builders", "linux", "builds", 1, "steps", 1)]:
        assert await stack.data.get(path) == b1, path
    assert await stack.data.get(("steps", 999)) is None
    assert await stack.data.get(("builds", build.id, "steps", "nope")) is None
    for path in [("builds", build.id, "steps"), ("builders", bid, "builds", 1, "steps"),
                 ("builders", "linux", "builds", 1, "steps")]:
        assert await stack.data.get(path) == [b0, b1], path
    assert await stack.data.get(("builds", 999, "steps")) == []
    assert await stack.data.get(("builders", "linux", "builds", 7, "steps")) is None
