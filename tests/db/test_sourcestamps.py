"""Source stamps and patches."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.errors import InvalidValueError
from buildbot.db.sourcestamps import PatchModel, SourceStampModel
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db

STAMP = {"branch": "main", "revision": "abc", "repository": "git://r", "project": "p",
         "codebase": "cb"}


@pytest_twisted.ensureDeferred
async def test_same_attributes_give_the_same_stamp(db: DBConnector) -> None:
    db.clock.advance(100)
    ssid, found = await db.sourcestamps.findOrCreateId(**STAMP)
    assert found is False
    db.clock.advance(5)
    assert await db.sourcestamps.findOrCreateId(**STAMP) == (ssid, True)
    assert await db.sourcestamps.findSourceStampId(**{**STAMP, "branch": None}) != ssid
    assert await db.sourcestamps.getSourceStamp(ssid) == SourceStampModel(
        ssid, "main", "abc", "git://r", rows.t(100), "cb", "p")


@pytest_twisted.ensureDeferred
async def test_patched_stamps_are_never_shared(db: DBConnector) -> None:
    patch = {"patch_body": b"\xff--- a\n+++ b\n", "patch_level": 1, "patch_author": "me",
             "patch_comment": "try", "patch_subdir": "sub"}
    a = await db.sourcestamps.findSourceStampId(**STAMP, **patch)
    b = await db.sourcestamps.findSourceStampId(**STAMP, **patch)
    assert a != b
    stamp = await db.sourcestamps.getSourceStamp(a)
    assert stamp is not None and stamp.patch is not None
    assert stamp.patch == PatchModel(stamp.patch.patchid, b"\xff--- a\n+++ b\n", 1, "me", "try",
                                     "sub")


@pytest_twisted.ensureDeferred
async def test_repository_must_be_a_string(db: DBConnector) -> None:
    with pytest.raises(InvalidValueError):
        await db.sourcestamps.findSourceStampId(**{**STAMP, "repository": None})


@pytest_twisted.ensureDeferred
async def test_stamps_of_buildset_and_build(db: DBConnector) -> None:
    s1 = await db.sourcestamps.findSourceStampId(**STAMP)
    s2 = await db.sourcestamps.findSourceStampId(**{**STAMP, "codebase": "other"})
    _, _, buildid = await rows.build(db, sourcestamps=[s2, s1])
    bs = await db.buildsets.getBuildsets()
    assert [s.ssid for s in await db.sourcestamps.get_sourcestamps_for_buildset(bs[0].bsid)] \
        == [s1, s2]
    assert [s.ssid for s in await db.sourcestamps.getSourceStampsForBuild(buildid)] == [s1, s2]
    spec = ResultSpec(filters=[Filter("codebase", "eq", ["other"])])
    assert [s.ssid for s in await db.sourcestamps.getSourceStamps(result_spec=spec)] == [s2]
