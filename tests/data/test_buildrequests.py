"""buildrequests: getters and consumed filters, buildset properties selection, claim /
unclaim / complete / cancel updates with their routing keys, cancel and set_priority."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.data.buildrequests import buildrequest_entity
from buildbot.data.exceptions import InvalidControlException
from buildbot.util.results import CANCELLED, RETRY, SUCCESS
from buildbot.util.resultspec import Filter, Property, ResultSpec
from tests.fixtures.stack import START_TIME, Stack, at

# SQL semantics: also run on PostgreSQL and MariaDB by .ci/run.
pytestmark = pytest.mark.db


def br_body(brid: int, bsid: int, builderid: int, **kw: Any) -> dict[str, Any]:
    body = {
        "buildrequestid": brid, "buildsetid": bsid, "builderid": builderid, "priority": 0,
        "claimed": False, "claimed_at": None, "claimed_by_masterid": None,
        "complete": False, "results": -1, "submitted_at": at(), "complete_at": None,
        "waited_for": False, "properties": None}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_getters(stack: Stack) -> None:
    a = await stack.make_builder()
    b = await stack.make_builder()
    bsid, brids = await stack.make_buildset(builderids=[a, b])

    first = br_body(brids[a], bsid, a)
    assert await stack.data.get(("buildrequests", brids[a])) == first
    assert buildrequest_entity.invalid_fields(first) == []
    assert await stack.data.get(("buildrequests", 999)) is None
    assert await stack.data.get(("buildrequests",)) == [first, br_body(brids[b], bsid, b)]
    assert await stack.data.get(("builders", b, "buildrequests")) == [br_body(brids[b], bsid, b)]


@pytest_twisted.ensureDeferred
async def test_consumed_filters(stack: Stack) -> None:
    a = await stack.make_builder()
    bs1, br1 = await stack.make_buildset(builderids=[a])
    bs2, br2 = await stack.make_buildset(builderids=[a])
    _, br3 = await stack.make_buildset(builderids=[a])
    await stack.updates.claimBuildRequests([br1[a], br2[a]])
    await stack.updates.completeBuildRequests([br1[a]], SUCCESS)

    async def ids(*filters: Filter) -> list[int]:
        got = await stack.data.get(("buildrequests",), filters=list(filters))
        return [r["buildrequestid"] for r in got]

    assert await ids(Filter("complete", "eq", [True])) == [br1[a]]
    assert await ids(Filter("complete", "eq", [False])) == [br2[a], br3[a]]
    assert await ids(Filter("claimed", "eq", [True])) == [br1[a], br2[a]]
    assert await ids(Filter("claimed", "eq", [False])) == [br3[a]]
    assert await ids(Filter("claimed_by_masterid", "eq", [stack.masterid])) == \
        [br1[a], br2[a]]
    assert await ids(Filter("buildsetid", "eq", [bs2])) == [br2[a]]
    assert await ids(Filter("buildsetid", "eq", [bs1, bs2])) == [br1[a], br2[a]]


@pytest_twisted.ensureDeferred
async def test_buildset_properties_on_request(stack: Stack) -> None:
    a = await stack.make_builder()
    _, brids = await stack.make_buildset(
        builderids=[a], properties={"x": (1, "Scheduler"), "y": ("z", "Force Build Form")})

    def rs(names: list[str]) -> ResultSpec:
        return ResultSpec(properties=[Property(b"property", "eq", names)])

    path = ("buildrequests", brids[a])
    assert (await stack.data.get_with_resultspec(path, rs(["x"])))["properties"] == \
        {"x": (1, "Scheduler")}
    assert (await stack.data.get_with_resultspec(path, rs(["nope"])))["properties"] == {}
    everything = await stack.data.get_with_resultspec(("buildrequests",), rs(["*"]))
    assert everything[0]["properties"] == {"x": (1, "Scheduler"), "y": ("z", "Force Build Form")}


@pytest_twisted.ensureDeferred
async def test_claim_unclaim_complete_announce_every_key(stack: Stack) -> None:
    a = await stack.make_builder()
    bsid, brids = await stack.make_buildset(builderids=[a])
    brid = brids[a]
    seen = stack.mq_record(("buildsets", None, "builders", None, "buildrequests", None, None),
                           ("buildrequests", None, None),
                           ("builders", None, "buildrequests", None, None))

    assert await stack.updates.claimBuildRequests([brid]) is True
    assert await stack.updates.claimBuildRequests([brid]) is False
    await stack.updates.unclaimBuildRequests([brid])
    await stack.updates.claimBuildRequests([brid], claimed_at=START_TIME + 5)
    stack.clock.advance(20)
    assert await stack.updates.completeBuildRequests([brid], SUCCESS) is True
    assert await stack.updates.completeBuildRequests([brid], SUCCESS) is False

    def keys(event: str) -> list[tuple[str, ...]]:
        return [("buildsets", str(bsid), "builders", str(a), "buildrequests", str(brid), event),
                ("buildrequests", str(brid), event),
                ("builders", str(a), "buildrequests", str(brid), event)]

    assert [k for k, _ in seen] == \
        keys("claimed") + keys("unclaimed") + keys("claimed") + keys("complete")
    claimed = br_body(brid, bsid, a, claimed=True, claimed_at=at(),
                      claimed_by_masterid=stack.masterid)
    assert seen[0][1] == claimed
    assert seen[3][1] == br_body(brid, bsid, a)
    assert seen[9][1] == br_body(brid, bsid, a, claimed=True, claimed_at=at(5),
                                 claimed_by_masterid=stack.masterid, complete=True,
                                 results=SUCCESS, complete_at=at(20))


@pytest_twisted.ensureDeferred
async def test_completing_the_last_request_completes_the_buildset(stack: Stack) -> None:
    a = await stack.make_builder()
    b = await stack.make_builder()
    bsid, brids = await stack.make_buildset(builderids=[a, b])
    await stack.updates.claimBuildRequests(list(brids.values()))
    seen = stack.mq_record(("buildsets", None, None))

    await stack.updates.completeBuildRequests([brids[a]], SUCCESS)
    assert seen == []
    await stack.updates.completeBuildRequests([brids[b]], CANCELLED)

    assert [k for k, _ in seen] == [("buildsets", str(bsid), "complete")]
    assert seen[0][1]["results"] == CANCELLED


@pytest_twisted.ensureDeferred
async def test_retry_cannot_complete_a_request(stack: Stack) -> None:
    with pytest.raises(ValueError):
        await stack.updates.completeBuildRequests([1], RETRY)


@pytest_twisted.ensureDeferred
async def test_cancel_control_produces_control_message(stack: Stack) -> None:
    a = await stack.make_builder()
    _, brids = await stack.make_buildset(builderids=[a])
    seen = stack.mq_record(("control", "buildrequests", None, "cancel"))

    await stack.data.control("cancel", {"reason": "dup"}, ("buildrequests", brids[a]))
    await stack.data.control("cancel", {}, ("buildrequests", brids[a]))

    key = ("control", "buildrequests", str(brids[a]), "cancel")
    assert seen == [(key, {"reason": "dup"}), (key, {"reason": "no reason"})]


@pytest_twisted.ensureDeferred
async def test_cancel_unclaimed_request(stack: Stack) -> None:
    a = await stack.make_builder()
    bsid, brids = await stack.make_buildset(builderids=[a])
    brid = brids[a]
    seen = stack.mq_record(("buildrequests", None, None), ("buildsets", None, None))

    assert await stack.updates.cancelUnclaimedBuildRequest(brid) is True
    assert await stack.updates.cancelUnclaimedBuildRequest(brid) is False

    assert [k for k, _ in seen] == [("buildrequests", str(brid), "complete"),
                                    ("buildsets", str(bsid), "complete"),
                                    ("buildrequests", str(brid), "cancel")]
    assert seen[-1][1]["results"] == CANCELLED


@pytest_twisted.ensureDeferred
async def test_set_priority(stack: Stack) -> None:
    a = await stack.make_builder()
    _, brids = await stack.make_buildset(builderids=[a])
    path = ("buildrequests", brids[a])
    seen = stack.mq_record(("buildrequests", None, None))

    assert await stack.data.control("set_priority", {"priority": 12}, path) is None

    assert (await stack.data.get(path))["priority"] == 12
    assert seen == []
    await stack.updates.claimBuildRequests([brids[a]])
    await stack.updates.completeBuildRequests([brids[a]], SUCCESS)
    await stack.data.control("set_priority", {"priority": 1}, path)  # complete: unchanged
    assert (await stack.data.get(path))["priority"] == 12
    with pytest.raises(InvalidControlException, match="action: boost is not supported"):
        await stack.data.control("boost", {}, path)
