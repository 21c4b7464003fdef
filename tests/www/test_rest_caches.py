"""What the REST path remembers between requests (endpoint lookups, parsed query options,
datetimes' epochs) never leaks from one request into the next."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import pytest_twisted

from buildbot.util.resultspec import ResultSpec
from buildbot.www.encoding import dumps, envelope_chunks
from tests.www.harness import ThingsEndpoint, WebMaster, get_json


@pytest_twisted.ensureDeferred
async def test_endpoint_lookup_gives_each_caller_its_own_arguments(master: WebMaster) -> None:
    data = master.data
    endpoint, kwargs = data.getEndpoint(("things", "3"))
    kwargs["thingid"] = 99  # an endpoint may change what it is given
    again, kwargs2 = data.getEndpoint(("things", "3"))
    assert again is endpoint
    assert kwargs2 == {"thingid": 3}
    # 1, 1.0 and True are one dict key; the argument of an `i:` element is their text.
    assert data.getEndpoint(("things", 1))[1] == {"thingid": 1}
    assert data.getEndpoint(["things", True])[1] == {"thingid": 1}
    assert data.getEndpoint(("things", "t1"))[1] == {"name": "t1"}


@pytest_twisted.ensureDeferred
async def test_repeated_request_is_answered_alike_when_the_endpoint_consumes_its_spec(
        master: WebMaster, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []

    async def consuming_get(self: ThingsEndpoint, result_spec: ResultSpec,
                            kwargs: dict[str, Any]) -> Any:
        seen.append((list(result_spec.filters), result_spec.limit))
        name = result_spec.popStringFilter("name")  # done "in SQL": gone from the spec
        result_spec.limit = None
        kwargs["extra"] = 1
        return [dict(t) for t in self.master.things.values() if name in (None, t["name"])]

    monkeypatch.setattr(ThingsEndpoint, "get", consuming_get)
    for i in (1, 2, 3):
        await master.data.updates.addThing(f"t{i}")
    await master.start_www()
    bodies = []
    for _ in range(3):
        code, body, _ = await get_json(master.url("api/v2/things?name=t2&limit=5"))
        assert code == 200
        bodies.append(body)
    assert bodies[0]["things"] == [master.things[2]]
    assert bodies[1] == bodies[0] == bodies[2]
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][1] == 5 and [f.field for f in seen[0][0]] == ["name"]
    # another query string is parsed on its own
    code, body, _ = await get_json(master.url("api/v2/things?name=t3"))
    assert [t["name"] for t in body["things"]] == ["t3"]


@pytest_twisted.ensureDeferred
async def test_bad_query_is_refused_every_time(master: WebMaster) -> None:
    await master.start_www()
    for _ in range(2):
        code, body, _ = await get_json(master.url("api/v2/things?nosuchfield=1"))
        assert code == 400
        assert "nosuchfield" in body["error"]


def test_compact_encoding_of_datetimes_and_other_values_matches_json_default() -> None:
    utc = datetime.UTC
    aware = datetime.datetime(2024, 5, 1, 12, 0, 7, tzinfo=utc)
    naive = datetime.datetime(2024, 5, 1, 12, 0, 7)  # noqa: DTZ001 - naive means UTC
    other_tz = aware.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    epoch = int(aware.timestamp())
    for _ in range(2):  # first from json_default, then from the remembered epochs
        assert dumps({"a": aware, "n": naive, "o": other_tz}) == \
            f'{{"a":{epoch},"n":{epoch},"o":{epoch}}}'
    # values the lookup cannot hash, or that are not datetimes, as json_default has them
    assert dumps({"s": {3, 1}, "f": frozenset({2}), "x": object()}) == \
        '{"f":[2],"s":[1,3],"x":null}'
    items = [{"t": aware, "tags": {"b", "a"}}, {"t": None}]
    assert "".join(envelope_chunks("things", items, {"total": 2}, True)) == \
        f'{{"meta":{{"total":2}},"things":[{{"t":{epoch},"tags":["a","b"]}},{{"t":null}}]}}'


@pytest.mark.parametrize("meta", [{"total": 0}, {"total": 12}, {}, {"total": None},
                                  {"total": True}, {"total": 3, "x": 1}])
def test_envelope_meta_is_encoded_like_json_dumps(meta: dict[str, Any]) -> None:
    expected = json.dumps({"builds": [{"a": 1}], "meta": meta}, sort_keys=True,
                          separators=(",", ":"))
    assert "".join(envelope_chunks("builds", [{"a": 1}], meta, True)) == expected


@pytest.mark.parametrize(("uri", "agent", "referer", "address"), [
    (b"/api/v2/builds?limit=50", b"python-requests/2.31", None, "ipv4"),
    (b"/api/v2/x\"y'z\\\x01\xff", b'agent "quoted"', b"http://ref/'a'", "ipv6"),
    (b"/", None, None, "unix"),
    (b"/" + b"a" * 600, b"", b"", "ipv4"),
])
def test_access_log_lines_are_twisteds(uri: bytes, agent: bytes | None, referer: bytes | None,
                                       address: str) -> None:
    from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
    from twisted.web.http import combinedLogFormatter
    from twisted.web.test.requesthelper import DummyRequest

    from buildbot.www.service import access_log_line

    request = DummyRequest([b""])
    request.uri, request.method, request.clientproto = uri, b"GET", b"HTTP/1.1"
    request.code, request.sentLength = 200, 1234
    if agent is not None:
        request.requestHeaders.setRawHeaders(b"user-agent", [agent])
    if referer is not None:
        request.requestHeaders.setRawHeaders(b"referer", [referer])
    request.client = {"ipv4": IPv4Address("TCP", "10.1.2.3", 5),
                      "ipv6": IPv6Address("TCP", "::1", 5),
                      "unix": UNIXAddress(b"/tmp/sock")}[address]
    for _ in range(2):  # escaped, then remembered
        assert access_log_line("[07/Dec/2026:23:00:00 +0000]", request) == \
            combinedLogFormatter("[07/Dec/2026:23:00:00 +0000]", request)
    request.sentLength = 0
    assert access_log_line("t", request) == combinedLogFormatter("t", request)
