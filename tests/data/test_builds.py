"""builds: getters on every path, properties selection, filters pushed to SQL, the build
updates with their routing keys, and the stop/rebuild actions."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.data.builds import build_entity
from buildbot.data.exceptions import InvalidControlException, InvalidPathError
from buildbot.util.results import FAILURE, SUCCESS
from buildbot.util.resultspec import Filter, Property, ResultSpec
from tests.fixtures.stack import Stack, at


def build_body(row: Any, **kw: Any) -> dict[str, Any]:
    body = {
        "buildid": row.id, "number": row.number, "builderid": row.builderid,
        "buildrequestid": row.buildrequestid, "workerid": row.workerid,
        "masterid": row.masterid, "started_at": row.started_at,
        "complete_at": row.complete_at, "locks_duration_s": row.locks_duration_s,
        "complete": row.complete_at is not None, "state_string": row.state_string,
        "results": row.results, "properties": {}}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_new_build_row_and_body(stack: Stack) -> None:
    b = await stack.make_build()
    body = await stack.data.get(("builds", b.id))
    assert body == {
        "buildid": b.id, "number": 1, "builderid": b.builderid,
        "buildrequestid": b.buildrequestid, "workerid": b.workerid,
        "masterid": stack.masterid, "started_at": at(), "complete_at": None,
        "locks_duration_s": 0, "complete": False, "state_string": "created",
        "results": None, "properties": {}}
    assert build_entity.invalid_fields(body) == []


@pytest_twisted.ensureDeferred
async def test_single_build_paths(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    b = await stack.make_build(builderid=bid)
    expected = build_body(b)
    assert await stack.data.get(("builders", bid, "builds", 1)) == expected
    assert await stack.data.get(("builders", "linux", "builds", "1")) == expected
    assert await stack.data.get(("builders", "linux", "builds", 2)) is None
    assert await stack.data.get(("builders", "nope", "builds", 1)) is None
    assert await stack.data.get(("builds", 999)) is None


@pytest_twisted.ensureDeferred
async def test_collection_paths(stack: Stack) -> None:
    linux = await stack.make_builder("linux")
    win = await stack.make_builder("win")
    w = await stack.make_worker()
    b1 = await stack.make_build(builderid=linux, workerid=w)
    b2 = await stack.make_build(builderid=win)
    b3 = await stack.make_build(builderid=linux)

    async def ids(*path: Any) -> list[int]:
        return [b["buildid"] for b in await stack.data.get(path)]

    assert await ids("builds") == [b1.id, b2.id, b3.id]
    assert await ids("builders", linux, "builds") == [b1.id, b3.id]
    assert await ids("builders", "linux", "builds") == [b1.id, b3.id]
    assert await ids("builders", "nope", "builds") == []
    assert await ids("buildrequests", b2.buildrequestid, "builds") == [b2.id]
    assert await ids("workers", w, "builds") == [b1.id]


@pytest_twisted.ensureDeferred
async def test_complete_and_buildrequestid_filters_are_consumed(stack: Stack) -> None:
    b1 = await stack.make_build()
    b2 = await stack.make_build()
    await stack.updates.finishBuild(b1.id, SUCCESS)

    done = await stack.data.get(("builds",), filters=[Filter("complete", "eq", [True])])
    running = await stack.data.get(("builds",), filters=[Filter("complete", "ne", [True])])
    by_br = await stack.data.get(("builds",), filters=[
        Filter("buildrequestid", "eq", [b2.buildrequestid])])

    assert [b["buildid"] for b in done] == [b1.id]
    assert [b["buildid"] for b in running] == [b2.id]
    assert [b["buildid"] for b in by_br] == [b2.id]


@pytest_twisted.ensureDeferred
async def test_properties_only_when_asked_for(stack: Stack) -> None:
    b = await stack.make_build()
    await stack.updates.setBuildProperty(b.id, "owner", "me", "Force Build Form")
    await stack.updates.setBuildProperty(b.id, "n", 3, "Build")

    def props(names: list[str]) -> ResultSpec:
        return ResultSpec(properties=[Property(b"property", "eq", names)])

    single = await stack.data.get_with_resultspec(("builds", b.id), props(["owner", "x"]))
    every = await stack.data.get_with_resultspec(("builds",), props(["*"]))
    none_match = await stack.data.get_with_resultspec(("builds", b.id), props(["x"]))

    assert single["properties"] == {"owner": ("me", "Force Build Form")}
    assert [dict(i["properties"]) for i in every] == [
        {"owner": ("me", "Force Build Form"), "n": (3, "Build")}]
    assert none_match["properties"] == {}
    assert (await stack.data.get(("builds", b.id)))["properties"] == {}


@pytest_twisted.ensureDeferred
async def test_build_updates_and_their_bodies(stack: Stack) -> None:
    builderid = await stack.make_builder()
    workerid = await stack.make_worker()
    _, brids = await stack.make_buildset(builderids=[builderid])
    seen = stack.mq_record(("builds", None, None))

    buildid, number = await stack.updates.addBuild(builderid, brids[builderid], workerid)
    assert seen == []  # addBuild announces nothing
    await stack.updates.setBuildStateString(buildid, "starting")
    await stack.updates.generateNewBuildEvent(buildid)
    await stack.updates.add_build_locks_duration(buildid, 7)
    stack.clock.advance(10)
    await stack.updates.finishBuild(buildid, FAILURE)

    bodies = [b for _, b in seen]
    assert [k for k, _ in seen] == [("builds", str(buildid), e)
                                    for e in ("update", "new", "update", "finished")]
    assert [b["state_string"] for b in bodies] == ["starting"] * 4
    assert [b["locks_duration_s"] for b in bodies] == [0, 0, 7, 7]
    assert (bodies[-1]["complete_at"], bodies[-1]["results"], bodies[-1]["complete"]) == \
        (at(10), FAILURE, True)
    assert bodies[-1] == await stack.data.get(("builds", buildid))
    assert number == 1


@pytest_twisted.ensureDeferred
async def test_one_body_under_three_keys_in_reference_order(stack: Stack) -> None:
    b = await stack.make_build()
    seen = stack.mq_record(("builders", None, "builds", None, None), ("builds", None, None),
                           ("workers", None, "builds", None, None))

    await stack.updates.setBuildStateString(b.id, "building")

    assert [k for k, _ in seen] == [
        ("builders", str(b.builderid), "builds", str(b.number), "update"),
        ("builds", str(b.id), "update"),
        ("workers", str(b.workerid), "builds", str(b.id), "update")]
    assert seen[0][1] is seen[1][1] is seen[2][1]  # built once, sent under every key


@pytest_twisted.ensureDeferred
async def test_stop_control_produces_the_control_message(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    b = await stack.make_build(builderid=bid)
    seen = stack.mq_record(("control", "builds", None, "stop"))

    assert await stack.data.control("stop", {"reason": "enough"}, ("builds", b.id)) is None
    await stack.data.control("stop", {}, ("builders", bid, "builds", 1))
    # Buildbot 4.3 fails with 500 through the builder name; we stop the build.
    await stack.data.control("stop", {"reason": "x"}, ("builders", "linux", "builds", 1))

    key = ("control", "builds", str(b.id), "stop")
    assert seen == [(key, {"reason": "enough"}), (key, {"reason": "no reason"}),
                    (key, {"reason": "x"})]
    with pytest.raises(InvalidPathError):
        await stack.data.control("stop", {}, ("builders", "linux", "builds", 9))
    with pytest.raises(InvalidControlException, match="action: explode is not supported"):
        await stack.data.control("explode", {}, ("builds", b.id))


@pytest_twisted.ensureDeferred
async def test_rebuild_submits_the_request_again(stack: Stack) -> None:
    b = await stack.make_build()
    orig = await stack.data.get(("buildrequests", b.buildrequestid))
    orig_bs = await stack.data.get(("buildsets", orig["buildsetid"]))

    bsid, brids = await stack.data.control("rebuild", {}, ("builds", b.id))

    bs = await stack.data.get(("buildsets", bsid))
    assert (bs["reason"], bs["rebuilt_buildid"]) == ("rebuild", b.id)
    assert [s["ssid"] for s in bs["sourcestamps"]] == \
        [s["ssid"] for s in orig_bs["sourcestamps"]]
    assert list(brids) == [b.builderid]
    assert await stack.data.get(("buildsets", bsid, "properties")) == \
        await stack.data.get(("buildsets", orig["buildsetid"], "properties"))


@pytest_twisted.ensureDeferred
async def test_triggered_builds(stack: Stack) -> None:
    parent = await stack.make_build()
    child_builder = await stack.make_builder()
    _, brids = await stack.make_buildset(builderids=[child_builder], parent_buildid=parent.id,
                                         parent_relationship="trigger")
    await stack.updates.claimBuildRequests(list(brids.values()))
    child = await stack.make_build(builderid=child_builder,
                                   buildrequestid=brids[child_builder])

    got = await stack.data.get(("builds", parent.id, "triggered_builds"))
    assert [b["buildid"] for b in got] == [child.id]
