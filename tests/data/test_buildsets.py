"""buildsets and sourcestamps: addBuildset (requests, collapsing hook, messages), buildset
completion, getters; source stamps with patches."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from buildbot.data.buildsets import buildset_entity
from buildbot.data.sourcestamps import sourcestamp_entity
from buildbot.util.results import FAILURE, SKIPPED, SUCCESS, WARNINGS
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import START_TIME, Stack, at

STAMP = {"codebase": "", "repository": "https://example.org/repo", "branch": "main",
         "revision": "abc123", "project": "proj"}


def stamp_body(ssid: int, **kw: Any) -> dict[str, Any]:
    body = {"ssid": ssid, "branch": "main", "revision": "abc123", "project": "proj",
            "repository": "https://example.org/repo", "codebase": "",
            "created_at": at(), "patch": None}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_add_buildset_announces_buildset_then_requests(stack: Stack) -> None:
    a = await stack.make_builder()
    b = await stack.make_builder()
    seen = stack.mq_record(("buildrequests", None, None), ("buildsets", None, None))

    bsid, brids = await stack.updates.addBuildset(
        waited_for=True, scheduler="sched", sourcestamps=[STAMP], reason="because",
        properties={"p": (1, "Scheduler")}, builderids=[a, b], external_idstring="ext",
        priority=3)

    assert list(brids) == [a, b]
    # (the order Buildbot 4.3 produces them in)
    assert [k for k, _ in seen] == [("buildsets", str(bsid), "new"),
                                    ("buildrequests", str(brids[a]), "new"),
                                    ("buildrequests", str(brids[b]), "new")]
    br = seen[1][1]
    assert (br["priority"], br["waited_for"], br["results"], br["claimed"]) == (3, True, -1,
                                                                                 False)
    ssid = seen[0][1]["sourcestamps"][0]["ssid"]
    assert seen[0][1] == {
        "bsid": bsid, "external_idstring": "ext", "reason": "because", "parent_buildid": None,
        "rebuilt_buildid": None, "submitted_at": START_TIME, "complete": False,
        "complete_at": None, "results": None, "scheduler": "sched",
        "sourcestamps": [stamp_body(ssid)]}
    got = await stack.data.get(("buildsets", bsid))
    assert got == {
        "bsid": bsid, "external_idstring": "ext", "reason": "because",
        "submitted_at": START_TIME, "complete": False, "complete_at": None, "results": -1,
        "parent_buildid": None, "parent_relationship": None, "rebuilt_buildid": None,
        "sourcestamps": [stamp_body(ssid)]}
    assert buildset_entity.invalid_fields(got) == []


@pytest_twisted.ensureDeferred
async def test_collapser_hook_runs_between_insert_and_messages(stack: Stack) -> None:
    a = await stack.make_builder()
    seen = stack.mq_record(("buildrequests", None, None))
    calls: list[tuple[list[int], int]] = []

    async def collapse(brids: list[int]) -> None:
        calls.append((brids, len(seen)))
        # what a collapser does to an older duplicate: claim and complete it SKIPPED
        await stack.updates.claimBuildRequests(brids)
        await stack.updates.completeBuildRequests(brids, SKIPPED)

    stack.data.buildrequest_collapser = collapse
    bsid, brids = await stack.make_buildset(builderids=[a])

    assert calls == [([brids[a]], 0)]
    new = [b for k, b in seen if k[-1] == "new"]
    assert [(b["complete"], b["results"]) for b in new] == [(True, SKIPPED)]
    assert (await stack.data.get(("buildsets", bsid)))["complete"] is True


@pytest_twisted.ensureDeferred
async def test_buildset_without_builders_completes_at_once(stack: Stack) -> None:
    seen = stack.mq_record(("buildsets", None, None))

    _bsid, brids = await stack.make_buildset(builderids=[])

    assert brids == {}
    assert [k[-1] for k, _ in seen] == ["new", "complete"]
    assert seen[1][1]["results"] == SUCCESS


@pytest_twisted.ensureDeferred
async def test_buildset_results_are_the_worst_of_its_requests(stack: Stack) -> None:
    builders = [await stack.make_builder() for _ in range(3)]
    bsid, brids = await stack.make_buildset(builderids=builders)
    await stack.updates.claimBuildRequests(list(brids.values()))
    seen = stack.mq_record(("buildsets", None, None))
    stack.clock.advance(30)

    for builderid, result in zip(builders, [SKIPPED, WARNINGS, FAILURE]):
        await stack.updates.completeBuildRequests([brids[builderid]], result)
    await stack.updates.maybeBuildsetComplete(bsid)  # already complete: nothing

    [(key, body)] = seen
    ssid = body["sourcestamps"][0]["ssid"]
    assert key == ("buildsets", str(bsid), "complete")
    assert body == {
        "bsid": bsid, "external_idstring": None, "reason": "because", "rebuilt_buildid": None,
        "sourcestamps": [stamp_body(ssid)], "submitted_at": at(), "complete": True,
        "complete_at": at(30), "results": FAILURE, "parent_buildid": None,
        "parent_relationship": None}  # datetimes in this message only, as in Buildbot 4.3


@pytest_twisted.ensureDeferred
async def test_buildsets_collection_and_complete_filter(stack: Stack) -> None:
    done, _ = await stack.make_buildset(builderids=[])
    pending, _ = await stack.make_buildset()

    all_ids = [b["bsid"] for b in await stack.data.get(("buildsets",))]
    complete = await stack.data.get(("buildsets",), filters=[Filter("complete", "eq", [True])])
    paged = await stack.data.get(("buildsets",), order=["-bsid"], limit=1)

    assert all_ids == [done, pending]
    assert [b["bsid"] for b in complete] == [done]
    assert [b["bsid"] for b in paged] == [pending]


@pytest_twisted.ensureDeferred
async def test_sourcestamps_getters_and_patch(stack: Stack) -> None:
    patched = dict(STAMP, patch_body=b"--- a\n+++ b\n", patch_level=1, patch_subdir="sub",
                   patch_author="me", patch_comment="try this")
    bsid, _ = await stack.make_buildset(builderids=[], sourcestamps=[STAMP, patched])
    stamps = await stack.data.get(("buildsets", bsid, "sourcestamps"))

    plain, with_patch = sorted(stamps, key=lambda s: s["patch"] is not None)
    assert plain == stamp_body(plain["ssid"])
    assert with_patch["patch"] == {"patchid": with_patch["patch"]["patchid"], "level": 1,
                                   "subdir": "sub", "author": "me", "comment": "try this",
                                   "body": b"--- a\n+++ b\n"}
    assert sourcestamp_entity.invalid_fields(with_patch) == []
    assert await stack.data.get(("sourcestamps", plain["ssid"])) == plain
    assert await stack.data.get(("sourcestamps", 999)) is None
    assert sorted(s["ssid"] for s in await stack.data.get(("sourcestamps",))) == \
        sorted(s["ssid"] for s in stamps)
    assert await stack.data.get(("buildsets", "x", "sourcestamps")) == []


@pytest_twisted.ensureDeferred
async def test_identical_stamps_are_one_stamp(stack: Stack) -> None:
    bs1, _ = await stack.make_buildset(builderids=[])
    bs2, _ = await stack.make_buildset(builderids=[])
    s1 = (await stack.data.get(("buildsets", bs1)))["sourcestamps"]
    s2 = (await stack.data.get(("buildsets", bs2)))["sourcestamps"]
    assert s1 == s2
