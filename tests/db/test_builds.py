"""Builds and build properties."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.builds import BuildModel
from buildbot.db.connector import DBConnector
from buildbot.util.results import FAILURE, SUCCESS
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_builds_are_numbered_per_builder(db: DBConnector) -> None:
    m = await rows.master(db)
    db.clock.advance(100)
    b1, br1, first = await rows.build(db, "b1")
    _, _, second = await rows.build(db, "b1")
    _, _, other = await rows.build(db, "b2")
    assert [(b.id, b.number) for b in await db.builds.getBuilds()] == [
        (first, 1), (second, 2), (other, 1)]
    w = await db.workers.findWorkerId("w1")
    assert await db.builds.getBuild(first) == BuildModel(
        first, 1, b1, br1, w, m, rows.t(100), None, 0, "created", None)
    assert (await db.builds.getBuildByNumber(b1, 2)) == await db.builds.getBuild(second)
    assert await db.builds.getBuildByNumber(b1, 3) is None


@pytest_twisted.ensureDeferred
async def test_finish_and_state_and_locks(db: DBConnector) -> None:
    _, _, bid = await rows.build(db)
    await db.builds.setBuildStateString(bid, "building")
    await db.builds.add_build_locks_duration(bid, 3)
    await db.builds.add_build_locks_duration(bid, 4)
    db.clock.advance(30)
    await db.builds.finishBuild(bid, FAILURE)
    got = await db.builds.getBuild(bid)
    assert got is not None
    assert (got.state_string, got.locks_duration_s, got.complete_at, got.results) == \
        ("building", 7, rows.t(30), FAILURE)
    assert [b.id for b in await db.builds.getBuilds(complete=True)] == [bid]
    assert await db.builds.getBuilds(complete=False) == []


@pytest_twisted.ensureDeferred
async def test_get_builds_filters_and_result_spec(db: DBConnector) -> None:
    b1, br, x = await rows.build(db, "b1")
    _, _, y = await rows.build(db, "b2")
    assert [b.id for b in await db.builds.getBuilds(builderid=b1)] == [x]
    assert [b.id for b in await db.builds.getBuilds(buildrequestid=br)] == [x]
    spec = ResultSpec(filters=[Filter("number", "eq", [1])], order=["-buildid"], limit=1)
    assert [b.id for b in await db.builds.getBuilds(result_spec=spec)] == [y]


@pytest_twisted.ensureDeferred
async def test_properties_are_written_only_when_changed(db: DBConnector) -> None:
    _, _, bid = await rows.build(db)
    await db.builds.setBuildProperty(bid, "a", 1, "src")
    await db.builds.set_build_properties(bid, {"a": (1, "src"), "b": ({"x": [1]}, "s")})
    await db.builds.setBuildProperty(bid, "a", 2, "other")
    assert await db.builds.getBuildProperties(bid) == {"a": (2, "other"), "b": ({"x": [1]}, "s")}
    count = await db.pool.run(lambda conn: len(conn.execute(
        db.tables.build_properties.select()).all()))
    assert count == 2
    spec = ResultSpec(filters=[Filter("name", "eq", ["b"])])
    assert await db.builds.getBuildProperties(bid, result_spec=spec) == {"b": ({"x": [1]}, "s")}
    assert await db.builds.get_builds_properties([bid, 999]) == {
        bid: {"a": (2, "other"), "b": ({"x": [1]}, "s")}, 999: {}}


@pytest_twisted.ensureDeferred
async def test_properties_and_state_string_are_stored_together(db: DBConnector) -> None:
    _, _, bid = await rows.build(db)
    await db.builds.setBuildProperty(bid, "a", 1, "src")
    await db.builds.set_properties_and_state(bid, {"a": (2, "src"), "b": (3, "s")}, "starting")
    await db.builds.set_properties_and_state(bid, {}, "preparing worker")
    assert await db.builds.getBuildProperties(bid) == {"a": (2, "src"), "b": (3, "s")}
    assert (await db.builds.getBuild(bid)).state_string == "preparing worker"  # type: ignore[union-attr]  # not None here


@pytest_twisted.ensureDeferred
async def test_previous_successful_build_with_same_stamps(db: DBConnector) -> None:
    stamp = [{"branch": "main", "repository": "r", "project": "", "codebase": ""}]
    other = [{"branch": "dev", "repository": "r", "project": "", "codebase": ""}]
    builderid, _, ok1 = await rows.build(db, "b", sourcestamps=stamp)
    _, _, ok_other = await rows.build(db, "b", sourcestamps=other)
    _, _, failed = await rows.build(db, "b", sourcestamps=stamp)
    _, _, current = await rows.build(db, "b", sourcestamps=stamp)
    for bid, res in ((ok1, SUCCESS), (ok_other, SUCCESS), (failed, FAILURE)):
        db.clock.advance(1)
        await db.builds.finishBuild(bid, res)
    stamps = await db.sourcestamps.getSourceStampsForBuild(current)
    prev = await db.builds.getPrevSuccessfulBuild(builderid, 4, stamps)
    assert prev is not None and prev.id == ok1
    assert await db.builds.getPrevSuccessfulBuild(builderid, 1, stamps) is None


@pytest_twisted.ensureDeferred
async def test_triggered_builds_and_builds_for_change(db: DBConnector) -> None:
    _, _, parent = await rows.build(db, "b")
    _, _, child = await rows.build(db, "c", parent_buildid=parent,
                                   parent_relationship="Triggered from")
    assert [b.id for b in await db.builds.get_triggered_builds(parent)] == [child]
    changeid = await db.changes.addChange(author="a", branch="br", revision="r1",
                                          repository="repo", project="p")
    change = await db.changes.getChange(changeid)
    assert change is not None
    _, _, built = await rows.build(db, "b", sourcestamps=[change.sourcestampid])
    assert [b.id for b in await db.builds.getBuildsForChange(changeid)] == [built]
