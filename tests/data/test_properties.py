"""Build and buildset properties: dict and list forms, setBuildProperty(ies) messages."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from buildbot.process.properties import Properties
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import Stack


def props_of(values: dict[str, tuple[Any, str]]) -> Properties:
    props = Properties()
    for name, (value, source) in values.items():
        props.setProperty(name, value, source)
    return props


@pytest_twisted.ensureDeferred
async def test_build_properties_dict_and_list_forms(stack: Stack) -> None:
    b = await stack.make_build()
    await stack.updates.setBuildProperty(b.id, "owner", "me", "Force Build Form")
    await stack.updates.setBuildProperty(b.id, "n", [1, 2], "Build")

    props = {"owner": ("me", "Force Build Form"), "n": ([1, 2], "Build")}
    assert await stack.data.get(("builds", b.id, "properties")) == props
    assert await stack.data.get(("builders", b.builderid, "builds", b.number,
                                 "properties")) == props
    assert await stack.data.get(("builds", 999, "properties")) == {}
    listed = await stack.data.get(("builds", b.id, "property_list"))
    assert sorted(listed, key=lambda p: p["name"]) == [
        {"name": "n", "source": "Build", "value": "[1, 2]"},
        {"name": "owner", "source": "Force Build Form", "value": '"me"'}]
    only = await stack.data.get(("builds", b.id, "property_list"),
                                filters=[Filter("name", "eq", ["n"])])
    assert only == [{"name": "n", "source": "Build", "value": "[1, 2]"}]


@pytest_twisted.ensureDeferred
async def test_buildset_and_change_properties(stack: Stack) -> None:
    bsid, _ = await stack.make_buildset(builderids=[], properties={"p": ("v", "Scheduler")})
    changeid = await stack.make_change(properties={"color": "blue"})

    assert await stack.data.get(("buildsets", bsid, "properties")) == {"p": ("v", "Scheduler")}
    assert await stack.data.get(("buildsets", bsid, "properties_list")) == [
        {"name": "p", "source": "Scheduler", "value": '"v"'}]
    # Buildbot 4.3 answers 500 here.
    assert await stack.data.get(("changes", changeid, "properties_list")) == [
        {"name": "color", "source": "Change", "value": '"blue"'}]


@pytest_twisted.ensureDeferred
async def test_set_build_properties_announces_only_changes(stack: Stack) -> None:
    b = await stack.make_build()
    seen = stack.mq_record(("builds", None, "properties", "update"))
    key = ("builds", str(b.id), "properties", "update")

    await stack.updates.setBuildProperties(b.id, props_of(
        {"a": (1, "Builder"), "b": ("x", "Worker")}))
    await stack.updates.setBuildProperties(b.id, props_of(
        {"a": (1, "Builder"), "b": ("y", "Worker")}))
    await stack.updates.setBuildProperties(b.id, props_of(
        {"a": (1, "Builder")}))

    assert seen == [(key, {"a": (1, "Builder"), "b": ("x", "Worker")}),
                    (key, {"b": ("y", "Worker")})]
    assert await stack.data.get(("builds", b.id, "properties")) == \
        {"a": (1, "Builder"), "b": ("y", "Worker")}


@pytest_twisted.ensureDeferred
async def test_set_build_property_announces_it_under_its_name(stack: Stack) -> None:
    b = await stack.make_build()
    seen = stack.mq_record(("builds", None, "properties", "update"))

    await stack.updates.setBuildProperty(b.id, "owner", "me", "Force Build Form")

    # Buildbot 4.3 sends {"name": ("me", ...)} whatever the property's name.
    assert seen == [(("builds", str(b.id), "properties", "update"),
                     {"owner": ("me", "Force Build Form")})]
