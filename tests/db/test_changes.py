"""Changes: adding, parents, reading, changes of a build, pruning."""

from __future__ import annotations

import datetime

import pytest
import pytest_twisted

from buildbot.db.changes import ChangeModel
from buildbot.db.connector import DBConnector
from buildbot.util.results import SUCCESS
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_add_change_stores_everything(db: DBConnector) -> None:
    uid = await db.users.findUserByAttr("dev", "git", "dev <d@x>")
    db.clock.advance(500)
    changeid = await db.changes.addChange(
        author="dev <d@x>", committer="c", files=["a.c", "b/c.h"], comments="fix",
        revision="abc", when_timestamp=datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC),
        branch="main", category="cat", revlink="http://r", properties={"k": ("v", "Change")},
        repository="git://r", codebase="cb", project="p", uid=uid)
    got = await db.changes.getChange(changeid)
    assert got == ChangeModel(changeid, "dev <d@x>", "c", "fix", "main", "abc", "http://r",
                              rows.t(1704153600), "cat", got.sourcestampid if got else 0, [], "git://r",
                              "cb", "p", ["a.c", "b/c.h"], {"k": ("v", "Change")})
    assert await db.changes.getChangeUids(changeid) == [uid]
    stamp = await db.sourcestamps.getSourceStamp(got.sourcestampid)  # type: ignore[union-attr]  # not None here
    assert stamp is not None and (stamp.branch, stamp.revision, stamp.created_at) == \
        ("main", "abc", rows.t(500))
    assert await db.changes.getChangeFromSSid(stamp.ssid) == got


@pytest_twisted.ensureDeferred
async def test_parent_is_newest_change_on_the_same_line(db: DBConnector) -> None:
    a = await db.changes.addChange(branch="main", repository="r", project="p")
    other = await db.changes.addChange(branch="dev", repository="r", project="p")
    b = await db.changes.addChange(branch="main", repository="r", project="p")
    got = await db.changes.get_changes_by_id([a, other, b])
    assert {k: v.parent_changeids for k, v in got.items()} == {a: [], other: [], b: [a]}
    assert await db.changes.getParentChangeIds("main", "r", "p", "") == [b]
    assert await db.changes.getParentChangeIds(None, "r", "p", "") == []
    assert await db.changes.getLatestChangeid() == b
    assert await db.changes.getChangesCount() == 3


@pytest_twisted.ensureDeferred
async def test_get_changes_with_result_spec(db: DBConnector) -> None:
    ids = [await db.changes.addChange(author=f"a{i}", repository="r", project="p")
           for i in range(4)]
    assert [c.changeid for c in await db.changes.getChanges()] == ids
    spec = ResultSpec(order=["-changeid"], limit=2)
    assert [c.changeid for c in await db.changes.getChanges(result_spec=spec)] == ids[:1:-1]
    spec = ResultSpec(filters=[Filter("author", "contains", ["a1", "a3"])])
    assert [c.changeid for c in await db.changes.getChanges(result_spec=spec)] == \
        [ids[1], ids[3]]


@pytest_twisted.ensureDeferred
async def test_changes_for_build_stop_at_previous_success(db: DBConnector) -> None:
    def stamp(ch: ChangeModel) -> list[int]:
        return [ch.sourcestampid]

    c1 = await db.changes.addChange(branch="main", revision="1", repository="r", project="p")
    c2 = await db.changes.addChange(branch="main", revision="2", repository="r", project="p")
    c3 = await db.changes.addChange(branch="main", revision="3", repository="r", project="p")
    ch = await db.changes.get_changes_by_id([c1, c3])
    _, _, first = await rows.build(db, "b", sourcestamps=stamp(ch[c1]))
    await db.builds.finishBuild(first, SUCCESS)
    _, _, second = await rows.build(db, "b", sourcestamps=stamp(ch[c3]))
    assert [c.changeid for c in await db.changes.getChangesForBuild(second)] == [c3, c2]
    assert [c.changeid for c in await db.changes.getChangesForBuild(first)] == [c1]


@pytest_twisted.ensureDeferred
async def test_prune_keeps_the_newest(db: DBConnector) -> None:
    s = await db.schedulers.findSchedulerId("s")
    ids = [await db.changes.addChange(files=["f"], properties={"a": (1, "Change")},
                                      repository="r", project="p") for _ in range(5)]
    await db.schedulers.classifyChanges(s, dict.fromkeys(ids, True))
    assert await db.changes.pruneChanges(2) == 3
    assert [c.changeid for c in await db.changes.getChanges()] == ids[3:]
    assert sorted(await db.schedulers.getChangeClassifications(s)) == ids[3:]
    assert await db.changes.pruneChanges(None) == 0
