"""Steps."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.steps import StepModel, UrlModel, unique_step_name
from buildbot.util.results import SUCCESS
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_steps_are_numbered_and_named_uniquely(db: DBConnector) -> None:
    _, _, bid = await rows.build(db)
    assert (await db.steps.addStep(bid, "compile", "pending"))[1:] == (0, "compile")
    assert (await db.steps.addStep(bid, "compile", "pending"))[1:] == (1, "compile_1")
    assert (await db.steps.addStep(bid, "compile", "pending"))[1:] == (2, "compile_2")
    assert [s.name for s in await db.steps.getSteps(bid)] == ["compile", "compile_1",
                                                              "compile_2"]


def test_unique_name_stays_within_50_characters() -> None:
    name = "x" * 50
    assert unique_step_name(name, {name}) == "x" * 48 + "_1"
    assert unique_step_name(name, {name, "x" * 48 + "_1"}) == "x" * 48 + "_2"


@pytest_twisted.ensureDeferred
async def test_step_life_cycle(db: DBConnector) -> None:
    bid, sid = await rows.step(db)
    await db.steps.startStep(sid, started_at=10, locks_acquired=False)
    await db.steps.set_step_locks_acquired_at(sid, 12)
    await db.steps.setStepStateString(sid, "compiling")
    await db.steps.addURL(sid, "doc", "http://d")
    await db.steps.addURL(sid, "doc", "http://d")
    await db.steps.addURL(sid, "doc2", "http://e")
    db.clock.advance(20)
    await db.steps.finishStep(sid, SUCCESS, hidden=True)
    assert await db.steps.getStep(sid) == StepModel(
        sid, 0, "compile", bid, rows.t(10), rows.t(12), rows.t(20), "compiling", SUCCESS,
        [UrlModel("doc", "http://d"), UrlModel("doc2", "http://e")], True)
    assert await db.steps.getStep(buildid=bid, number=0) == await db.steps.getStep(sid)
    assert await db.steps.getStep(buildid=bid, name="compile") == await db.steps.getStep(sid)
    assert await db.steps.getStep(buildid=bid, number=5) is None


@pytest_twisted.ensureDeferred
async def test_start_with_locks_acquired(db: DBConnector) -> None:
    _, sid = await rows.step(db)
    await db.steps.startStep(sid, started_at=rows.t(10), locks_acquired=True)
    step = await db.steps.getStep(sid)
    assert step is not None and (step.started_at, step.locks_acquired_at) == \
        (rows.t(10), rows.t(10))


@pytest_twisted.ensureDeferred
async def test_steps_of_many_builds(db: DBConnector) -> None:
    b1, s1 = await rows.step(db, "a")
    b2, s2 = await rows.step(db, "b")
    found = await db.steps.for_builds([b1, b2, 999])
    assert {k: [s.id for s in v] for k, v in found.items()} == {b1: [s1], b2: [s2], 999: []}
