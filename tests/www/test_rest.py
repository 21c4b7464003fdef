"""REST `/api/v2` over real HTTP: envelope, errors, query options, HEAD, CORS, compression."""

from __future__ import annotations

import gzip
import json

import pytest
import pytest_twisted

from tests.www.harness import WebMaster, get_json, http


async def _with_things(master: WebMaster, n: int = 3, **www: object) -> None:
    for i in range(1, n + 1):
        await master.data.updates.addThing(f"t{i}", tags=["a"] if i % 2 else [])
    await master.start_www(**www)


@pytest_twisted.ensureDeferred
async def test_api_lists_versions(master: WebMaster) -> None:
    await master.start_www()
    code, body, _ = await get_json(master.url("api"))
    assert code == 200
    assert body == {"api_versions": {"v2": f"{master.config.buildbotURL}api/v2"}}


@pytest_twisted.ensureDeferred
async def test_collection_envelope_has_plural_and_total(master: WebMaster) -> None:
    await _with_things(master)
    code, body, headers = await get_json(master.url("api/v2/things?order=-thingid&limit=2"),
                                         headers={"Accept": "application/json"})
    assert code == 200
    assert [t["thingid"] for t in body["things"]] == [3, 2]
    assert body["meta"] == {"total": 3}
    assert headers.getRawHeaders("content-type") == ["application/json; charset=utf-8"]
    assert headers.getRawHeaders("server") is None


@pytest_twisted.ensureDeferred
async def test_single_item_is_a_one_element_list(master: WebMaster) -> None:
    await _with_things(master)
    code, body, _ = await get_json(master.url("api/v2/things/t2"))
    assert (code, body) == (200, {"things": [{"thingid": 2, "name": "t2", "tags": [],
                                              "text": ""}], "meta": {}})


@pytest_twisted.ensureDeferred
async def test_json_is_compact_for_json_clients_and_indented_otherwise(master: WebMaster) -> None:
    await _with_things(master, 2)
    expected = {"things": list(master.things.values()), "meta": {"total": 2}}
    res = await http.get(master.url("api/v2/things"), headers={"Accept": "application/json"})
    assert (await res.content()).decode() == json.dumps(expected, sort_keys=True,
                                                        separators=(",", ":"))
    res = await http.get(master.url("api/v2/things"))
    assert res.headers.getRawHeaders("content-type") == ["text/plain; charset=utf-8"]
    assert (await res.content()).decode() == json.dumps(expected, sort_keys=True, indent=2,
                                                        separators=(", ", ": "))


@pytest_twisted.ensureDeferred
async def test_empty_collection_and_key_after_meta_encode_like_json_dumps(
        master: WebMaster) -> None:
    await master.start_www()
    res = await http.get(master.url("api/v2/things"))
    assert (await res.content()).decode() == json.dumps({"things": [], "meta": {"total": 0}},
                                                        sort_keys=True, indent=2,
                                                        separators=(", ", ": "))
    res = await http.get(master.url("api/v2/masters"), headers={"Accept": "application/json"})
    assert (await res.content()).decode() == (
        '{"masters":[{"active":true,"last_active":0,"masterid":1,"name":"test"}],'
        '"meta":{"total":1}}')
    res = await http.get(master.url("api/v2/masters"))
    assert res.body.decode() == json.dumps(
        {"masters": [{"active": True, "last_active": 0, "masterid": 1, "name": "test"}],
         "meta": {"total": 1}}, sort_keys=True, indent=2, separators=(", ", ": "))


@pytest.mark.parametrize(("path", "status", "error"), [
    ("api/v2/nope/1", 404, "Invalid path: nope/1"),
    ("api/v2/", 404, "Invalid path: "),
    ("api/v2/things?limit=x", 400, "invalid limit"),
    ("api/v2/things?field=bogus", 400, "no such field 'bogus'"),
    ("api/v2/things?wat=1", 400, "unrecognized query parameter 'wat'"),
    ("api/v2/things/1?name=x", 400, "this is not a collection"),
])
@pytest_twisted.ensureDeferred
async def test_errors_have_status_and_json_body(master: WebMaster, path: str, status: int,
                                                error: str) -> None:
    await master.start_www()
    code, body, headers = await get_json(master.url(path))
    assert (code, body) == (status, {"error": error})
    assert headers.getRawHeaders("content-type") == ["text/plain; charset=utf-8"]


@pytest_twisted.ensureDeferred
async def test_missing_item_is_404_with_diagnostic(master: WebMaster) -> None:
    await master.start_www()
    code, body, _ = await get_json(master.url("api/v2/things/99"))
    assert code == 404
    assert body["error"].startswith("not found while getting from")


