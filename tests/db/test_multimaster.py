"""Two masters (two connectors, two connection pools) on one database: the database decides
who claims a request, numbers a build, owns a scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import task

from buildbot.db.connector import DBConnector
from buildbot.db.errors import AlreadyClaimedError, SchedulerAlreadyClaimedError
from buildbot.util.deferred import gather
from tests.db import rows
from tests.fixtures.db import close_test_db, external_db_url, make_file_db

pytestmark = [pytest.mark.db, pytest.mark.multimaster]


@pytest_twisted.async_yield_fixture
async def pair(tmp_path: Path, db: DBConnector) -> AsyncIterator[tuple[DBConnector, DBConnector]]:
    """Two connectors on one database: an SQLite file, or the external test database."""
    clock = task.Clock()
    url = external_db_url()
    if url is None:
        first = await make_file_db(tmp_path / "shared.sqlite", clock)
        second = await make_file_db(tmp_path / "shared.sqlite", clock, create=False)
    else:
        first = db
        second = DBConnector(str(tmp_path), clock=db.clock)
        await second.setup(url)
    first.masterid = await first.masters.findMasterId("one")
    second.masterid = await second.masters.findMasterId("two")
    try:
        yield first, second
    finally:
        for c in (first, second):
            if c is not db:
                await close_test_db(c)


async def _claim(db: DBConnector, brid: int) -> bool:
    try:
        await db.buildrequests.claimBuildRequests([brid], claimed_at=1)
    except AlreadyClaimedError:
        return False
    return True


@pytest_twisted.ensureDeferred
async def test_each_request_is_claimed_by_exactly_one_master(
        pair: tuple[DBConnector, DBConnector]) -> None:
    one, two = pair
    builderids = [await one.builders.findBuilderId(f"b{i}") for i in range(20)]
    _, brids = await rows.buildset(one, builderids)  # type: ignore[arg-type]  # ids here
    outcomes = await gather([gather([_claim(one, brid), _claim(two, brid)])
                             for brid in brids.values()])
    assert all(sorted(o) == [False, True] for o in outcomes)
    by_master = {r.buildrequestid: r.claimed_by_masterid
                 for r in await one.buildrequests.getBuildRequests(claimed=True)}
    winners = {brid: (one.masterid if o[0] else two.masterid)
               for brid, o in zip(brids.values(), outcomes, strict=True)}
    assert by_master == winners


@pytest_twisted.ensureDeferred
async def test_concurrent_multi_request_claims_never_interleave(
        pair: tuple[DBConnector, DBConnector]) -> None:
    one, two = pair
    builderids = [await one.builders.findBuilderId(f"b{i}") for i in range(6)]
    _, brids = await rows.buildset(one, builderids)  # type: ignore[arg-type]  # ids here
    ids = list(brids.values())

    async def claim_all(db: DBConnector) -> bool:
        try:
            await db.buildrequests.claimBuildRequests(ids, claimed_at=1)
        except AlreadyClaimedError:
            return False
        return True

    won = await gather([claim_all(one), claim_all(two)])
    assert sorted(won) == [False, True]
    winner = one.masterid if won[0] else two.masterid
    claimed = await two.buildrequests.getBuildRequests(claimed=True)
    assert {r.claimed_by_masterid for r in claimed} == {winner} and len(claimed) == 6


@pytest_twisted.ensureDeferred
async def test_build_numbers_stay_unique_across_masters(
        pair: tuple[DBConnector, DBConnector]) -> None:
    one, two = pair
    builderid = await one.builders.findBuilderId("b")
    assert builderid is not None
    _, brids = await rows.buildset(one, [builderid])
    numbers = await gather([
        db.builds.addBuild(builderid, brids[builderid], None, db.masterid, "x")  # type: ignore[arg-type]  # an id here
        for _ in range(10) for db in (one, two)])
    assert sorted(n for _, n in numbers) == list(range(1, 21))


@pytest_twisted.ensureDeferred
async def test_one_scheduler_owner(pair: tuple[DBConnector, DBConnector]) -> None:
    one, two = pair
    sid = await one.schedulers.findSchedulerId("s")
    assert await two.schedulers.findSchedulerId("s") == sid

    async def own(db: DBConnector) -> bool:
        try:
            await db.schedulers.setSchedulerMaster(sid, db.masterid)
        except SchedulerAlreadyClaimedError:
            return False
        return True

    assert sorted(await gather([own(one), own(two)])) == [False, True]
