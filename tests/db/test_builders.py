"""Builders, tags and builder_masters."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.builders import BuilderInfo, BuilderModel
from buildbot.db.connector import DBConnector
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_find_builder_id_creates_once(db: DBConnector) -> None:
    first = await db.builders.findBuilderId("linux")
    assert await db.builders.findBuilderId("linux") == first
    assert await db.builders.findBuilderId("other", autoCreate=False) is None
    assert await db.builders.getBuilders() == [BuilderModel(id=first, name="linux")]


@pytest_twisted.ensureDeferred
async def test_find_builder_ids_in_bulk_keeps_known_ids(db: DBConnector) -> None:
    known = await db.builders.findBuilderId("b3")
    names = [f"b{i}" for i in range(1200)]  # more than one IN (...) chunk
    ids = await db.builders.findBuilderIds(names)
    assert list(ids) != [] and set(ids) == set(names) and ids["b3"] == known
    assert len(set(ids.values())) == 1200
    assert await db.builders.findBuilderIds(reversed(names)) == ids


@pytest_twisted.ensureDeferred
async def test_update_many_builders_info_at_once(db: DBConnector) -> None:
    ids = await db.builders.findBuilderIds(["a", "b", "c"])
    await db.builders.updateBuilderInfo(ids["c"], "keep", None, None, None, ["old"])
    await db.builders.updateBuildersInfo({
        ids["a"]: BuilderInfo("da", "md", "<p>da</p>", None, ("x", "y")),
        ids["b"]: BuilderInfo(tags=("y", "y"))})
    assert await db.builders.getBuilders() == [
        BuilderModel(ids["a"], "a", "da", "md", "<p>da</p>", None, ["x", "y"]),
        BuilderModel(ids["b"], "b", tags=["y"]),
        BuilderModel(ids["c"], "c", "keep", tags=["old"])]
    m = await rows.master(db)
    await db.builders.addBuilderMasters([ids["a"], ids["b"]], m)
    await db.builders.addBuilderMasters([ids["a"]], m)
    assert [b.name for b in await db.builders.getBuilders(masterid=m)] == ["a", "b"]
    await db.builders.removeBuilderMasters([ids["a"], ids["b"]], m)
    assert await db.builders.getBuilders(masterid=m) == []


@pytest_twisted.ensureDeferred
async def test_update_info_replaces_tags_by_name_or_id(db: DBConnector) -> None:
    bid = await db.builders.findBuilderId("linux")
    projectid = await db.projects.find_project_id("proj")
    await db.builders.updateBuilderInfo(bid, "desc", "markdown", "<p>desc</p>", projectid,
                                        ["fast", "nightly"])
    fast = await db.tags.findTagId("fast")
    await db.builders.updateBuilderInfo(bid, None, None, None, None, [fast, "new"])
    assert await db.builders.getBuilder(bid) == BuilderModel(
        id=bid, name="linux", tags=["fast", "new"])
    await db.builders.updateBuilderInfo(bid, "desc", "markdown", "<p>desc</p>", projectid, [])
    assert await db.builders.getBuilder(bid) == BuilderModel(
        bid, "linux", "desc", "markdown", "<p>desc</p>", projectid, [], [])


@pytest_twisted.ensureDeferred
async def test_builder_masters_are_idempotent_and_listed_in_full(db: DBConnector) -> None:
    m1 = await rows.master(db, "m1")
    m2 = await rows.master(db, "m2")
    b1 = await db.builders.findBuilderId("b1")
    b2 = await db.builders.findBuilderId("b2")
    for _ in range(2):
        await db.builders.addBuilderMaster(builderid=b1, masterid=m1)
    await db.builders.addBuilderMaster(builderid=b1, masterid=m2)
    await db.builders.addBuilderMaster(builderid=b2, masterid=m2)
    on_m1 = await db.builders.getBuilders(masterid=m1)
    assert on_m1 == [BuilderModel(id=b1, name="b1", masterids=[m1, m2])]
    await db.builders.removeBuilderMaster(builderid=b1, masterid=m2)
    assert [b.masterids for b in await db.builders.getBuilders()] == [[m1], [m2]]
    assert await db.builders.getBuilder(12345) is None


@pytest_twisted.ensureDeferred
async def test_get_builders_by_project_and_worker(db: DBConnector) -> None:
    m = await rows.master(db)
    p = await db.projects.find_project_id("p")
    b1 = await db.builders.findBuilderId("b1")
    b2 = await db.builders.findBuilderId("b2")
    await db.builders.updateBuilderInfo(b2, None, None, None, p, [])
    await db.builders.addBuilderMaster(builderid=b1, masterid=m)
    w = await db.workers.findWorkerId("w")
    await db.workers.workerConfigured(w, m, [b1])
    assert [b.id for b in await db.builders.getBuilders(projectid=p)] == [b2]
    assert [b.id for b in await db.builders.getBuilders(workerid=w)] == [b1]
