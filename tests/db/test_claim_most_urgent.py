"""Claiming a builder's most urgent requests in one transaction (`claim_most_urgent`) and
claiming with the claimed rows read back (`claim_and_read`): the distributor's claims."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.errors import AlreadyClaimedError
from buildbot.util.deferred import gather
from tests.db import rows
from tests.db.test_multimaster import pair  # noqa: F401  # (a fixture)

pytestmark = pytest.mark.db


async def _requests(db: DBConnector, builderid: int, priorities: list[int]) -> list[int]:
    """One request per priority on `builderid`, oldest first."""
    out = []
    for i, p in enumerate(priorities):
        _, brids = await rows.buildset(db, [builderid], priority=p, submitted_at=100 + i)
        out.append(brids[builderid])
    return out


@pytest_twisted.ensureDeferred
async def test_the_most_urgent_is_claimed_and_the_next_are_read(db: DBConnector) -> None:
    me = await rows.master(db, "me")
    builderid = await db.builders.findBuilderId("b")
    other_builder = await db.builders.findBuilderId("c")
    assert builderid is not None and other_builder is not None
    a, b, c, d = await _requests(db, builderid, [0, 5, 5, 0])
    await _requests(db, other_builder, [9])
    got = await db.buildrequests.claim_most_urgent(builderid, count=1, lookahead=2,
                                                   claimed_at=200)
    # highest priority first, then the oldest
    assert [r.buildrequestid for r in got.claimed] == [b]
    assert (got.claimed[0].claimed_by_masterid, got.claimed[0].claimed_at) == (me, rows.t(200))
    assert [r.buildrequestid for r in got.unclaimed] == [c, a]
    assert not got.complete  # d was not read
    stored = await db.buildrequests.getBuildRequests(claimed=True)
    assert [(r.buildrequestid, r.claimed_by_masterid, r.claimed_at) for r in stored] == [
        (b, me, rows.t(200))]

    got = await db.buildrequests.claim_most_urgent(builderid, count=2, lookahead=5)
    assert [r.buildrequestid for r in got.claimed] == [c, a]
    assert [r.buildrequestid for r in got.unclaimed] == [d] and got.complete
    got = await db.buildrequests.claim_most_urgent(builderid, count=1, lookahead=5, skip=[d])
    assert got.claimed == [] and got.unclaimed == [] and got.complete


@pytest_twisted.ensureDeferred
async def test_requests_claimed_or_complete_are_passed_over(db: DBConnector) -> None:
    await rows.master(db, "me")
    other = await rows.master(db, "other", local=False)
    builderid = await db.builders.findBuilderId("b")
    assert builderid is not None
    a, b, c = await _requests(db, builderid, [0, 0, 0])
    await db.buildrequests.claimBuildRequests([a], masterid=other)
    await db.buildrequests.claimBuildRequests([b])
    await db.buildrequests.completeBuildRequests([b], 0)
    got = await db.buildrequests.claim_most_urgent(builderid, count=3)
    assert [r.buildrequestid for r in got.claimed] == [c] and got.complete
    claims = {r.buildrequestid: r.claimed_by_masterid
              for r in await db.buildrequests.getBuildRequests(claimed=True)}
    assert claims[a] == other


@pytest_twisted.ensureDeferred
async def test_two_masters_racing_claim_each_request_once(
        pair: tuple[DBConnector, DBConnector]) -> None:  # noqa: F811  # the fixture
    one, two = pair
    builderid = await one.builders.findBuilderId("b")
    assert builderid is not None
    brids = await _requests(one, builderid, [0] * 12)

    async def claim_all(db: DBConnector) -> list[int]:
        won: list[int] = []
        while True:
            got = await db.buildrequests.claim_most_urgent(builderid, count=1, lookahead=1)
            if not got.claimed:
                return won
            won.extend(r.buildrequestid for r in got.claimed)

    won_one, won_two = await gather([claim_all(one), claim_all(two)])
    assert sorted(won_one + won_two) == brids
    stored = {r.buildrequestid: r.claimed_by_masterid
              for r in await one.buildrequests.getBuildRequests(claimed=True)}
    assert stored == {**{b: one.masterid for b in won_one}, **{b: two.masterid for b in won_two}}


@pytest_twisted.ensureDeferred
async def test_claim_and_read_returns_the_claimed_rows_or_claims_nothing(
        db: DBConnector) -> None:
    me = await rows.master(db, "me")
    other = await rows.master(db, "other", local=False)
    builderid = await db.builders.findBuilderId("b")
    assert builderid is not None
    a, b, c = await _requests(db, builderid, [0, 0, 0])
    claimed = await db.buildrequests.claim_and_read([c, a], claimed_at=300)
    assert [(r.buildrequestid, r.claimed_by_masterid, r.claimed_at, r.buildername)
            for r in claimed] == [(c, me, rows.t(300), "b"), (a, me, rows.t(300), "b")]
    await db.buildrequests.claimBuildRequests([b], masterid=other)
    with pytest.raises(AlreadyClaimedError):
        await db.buildrequests.claim_and_read([b])
    assert {r.buildrequestid for r in await db.buildrequests.getBuildRequests(claimed=me)} \
        == {a, c}


@pytest_twisted.ensureDeferred
async def test_unclaimed_keys_are_the_incomplete_unclaimed_requests(db: DBConnector) -> None:
    await rows.master(db, "me")
    builderid = await db.builders.findBuilderId("b")
    assert builderid is not None
    a, b, c = await _requests(db, builderid, [0, 3, 0])
    await db.buildrequests.claimBuildRequests([a])
    assert sorted(await db.buildrequests.unclaimed_keys()) == [
        (builderid, b, 3, 101), (builderid, c, 0, 102)]
    await db.buildrequests.completeBuildRequests([c], 0)
    assert await db.buildrequests.unclaimed_keys() == [(builderid, b, 3, 101)]