@pytest_twisted.ensureDeferred
async def test_head_has_headers_and_no_body(master: WebMaster) -> None:
    await _with_things(master)
    get = await http.get(master.url("api/v2/things"))
    get_body = await get.content()
    head = await http.head(master.url("api/v2/things"))
    assert head.code == 200
    assert await head.content() == b""
    assert head.headers.getRawHeaders("content-length") == [str(len(get_body))]


@pytest_twisted.ensureDeferred
async def test_json_cache_seconds_sets_expires(master: WebMaster) -> None:
    await master.start_www(json_cache_seconds=30)
    _, _, headers = await get_json(master.url("api/v2/things"))
    assert headers.getRawHeaders("pragma") == ["no-cache"]
    assert headers.getRawHeaders("expires")[0].endswith("GMT")


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@pytest_twisted.ensureDeferred
async def test_compression_follows_accept_encoding(master: WebMaster, coding: str) -> None:
    import brotli
    import zstandard

    await _with_things(master)
    res = await http.get(master.url("api/v2/things"), headers={"Accept-Encoding": coding})
    raw = await res.content()
    assert res.headers.getRawHeaders("content-encoding") == [coding]
    decoded = {"gzip": gzip.decompress, "br": brotli.decompress,
               "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)}[
        coding](raw)
    assert json.loads(decoded)["meta"] == {"total": 3}


@pytest_twisted.ensureDeferred
async def test_big_collection_is_streamed_and_complete(master: WebMaster) -> None:
    for i in range(3000):
        master.things[i + 1] = {"thingid": i + 1, "name": f"t{i}", "tags": [], "text": "y" * 500}
    await master.start_www()
    res = await http.get(master.url("api/v2/things"), headers={"Accept": "application/json"})
    body = json.loads(await res.content())
    assert res.headers.getRawHeaders("content-length") is None  # streamed
    assert len(body["things"]) == 3000 and body["meta"] == {"total": 3000}


# -- CORS ----------------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_cors_allowed_origin_gets_headers(master: WebMaster) -> None:
    await master.start_www(allowed_origins=["https://*.example.org"])
    code, _, headers = await get_json(master.url("api/v2/things"),
                                      headers={"Origin": "https://UI.example.org"})
    assert code == 200
    assert headers.getRawHeaders("access-control-allow-origin") == ["https://ui.example.org"]
    assert headers.getRawHeaders("access-control-max-age") == ["3600"]


@pytest_twisted.ensureDeferred
async def test_cors_preflight(master: WebMaster) -> None:
    await master.start_www(allowed_origins=["*"])
    ok = await http.request("OPTIONS", master.url("api/v2/things"),
                            headers={"Origin": "http://a", "Access-Control-Request-Method": "POST"})
    assert (ok.code, await ok.content()) == (200, b"")
    bad = await http.request("OPTIONS", master.url("api/v2/things"),
                             headers={"Origin": "http://a",
                                      "Access-Control-Request-Method": "PUT"})
    assert (bad.code, json.loads(await bad.content())) == (400, {"error": "invalid method"})


@pytest_twisted.ensureDeferred
async def test_other_methods_are_rejected(master: WebMaster) -> None:
    await master.start_www()
    res = await http.delete(master.url("api/v2/things/1"))
    assert (res.code, json.loads(await res.content())) == (400, {"error": "invalid HTTP method"})


@pytest_twisted.ensureDeferred
async def test_default_allowed_origin_is_buildbot_url(master: WebMaster) -> None:
    await master.start_www()
    origin = master.config.buildbotURL.rstrip("/")
    code, _, headers = await get_json(master.url("api/v2/things"), headers={"Origin": origin})
    assert code == 200
    assert headers.getRawHeaders("access-control-allow-origin") == [origin]


@pytest.mark.parametrize("plural", ["builds", "workers"])
@pytest.mark.parametrize("compact", [True, False])
def test_envelope_chunks_equal_one_json_dumps(plural: str, compact: bool) -> None:
    from buildbot.www.encoding import envelope_chunks

    items = [{"id": i, "nested": {"a": [1, 2], "b": None}} for i in range(450)]
    meta = {"total": 450}
    expected = json.dumps({plural: items, "meta": meta}, sort_keys=True,
                          **({"separators": (",", ":")} if compact
                             else {"indent": 2, "separators": (", ", ": ")}))
    assert "".join(envelope_chunks(plural, items, meta, compact)) == expected


@pytest_twisted.ensureDeferred
async def test_same_origin_is_never_rejected(master: WebMaster) -> None:
    """A UI reached under another host name than buildbotURL still works."""
    await master.start_www(allowed_origins=["https://ci.example.org"])
    host = master.url("").split("//")[1].rstrip("/")
    code, _, _ = await get_json(master.url("api/v2/things"), headers={
        "Origin": f"http://{host}", "Host": host})
    assert code == 200
