"""The root collection, /application.spec (compared with Buildbot 4.3's), and the REST
query-string parser on the real resource types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.data.connector import DataConnector
from buildbot.data.exceptions import InvalidQueryParameter
from buildbot.data.resultspec import resultspec_from_jsonapi
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import Stack

REFERENCE = json.loads((Path(__file__).parent / "reference_application_spec.json").read_text())


class _NoMaster:
    db = mq = reactor = None


@pytest.fixture(scope="module")
def connector() -> DataConnector:
    return DataConnector(_NoMaster())


def test_application_spec_equals_buildbot_4_3(connector: DataConnector) -> None:
    ours = connector.allEndpoints()
    assert [e["path"] for e in ours] == [e["path"] for e in REFERENCE["spec"]]
    assert ours == REFERENCE["spec"]


@pytest_twisted.ensureDeferred
async def test_root_links_and_spec_collection(stack: Stack) -> None:
    assert await stack.data.get(()) == REFERENCE["rootlinks"]
    spec = await stack.data.get(("application.spec",))
    assert len(spec) == 138
    assert await stack.data.get(("application.spec",),
                                filters=[Filter("path", "eq", ["builds/n:buildid"])]) == \
        [e for e in REFERENCE["spec"] if e["path"] == "builds/n:buildid"]


def entity(connector: DataConnector, path: tuple[Any, ...]) -> tuple[Any, bool]:
    endpoint, _ = connector.getEndpoint(path)
    return endpoint.rtype.entityType, endpoint.isCollection


@pytest.mark.parametrize(("path", "args", "message"), [
    (("builds",), {"field": ["buildid,number"]}, "no such field 'buildid,number'"),
    (("builds",), {"order": ["--buildid"]}, "no such field '-buildid'"),
    (("builds",), {"complete": ["maybe"]}, "invalid filter value for complete"),
    (("builds",), {"started_at__gt": ["1.5"]}, "invalid filter value for started_at__gt"),
    (("builds",), {"properties": ["x"]}, "invalid filter value for properties"),
    (("builds",), {"limit": ["x"], "bogus": ["1"]}, "invalid limit"),
    (("builds",), {"bogus": ["1"], "limit": ["x"]}, "unrecognized query parameter 'bogus'"),
    (("builds", 1), {"field": ["number"], "buildid": ["1"]},
     "cannot filter on un-selected fields"),
    (("builds", 1), {"buildid": ["1"]}, "this is not a collection"),
    (("steps", 1), {"name": ["abc"]}, "this is not a collection"),
    (("builds",), {"field": ["buildid"], "order": ["number"]},
     "cannot order on un-selected fields"),
    (("steps", 1, "logs"), {"slug": ["not an identifier"]}, "invalid filter value for slug"),
    (("builds", 1, "properties"), {"field": ["x"]}, "no such field 'x'"),
    # Buildbot 4.3 ignores these three (docs/differences.md).
    (("builds",), {"unknown__eq": ["1"]}, "unrecognized query parameter 'unknown__eq'"),
    (("builds",), {"number__lt": ["1", "2"]}, "'number__lt' takes a single value"),
    (("builds",), {"number__foo": ["1"]},
     "invalid filter operator 'foo' in 'number__foo' (known: contains, eq, ge, gt, in, le, "
     "lt, ne, notin)"),
    (("builds",), {"limit": ["-1"]}, "invalid limit: -1 is not between 0 and "
     "9223372036854775807"),
    (("builds",), {"offset": ["99999999999999999999"]}, "invalid offset: "
     "99999999999999999999 is not between 0 and 9223372036854775807"),
    (("builds",), {"buildid": ["99999999999999999999"]},
     "invalid filter value for buildid: out of range"),
])
def test_rest_query_errors(connector: DataConnector, path: tuple[Any, ...],
                           args: dict[str, list[str]], message: str) -> None:
    etype, is_collection = entity(connector, path)
    with pytest.raises(InvalidQueryParameter) as e:
        resultspec_from_jsonapi(args, etype, is_collection)
    assert str(e.value) == message


def test_rest_query_values_by_type(connector: DataConnector) -> None:
    etype, _ = entity(connector, ("builds",))
    rs = resultspec_from_jsonapi({
        "complete": ["Yes"], "results__ne": ["0", "2"], "started_at__ge": ["100"],
        "state_string__contains": ["fail"],
        "limit": ["5"], "offset": ["10"], "order": ["-number", "buildid"],
        "property": ["owner"]}, etype, True)
    assert rs.filters == [Filter("complete", "eq", [True]), Filter("results", "ne", [0, 2]),
                          Filter("started_at", "ge", [100]),
                          Filter("state_string", "contains", ["fail"])]
    assert (rs.limit, rs.offset, rs.order) == (5, 10, ("-number", "buildid"))
    assert rs.properties[0].values == ["owner"]
    steps, _ = entity(connector, ("builds", 1, "steps"))
    assert resultspec_from_jsonapi({"name": ["a.b-c_d"]}, steps, True).filters == [
        Filter("name", "eq", ["a.b-c_d"])]
