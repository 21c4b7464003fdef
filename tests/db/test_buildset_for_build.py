"""`BuildsetsDb.buildset_for_build`: what a request's build reads, in one transaction."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_buildset_properties_and_newest_change_per_stamp(db: DBConnector) -> None:
    await db.changes.addChange(branch="main", repository="r", project="", revision="1")
    newest = await db.changes.addChange(branch="main", repository="r", project="",
                                        revision="2", comments="fix")
    change = await db.changes.getChange(newest)
    assert change is not None
    bare = await db.sourcestamps.findSourceStampId(branch="dev", repository="r", project="",
                                                   codebase="c")
    bsid, _ = await db.buildsets.addBuildset(
        sourcestamps=[change.sourcestampid, bare], reason="r", builderids=[],
        properties={"owner": ("me", "Force")}, waited_for=False)
    calls = []
    run = db.pool.run

    async def counting(fn):  # type: ignore[no-untyped-def]  # wraps any thd function
        calls.append(fn)
        return await run(fn)

    db.pool.run = counting  # type: ignore[method-assign]  # counts transactions
    try:
        bset, props, changes = await db.buildsets.buildset_for_build(bsid)
    finally:
        del db.pool.run
    assert len(calls) == 1
    assert bset == await db.buildsets.getBuildset(bsid)
    assert props == {"owner": ("me", "Force")}
    assert changes == {change.sourcestampid: change}


@pytest_twisted.ensureDeferred
async def test_unknown_buildset(db: DBConnector) -> None:
    assert await db.buildsets.buildset_for_build(12345) == (None, {}, {})
