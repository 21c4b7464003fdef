"""The data API framework: path patterns, endpoint dispatch, REST query parsing."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import pytest_twisted

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, PathPattern, ResourceType
from buildbot.data.connector import DataConnector
from buildbot.data.exceptions import InvalidPathError, InvalidQueryParameter
from buildbot.data.resultspec import Filter, resultspec_from_jsonapi
from buildbot.mq.simple import SimpleMQ
from buildbot.util.resultspec import ResultSpec


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/builders/n:builderid", ("builders", "12"), {"builderid": 12}),
        ("/builders/n:builderid", ("builders", 12), {"builderid": 12}),
        ("/builders/n:builderid", ("builders", "x"), None),
        ("/builders/i:buildername", ("builders", "my-builder"), {"buildername": "my-builder"}),
        ("/builders/i:buildername", ("builders", "123"), None),
        ("/builders/s:buildername", ("builders", "123"), {"buildername": "123"}),
        ("/buildsets/:buildsetid/sourcestamps", ("buildsets", "7", "sourcestamps"),
         {"buildsetid": "7"}),
        ("/builds", ("builds", "1"), None),
        ("", (), {}),
    ],
)
def test_path_pattern_matching(pattern: str, path: Any, expected: Any) -> None:
    assert PathPattern(pattern).match(path) == expected


_THINGS = [{"thingid": i, "name": f"t{i}", "tags": ["a"] if i % 2 else []} for i in range(1, 6)]


class ThingEndpoint(Endpoint):
    kind = EndpointKind.SINGLE
    pathPatterns = "/things/n:thingid /things/i:name"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        for t in _THINGS:
            if t["thingid"] == kwargs.get("thingid") or t["name"] == kwargs.get("name"):
                return dict(t)
        return None


class ThingsEndpoint(Endpoint):
    kind = EndpointKind.COLLECTION
    pathPatterns = "/things"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return [dict(t) for t in _THINGS]


class Thing(ResourceType):
    name = "thing"
    plural = "things"
    endpoints: ClassVar[list[type[Endpoint]]] = [ThingEndpoint, ThingsEndpoint]
    eventPathPatterns = "/things/:thingid"
    entityType = types.Entity("thing", {
        "thingid": types.Integer(), "name": types.Identifier(50),
        "tags": types.List(of=types.String())})


class _Master:
    def __init__(self) -> None:
        from twisted.internet.task import Clock
        self.mq = SimpleMQ()
        self.db = None
        self.reactor = Clock()
        self.masterid = 1


@pytest.fixture
def data() -> DataConnector:
    conn = DataConnector(_Master(), modules=[])
    conn._add_rtype(Thing(conn))
    return conn


@pytest_twisted.ensureDeferred
async def test_get_single_by_id_and_name(data: DataConnector) -> None:
    assert (await data.get(("things", 2)))["name"] == "t2"
    assert (await data.get(("things", "t3")))["thingid"] == 3
    assert await data.get(("things", 99)) is None


@pytest_twisted.ensureDeferred
async def test_unknown_path_raises(data: DataConnector) -> None:
    with pytest.raises(InvalidPathError, match="Invalid path: nope/1"):
        await data.get(("nope", 1))


@pytest_twisted.ensureDeferred
async def test_collection_filters_order_paging_and_total(data: DataConnector) -> None:
    rs = ResultSpec(filters=[Filter("thingid", "gt", [1])], order=["-thingid"], limit=2,
                    fields=["thingid"])
    items, total = await data.get_with_total(("things",), rs)
    assert items == [{"thingid": 5}, {"thingid": 4}]
    assert total == 4


@pytest_twisted.ensureDeferred
async def test_contains_on_list_field(data: DataConnector) -> None:
    items = await data.get(("things",), filters=[Filter("tags", "contains", ["a"])])
    assert [i["thingid"] for i in items] == [1, 3, 5]


def test_event_keys_follow_patterns(data: DataConnector) -> None:
    assert data.getResourceType("thing").event_keys({"thingid": 3}, "new") == [("things", "3", "new")]


@pytest.mark.parametrize(
    ("args", "is_collection", "message"),
    [
        ({"field": ["bogus"]}, True, "no such field 'bogus'"),
        ({"order": ["-bogus"]}, True, "no such field 'bogus'"),
        ({"limit": ["x"]}, True, "invalid limit"),
        ({"offset": ["x"]}, True, "invalid offset"),
        ({"wat": ["1"]}, True, "unrecognized query parameter 'wat'"),
        ({"thingid": ["x"]}, True, "invalid filter value for thingid"),
        ({"thingid__lt": ["x"]}, True, "invalid filter value for thingid__lt"),
        ({"thingid": ["1"]}, False, "this is not a collection"),
        ({"field": ["name"], "order": ["thingid"]}, True, "cannot order on un-selected fields"),
        ({"field": ["name"], "thingid": ["1"]}, True, "cannot filter on un-selected fields"),
    ],
)
def test_query_parsing_errors(args: Any, is_collection: bool, message: str) -> None:
    with pytest.raises(InvalidQueryParameter) as e:
        resultspec_from_jsonapi(args, Thing.entityType, is_collection)
    assert str(e.value) == message


def test_query_parsing_builds_resultspec() -> None:
    rs = resultspec_from_jsonapi(
        {b"thingid__gt": [b"2"], "name": ["a", "b"], "order": ["-thingid"], "limit": ["5"],
         "offset": ["1"], "property": ["owner", "*"]},
        Thing.entityType, True)
    assert rs.filters == [Filter("thingid", "gt", [2]), Filter("name", "eq", ["a", "b"])]
    assert (rs.order, rs.limit, rs.offset) == (("-thingid",), 5, 1)
    assert rs.properties[0].values == ["owner", "*"]
