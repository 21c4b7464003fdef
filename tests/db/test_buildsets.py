"""Buildsets, their properties and source stamps, and the requests they create."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.buildsets import BuildSetModel
from buildbot.db.connector import DBConnector
from buildbot.db.errors import AlreadyCompleteError, InvalidValueError
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_add_buildset_stores_everything_in_one_go(db: DBConnector) -> None:
    db.clock.advance(1000)
    b1 = await db.builders.findBuilderId("b1")
    b2 = await db.builders.findBuilderId("b2")
    ssid = await db.sourcestamps.findSourceStampId(branch="x", repository="r", project="",
                                                   codebase="")
    bsid, brids = await db.buildsets.addBuildset(
        sourcestamps=[ssid, {"branch": "y", "repository": "r", "project": "", "codebase": "c"}],
        reason="forced", properties={"owner": ("me", "Force"), "n": ([1, 2], "Build")},
        builderids=[b1, b2], waited_for=True, external_idstring="ext", priority=3)
    assert sorted(brids) == [b1, b2]
    found = await db.buildsets.getBuildset(bsid)
    assert found == BuildSetModel(bsid, "ext", "forced", rows.t(1000), False, None, -1,
                                  sourcestamps=found.sourcestamps if found else [])
    assert found is not None and len(found.sourcestamps) == 2 and ssid in found.sourcestamps
    assert await db.buildsets.getBuildsetProperties(bsid) == {
        "owner": ("me", "Force"), "n": ([1, 2], "Build")}
    requests = await db.buildrequests.getBuildRequests(bsid=bsid)
    assert [(r.builderid, r.priority, r.waited_for, r.results, r.submitted_at)
            for r in requests] == [(b1, 3, True, -1, rows.t(1000)), (b2, 3, True, -1, rows.t(1000))]


@pytest_twisted.ensureDeferred
async def test_waited_for_must_be_a_bool(db: DBConnector) -> None:
    with pytest.raises(InvalidValueError):
        await rows.buildset(db, [], waited_for=1)


@pytest_twisted.ensureDeferred
async def test_complete_buildset_once(db: DBConnector) -> None:
    bsid, _ = await rows.buildset(db, [])
    db.clock.advance(7)
    await db.buildsets.completeBuildset(bsid, 2)
    with pytest.raises(AlreadyCompleteError):
        await db.buildsets.completeBuildset(bsid, 0, complete_at=rows.t(8))
    found = await db.buildsets.getBuildset(bsid)
    assert found is not None and (found.complete, found.results, found.complete_at) == \
        (True, 2, rows.t(7))
    assert [b.bsid for b in await db.buildsets.getBuildsets(complete=True)] == [bsid]
    assert await db.buildsets.getBuildsets(complete=False) == []


@pytest_twisted.ensureDeferred
async def test_recent_buildsets_are_the_newest_oldest_first(db: DBConnector) -> None:
    ids = []
    for branch in ("a", "b", "a", "a"):
        db.clock.advance(10)
        ids.append((await rows.buildset(db, [], sourcestamps=[
            {"branch": branch, "repository": "r", "project": "", "codebase": ""}]))[0])
    recent = await db.buildsets.getRecentBuildsets(count=2, branch="a", repository="r")
    assert [b.bsid for b in recent] == [ids[2], ids[3]]
    spec = ResultSpec(filters=[Filter("bsid", "gt", [ids[1]])], order=["-bsid"], limit=1)
    assert [b.bsid for b in await db.buildsets.getBuildsets(result_spec=spec)] == [ids[3]]
