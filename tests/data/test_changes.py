"""changes: addChange (properties, users, revlink, category, codebase generator), its
message, the getters and the reversed page of /changes."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.data.changes import change_entity
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import START_TIME, Stack, at

# SQL semantics: also run on PostgreSQL and MariaDB by .ci/run.
pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_add_change_stores_and_announces(stack: Stack) -> None:
    seen = stack.mq_record(("changes", None, None))

    changeid = await stack.updates.addChange(
        author="me <me@example.org>", committer="ci", files=["a.c", "b.c"], comments="fix",
        revision="r1", when_timestamp=START_TIME - 100, branch="main", category="bug",
        revlink="https://example.org/r1", properties={"color": "blue"},
        repository="https://example.org/repo", codebase="cb", project="proj")

    [(key, body)] = seen
    assert key == ("changes", str(changeid), "new")
    ss = body["sourcestamp"]
    assert body == {
        "changeid": changeid, "author": "me <me@example.org>", "committer": "ci",
        "comments": "fix", "branch": "main", "revision": "r1",
        "revlink": "https://example.org/r1", "when_timestamp": START_TIME - 100,
        "category": "bug", "parent_changeids": [], "repository": "https://example.org/repo",
        "codebase": "cb", "project": "proj", "files": ["a.c", "b.c"],
        "sourcestamp": {"ssid": ss["ssid"], "branch": "main", "revision": "r1",
                        "project": "proj", "repository": "https://example.org/repo",
                        "codebase": "cb", "created_at": at(), "patch": None},
        "properties": {"color": ("blue", "Change")}}
    assert change_entity.invalid_fields(body) == []
    assert await stack.data.get(("changes", changeid)) == body


@pytest_twisted.ensureDeferred
async def test_second_change_on_branch_has_parent(stack: Stack) -> None:
    first = await stack.make_change()
    second = await stack.make_change()
    other_branch = await stack.make_change(branch="dev")

    assert (await stack.data.get(("changes", second)))["parent_changeids"] == [first]
    assert (await stack.data.get(("changes", other_branch)))["parent_changeids"] == []


@pytest_twisted.ensureDeferred
async def test_when_timestamp_defaults_to_now_and_codebase_to_empty(stack: Stack) -> None:
    changeid = await stack.make_change(when_timestamp=None)
    body = await stack.data.get(("changes", changeid))
    assert (body["when_timestamp"], body["codebase"]) == (START_TIME, "")


@pytest_twisted.ensureDeferred
async def test_revlink_category_and_codebase_from_configuration(stack: Stack) -> None:
    seen_by_generator: list[dict[str, Any]] = []
    stack.master.config.revlink = lambda rev, repo: f"{repo}/commit/{rev}"

    def generator(chdict: dict[str, Any]) -> str:
        seen_by_generator.append(chdict)
        return "cb-" + chdict["project"]

    stack.master.config.codebaseGenerator = generator

    changeid = await stack.make_change(revision="r9", revlink="",
                                       category=lambda ch: ch["branch"].upper())

    body = await stack.data.get(("changes", changeid))
    assert body["revlink"] == "https://example.org/repo/commit/r9"
    assert body["category"] == "MAIN"
    assert body["codebase"] == "cb-proj"
    assert seen_by_generator[0]["category"] == "MAIN"
    assert seen_by_generator[0]["properties"] == {"color": ("blue", "Change")}


@pytest_twisted.ensureDeferred
async def test_src_maps_author_to_a_user(stack: Stack) -> None:
    changeid = await stack.make_change(author="dev@example.org", src="git")
    uids = await stack.db.changes.getChangeUids(changeid)
    assert len(uids) == 1
    user = await stack.db.users.getUser(uids[0])
    assert user.identifier == "dev@example.org"
    assert user.attributes == {"git": "dev@example.org"}


@pytest_twisted.ensureDeferred
async def test_changes_page_is_reversed_as_in_buildbot_4_3(stack: Stack) -> None:
    ids = [await stack.make_change() for _ in range(4)]

    async def got(**kw: Any) -> list[int]:
        return [c["changeid"] for c in await stack.data.get(("changes",), **kw)]

    assert await got() == ids[::-1]
    assert await got(order=["-changeid"], limit=2) == [ids[2], ids[3]]
    assert await got(order=["changeid"], limit=2) == [ids[1], ids[0]]
    # a filter the database cannot evaluate: the reversal happens before it, in memory
    assert await got(filters=[Filter("files", "contains", ["a.c"])], limit=2) == \
        [ids[3], ids[2]]


@pytest_twisted.ensureDeferred
async def test_changes_of_sourcestamp_and_of_build(stack: Stack) -> None:
    changeid = await stack.make_change()
    ssid = (await stack.data.get(("changes", changeid)))["sourcestamp"]["ssid"]
    bid = await stack.make_builder()
    _, brids = await stack.make_buildset(builderids=[bid], sourcestamps=[ssid])
    await stack.updates.claimBuildRequests([brids[bid]])
    build = await stack.make_build(builderid=bid, buildrequestid=brids[bid])

    assert [c["changeid"] for c in await stack.data.get(("sourcestamps", ssid, "changes"))] \
        == [changeid]
    assert await stack.data.get(("sourcestamps", 999, "changes")) == []
    assert [c["changeid"] for c in await stack.data.get(("builds", build.id, "changes"))] \
        == [changeid]
    assert [c["changeid"] for c in await stack.data.get(
        ("builders", bid, "builds", build.number, "changes"))] == [changeid]
    assert [b["buildid"] for b in await stack.data.get(("changes", changeid, "builds"))] \
        == [build.id]
