"""JSON-RPC control over POST /api/v2/<path>: success, owner injection, every error code."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.www.harness import WebMaster, post_jsonrpc


def _call(method: str = "poke", params: object = None, _id: object = 1) -> dict[str, object]:
    return {"jsonrpc": "2.0", "method": method, "id": _id,
            "params": {} if params is None else params}


@pytest_twisted.ensureDeferred
async def test_control_success_returns_result_and_injects_owner(master: WebMaster) -> None:
    await master.data.updates.addThing("t1")
    await master.start_www()
    code, body = await post_jsonrpc(master.url("api/v2/things/1"),
                                    _call(params={"owner": "mallory", "x": 1}, _id=17))
    assert (code, body) == (200, {"id": 17, "jsonrpc": "2.0", "result": [1, {"3": 40}]})
    assert master.control_calls == [("poke", {"owner": "anonymous", "x": 1}, {"thingid": 1})]


@pytest.mark.parametrize(("body", "ctype", "status", "code", "message"), [
    (b"{}", "text/plain", 400, -32600, "Invalid content-type (use application/json)"),
    (b"{nope", "application/json", 400, -32700, None),
    (b"[]", "application/json", 400, -32600, "JSONRPC batch requests are not supported"),
    (b"3", "application/json", 400, -32600, "JSONRPC root object must be an object"),
    (b'{"method": "poke", "id": 1, "params": {}}', "application/json", 400, -32600,
     "missing key 'jsonrpc'"),
    (b'{"jsonrpc": "2.0", "method": 3, "id": 1, "params": {}}', "application/json", 400,
     -32600, "'method' must be a string"),
    (b'{"jsonrpc": "2.0", "method": "m", "id": [], "params": {}}', "application/json", 400,
     -32600, "'id' must be a string, number, or null"),
    (b'{"jsonrpc": "2.0", "method": "m", "id": 1, "params": []}', "application/json", 400,
     -32600, "'params' must be an object"),
    (b'{"jsonrpc": "1.0", "method": "m", "id": 1, "params": {}}', "application/json", 400,
     -32600, "only JSONRPC 2.0 is supported"),
])
@pytest_twisted.ensureDeferred
async def test_malformed_requests(master: WebMaster, body: bytes, ctype: str, status: int,
                                  code: int, message: str | None) -> None:
    await master.start_www()
    got_status, got = await post_jsonrpc(master.url("api/v2/things/1"), body,
                                         content_type=ctype)
    assert got_status == status
    assert got["error"]["code"] == code
    if message is not None:
        assert got["error"]["message"] == message
    else:
        assert got["error"]["message"].startswith("JSON parse error: ")
    assert "id" not in got
    assert master.control_calls == []


@pytest.mark.parametrize(("path", "method", "status", "code", "message"), [
    ("api/v2/nope/1", "poke", 404, -32600, "Invalid path: nope/1"),
    ("api/v2/things/1", "frobnicate", 501, -32601, "action: frobnicate is not supported"),
    ("api/v2/things/1", "validate", 400, -32602, {"reason": "too short"}),
    ("api/v2/things/1", "boom", 500, -32603, "RuntimeError('kaboom')"),
])
@pytest_twisted.ensureDeferred
async def test_control_failures(master: WebMaster, logged_errors: object, path: str,
                                method: str, status: int, code: int, message: object) -> None:
    await master.start_www()
    got_status, got = await post_jsonrpc(master.url(path), _call(method, _id="a"))
    assert (got_status, got) == (status, {"jsonrpc": "2.0", "id": "a",
                                          "error": {"code": code, "message": message}})
    if status == 500:
        logged_errors.flush(RuntimeError)  # type: ignore[attr-defined]  # an untyped fixture


@pytest_twisted.ensureDeferred
async def test_content_type_parameters_are_ignored(master: WebMaster) -> None:
    await master.start_www()
    status, got = await post_jsonrpc(master.url("api/v2/things/1"), _call(),
                                     content_type="application/json; charset=utf-8")
    assert status == 200 and got["result"] == [1, {"3": 40}]
