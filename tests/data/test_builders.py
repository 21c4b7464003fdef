"""builders: getters by id, name, master, project and worker; builder updates and their
messages."""

from __future__ import annotations

import pytest_twisted

from buildbot.data.builders import BuilderInfo, builder_entity
from tests.fixtures.stack import Stack


def builder(builderid: int, name: str, masterids: list[int], **kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "builderid": builderid, "name": name, "masterids": masterids, "description": None,
        "description_format": None, "description_html": None, "projectid": None, "tags": []}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_builder_getters_by_id_name_and_master(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    other = await stack.make_builder("win", attach=False)
    linux = builder(bid, "linux", [stack.masterid])

    assert await stack.data.get(("builders", bid)) == linux
    assert builder_entity.invalid_fields(linux) == []
    assert await stack.data.get(("builders", "linux")) == linux
    assert await stack.data.get(("builders", "nope")) is None
    assert await stack.data.get(("masters", stack.masterid, "builders", bid)) == linux
    assert await stack.data.get(("masters", stack.masterid, "builders", other)) is None
    assert await stack.data.get(("builders",)) == [linux, builder(other, "win", [])]
    assert await stack.data.get(("masters", stack.masterid, "builders")) == [linux]


@pytest_twisted.ensureDeferred
async def test_builders_of_project_and_of_worker(stack: Stack) -> None:
    projectid = await stack.updates.find_project_id("proj")
    bid = await stack.make_builder("linux", projectid=projectid, tags=["fast"])
    await stack.make_builder("win")
    workerid = await stack.make_worker("w1")
    await stack.updates.workerConfigured(workerid, stack.masterid, [bid])

    expected = [builder(bid, "linux", [stack.masterid], projectid=projectid, tags=["fast"])]
    assert await stack.data.get(("projects", projectid, "builders")) == expected
    assert await stack.data.get(("workers", workerid, "builders")) == expected


@pytest_twisted.ensureDeferred
async def test_update_builder_info_stores_and_announces_update(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    seen = stack.mq_record(("builders", None, None))

    await stack.updates.updateBuilderInfo(bid, "Linux *builds*", "markdown",
                                          "<p>Linux <em>builds</em></p>", None, ["a", "b"])

    expected = builder(bid, "linux", [stack.masterid], description="Linux *builds*",
                       description_format="markdown",
                       description_html="<p>Linux <em>builds</em></p>", tags=["a", "b"])
    assert seen == [(("builders", str(bid), "update"), expected)]
    assert await stack.data.get(("builders", bid)) == expected


@pytest_twisted.ensureDeferred
async def test_update_builder_list_announces_each_attach_and_detach(stack: Stack) -> None:
    keep = await stack.make_builder("keep")
    gone = await stack.make_builder("gone")
    seen = stack.mq_record(("builders", None, None))

    await stack.updates.updateBuilderList(stack.masterid, ["keep", "new"])

    new = await stack.updates.findBuilderId("new")
    m = stack.masterid
    assert seen == [
        (("builders", str(gone), "stopped"), {"builderid": gone, "masterid": m, "name": "gone"}),
        (("builders", str(new), "started"), {"builderid": new, "masterid": m, "name": "new"}),
    ]
    attached = await stack.data.get(("masters", m, "builders"))
    assert sorted(b["builderid"] for b in attached) == sorted([keep, new])


@pytest_twisted.ensureDeferred
async def test_find_builder_id_is_stable(stack: Stack) -> None:
    first = await stack.updates.findBuilderId("x")
    assert await stack.updates.findBuilderId("x") == first


@pytest_twisted.ensureDeferred
async def test_update_many_builders_info_announces_an_update_each(stack: Stack) -> None:
    ids = await stack.updates.findBuilderIds(["a", "b", "c"])
    assert ids == {n: await stack.updates.findBuilderId(n) for n in "abc"}
    seen = stack.mq_record(("builders", None, None))

    await stack.updates.updateBuildersInfo({
        ids["a"]: BuilderInfo("A", tags=("x",)), ids["c"]: BuilderInfo(projectid=None)})

    assert seen == [
        (("builders", str(ids["a"]), "update"),
         builder(ids["a"], "a", [], description="A", tags=["x"])),
        (("builders", str(ids["c"]), "update"), builder(ids["c"], "c", [])),
    ]
