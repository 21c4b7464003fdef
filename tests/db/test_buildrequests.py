"""Build requests: claims decided by the database, completion, filters."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.buildrequests import BuildRequestModel
from buildbot.db.connector import DBConnector
from buildbot.db.errors import AlreadyClaimedError, InvalidValueError, NotClaimedError
from buildbot.util.results import FAILURE, RETRY, SUCCESS
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db


async def _requests(db: DBConnector, n: int = 3) -> tuple[int, list[int]]:
    builderids = [await db.builders.findBuilderId(f"b{i}") for i in range(n)]
    _, brids = await rows.buildset(db, builderids)  # type: ignore[arg-type]  # ids here
    return builderids[0], [brids[b] for b in builderids]  # type: ignore[index]  # ids here


@pytest_twisted.ensureDeferred
async def test_claim_is_all_or_nothing(db: DBConnector) -> None:
    me = await rows.master(db, "me")
    other = await rows.master(db, "other", local=False)
    _, (a, b, c) = await _requests(db)
    # times as epoch seconds or, as in Buildbot 4.3's db API, as datetimes
    await db.buildrequests.claimBuildRequests([b], claimed_at=rows.t(50), masterid=other)
    with pytest.raises(AlreadyClaimedError):
        await db.buildrequests.claimBuildRequests([a, b, c], claimed_at=60)
    claimed = await db.buildrequests.getBuildRequests(claimed=True)
    assert [(r.buildrequestid, r.claimed_by_masterid, r.claimed_at) for r in claimed] == [
        (b, other, rows.t(50))]
    await db.buildrequests.claimBuildRequests([a, c], claimed_at=60)
    assert [r.buildrequestid for r in await db.buildrequests.getBuildRequests(claimed=me)] == \
        [a, c]


@pytest_twisted.ensureDeferred
async def test_unclaim_only_releases_own_claims(db: DBConnector) -> None:
    await rows.master(db, "me")
    other = await rows.master(db, "other", local=False)
    _, (a, b, _c) = await _requests(db)
    await db.buildrequests.claimBuildRequests([a])
    await db.buildrequests.claimBuildRequests([b], masterid=other)
    await db.buildrequests.unclaimBuildRequests([a, b])
    unclaimed = await db.buildrequests.getBuildRequests(claimed=False)
    assert [r.buildrequestid for r in unclaimed] == [a, _c]


@pytest_twisted.ensureDeferred
async def test_complete_refuses_completed_requests_entirely(db: DBConnector) -> None:
    await rows.master(db)
    _, (a, b, c) = await _requests(db)
    db.clock.advance(9)
    await db.buildrequests.completeBuildRequests([a], SUCCESS)
    with pytest.raises(NotClaimedError):
        await db.buildrequests.completeBuildRequests([b, a], 2)
    with pytest.raises(InvalidValueError):
        await db.buildrequests.completeBuildRequests([c], RETRY)
    got = {r.buildrequestid: (r.complete, r.results, r.complete_at)
           for r in await db.buildrequests.getBuildRequests()}
    assert got == {a: (True, 0, rows.t(9)), b: (False, -1, None), c: (False, -1, None)}
    assert [r.buildrequestid for r in await db.buildrequests.getBuildRequests(complete=True)] \
        == [a]
    # an unclaimed but complete request is not "unclaimed" work
    assert [r.buildrequestid for r in await db.buildrequests.getBuildRequests(claimed=False)] \
        == [b, c]


@pytest_twisted.ensureDeferred
async def test_completing_the_last_request_completes_its_buildset_in_the_same_write(
        db: DBConnector) -> None:
    await rows.master(db)
    _, (a, b, c) = await _requests(db)
    bsid = (await db.buildrequests.getBuildRequest(a)).buildsetid  # type: ignore[union-attr]  # not None here
    db.clock.advance(9)
    first, none_done = await db.buildrequests.complete_with_buildsets([a, b], FAILURE)
    assert ([r.buildrequestid for r in first], none_done) == ([a, b], [])
    last, done = await db.buildrequests.complete_with_buildsets([c], SUCCESS)
    assert [(r.buildrequestid, r.complete, r.results) for r in last] == [(c, True, SUCCESS)]
    # the worst of the requests' results; the row as getBuildset gives it
    assert done == [await db.buildsets.getBuildset(bsid)]
    assert (done[0].complete, done[0].results, done[0].complete_at) == (True, FAILURE,
                                                                        rows.t(9))
    with pytest.raises(NotClaimedError):
        await db.buildrequests.complete_with_buildsets([c], SUCCESS)


@pytest_twisted.ensureDeferred
async def test_priority_of_incomplete_requests(db: DBConnector) -> None:
    _, (a, b, _c) = await _requests(db)
    await db.buildrequests.set_build_requests_priority([a, b], 7)
    assert [r.priority for r in await db.buildrequests.getBuildRequests()] == [7, 7, 0]


@pytest_twisted.ensureDeferred
async def test_get_build_request_joins_builder_and_claim(db: DBConnector) -> None:
    me = await rows.master(db)
    db.clock.advance(3)
    builderid, (a, *_rest) = await _requests(db, 1)
    await db.buildrequests.claimBuildRequests([a], claimed_at=4)
    got = await db.buildrequests.getBuildRequest(a)
    assert got == BuildRequestModel(a, got.buildsetid if got else 0, builderid, "b0",
                                    rows.t(3), results=-1, claimed_at=rows.t(4),
                                    claimed_by_masterid=me)
    assert got is not None and got.claimed


@pytest_twisted.ensureDeferred
async def test_filters_by_branch_and_result_spec(db: DBConnector) -> None:
    await rows.master(db)
    b = await db.builders.findBuilderId("b")
    assert b is not None
    _, x = await rows.buildset(db, [b], sourcestamps=[
        {"branch": "x", "repository": "r1", "project": "", "codebase": ""}])
    _, y = await rows.buildset(db, [b], sourcestamps=[
        {"branch": "y", "repository": "r1", "project": "", "codebase": ""}])
    assert [r.buildrequestid for r in await db.buildrequests.getBuildRequests(branch="y")] == \
        [y[b]]
    await db.buildrequests.claimBuildRequests([x[b]], claimed_at=5)
    for since in (5, rows.t(5)):
        spec = ResultSpec(filters=[Filter("claimed_at", "ge", [since])])
        assert [r.buildrequestid for r in await db.buildrequests.getBuildRequests(
            result_spec=spec)] == [x[b]]
    spec = ResultSpec(filters=[Filter("buildrequestid", "in", [y[b], 999])])
    assert [r.buildrequestid for r in await db.buildrequests.getBuildRequests(
        result_spec=spec)] == [y[b]]
