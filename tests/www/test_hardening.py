"""Hostile and faulty requests: every one gets an answer (a 4xx naming the problem), none
gets through, and the master keeps serving.

What must stay true (issue 10): forbidden control refused and harmless, cross-origin POSTs
refused, no open redirect, no path traversal, badly signed hooks refused and storing
nothing, a private site refusing anonymous reads over REST, WebSocket and SSE, huge and
deeply nested bodies refused with flat memory, oversized request lines, headers and query
strings answered (414/431/400), sessions that end at logout and at expiry, many clients
served without error, and usage data never sent anywhere.
"""

from __future__ import annotations

import base64
import datetime
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, protocol, task, threads

from buildbot.www.auth import UserPasswordAuth, safe_redirect_route
from buildbot.www.authz import Authz
from buildbot.www.authz.endpointmatchers import AnyControlEndpointMatcher, AnyEndpointMatcher
from buildbot.www.authz.roles import RolesFromDomain, RolesFromUsername
from buildbot.www.channel import MAX_BODY
from buildbot.www.service import WWWService
from tests.www.harness import (
    HandshakeRefused,
    WebMaster,
    WsClient,
    get_json,
    http,
    post_jsonrpc,
    with_timeout,
)
from tests.www.test_hooks import PUSH

AUTH = UserPasswordAuth({"alice@x.org": "pw", "admin": "pw"})
PRIVATE = Authz(allowRules=[AnyEndpointMatcher(role="users")],
                roleMatchers=[RolesFromDomain(users=["x.org"])])


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()}


def _cookie(c: str | None) -> dict[str, str]:
    return {"Cookie": f"TWISTED_SESSION={c}"} if c else {}


def _ws_url(master: WebMaster) -> str:
    return master.url("ws").replace("http", "ws")


async def _login(master: WebMaster, user: str = "alice@x.org") -> tuple[str, list[str]]:
    """(cookie value, raw Set-Cookie headers) of a password login."""
    res = await http.get(master.url("auth/login"), headers=_basic(user))
    assert res.code == 302, f"login of {user} failed"
    cookie = res.cookie()
    assert cookie is not None
    return cookie, res.headers.getRawHeaders("set-cookie") or []


class RawExchange(protocol.Protocol):
    """Sends `data` as is and collects everything the server answers until it closes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.received = b""
        self.done: defer.Deferred[bytes] = defer.Deferred()

    def connectionMade(self) -> None:
        self.transport.write(self.data)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:
        if not self.done.called:
            self.done.callback(self.received)


async def _raw(master: WebMaster, data: bytes) -> tuple[int, bytes]:
    """(status, body) of a raw request; the server must answer and close."""
    from twisted.internet import reactor

    client = RawExchange(data)
    await protocol.ClientCreator(reactor, lambda: client).connectTCP(
        "127.0.0.1", master.www.port_number)
    answer = await with_timeout(client.done, "the server to answer and close")
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


async def _still_serving(master: WebMaster) -> None:
    code, body, _ = await get_json(master.url("api/v2/things"))
    assert code == 200 and body["meta"]["total"] == len(master.things)


# -- oversized and malformed requests: an HTTP answer, never a dropped connection -----------

@pytest.mark.parametrize(("request_bytes", "status", "says"), [
    (b"GET /api/v2/things?name=" + b"x" * 100_000 + b" HTTP/1.1\r\nHost: h\r\n\r\n",
     414, b"request line longer than"),
    (b"GET /api/v2/things?" + b"&".join(b"thingid__in=%d" % i for i in range(20_000))
     + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414, b"request line longer than"),
    (b"GET /api/v2/things HTTP/1.1\r\nHost: h\r\nX-Big: " + b"y" * 100_000 + b"\r\n\r\n",
     431, b"request header line longer than"),
    (b"GET /api/v2/things HTTP/1.1\r\nHost: h\r\n"
     + b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n",
     431, b"request headers exceed"),
    (b"GET /api/v2/things HTTP/1.1\r\nHost: h\r\n"
     + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(100)) + b"\r\n",
     431, b"request headers exceed"),
    (b"NONSENSE\r\n\r\n", 400, b"malformed HTTP request"),
    (b"POST /api/v2/things/1 HTTP/1.1\r\nHost: h\r\nContent-Length: nope\r\n\r\n",
     400, b"malformed HTTP request"),
    (b"POST /api/v2/things/1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
     b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413, b"larger than"),
])
@pytest_twisted.ensureDeferred
async def test_oversized_or_malformed_request_is_answered_and_master_keeps_serving(
        master: WebMaster, request_bytes: bytes, status: int, says: bytes) -> None:
    await master.data.updates.addThing("t1")
    await master.start_www()
    code, body = await _raw(master, request_bytes)
    assert code == status
    assert says in body
    await _still_serving(master)


@pytest_twisted.ensureDeferred
async def test_thousands_of_query_parameters_are_answered(master: WebMaster) -> None:
    for i in range(3):
        await master.data.updates.addThing(f"t{i}")
    await master.start_www()
    query = "&".join(f"thingid__in={i}" for i in range(1, 3001))
    code, body, _ = await get_json(master.url(f"api/v2/things?{query}"))
    assert (code, body["meta"]["total"]) == (200, 3)
    query = "&".join(f"x{i}=1" for i in range(3000))
    code, body, _ = await get_json(master.url(f"api/v2/things?{query}"))
    assert (code, body) == (400, {"error": "unrecognized query parameter 'x0'"})


@pytest.mark.parametrize(("query", "message"), [
    ("limit=99999999999999999999",
     "invalid limit: 99999999999999999999 is not between 0 and 9223372036854775807"),
    ("limit=-1", "invalid limit: -1 is not between 0 and 9223372036854775807"),
    ("offset=-5", "invalid offset: -5 is not between 0 and 9223372036854775807"),
    ("thingid__foo=1", ("invalid filter operator 'foo' in 'thingid__foo' (known: contains, "
                        "eq, ge, gt, in, le, lt, ne, notin)")),
    ("nothing__eq=1", "unrecognized query parameter 'nothing__eq'"),
    ("thingid__lt=1&thingid__lt=2", "'thingid__lt' takes a single value"),
    ("thingid=123456789012345678901", "invalid filter value for thingid: out of range"),
])
@pytest_twisted.ensureDeferred
async def test_bad_query_is_400_naming_the_problem(master: WebMaster, query: str,
                                                   message: str) -> None:
    await master.data.updates.addThing("t1")
    await master.start_www()
    code, body, _ = await get_json(master.url(f"api/v2/things?{query}"))
    assert (code, body) == (400, {"error": message})


@pytest_twisted.ensureDeferred
async def test_id_beyond_any_database_is_400(master: WebMaster) -> None:
    await master.start_www()
    huge = "1" * 26
    code, body, _ = await get_json(master.url(f"api/v2/things/{huge}"))
    assert (code, body) == (400, {"error": f"invalid path: id {huge} is out of range"})
    code, body = await post_jsonrpc(master.url(f"api/v2/things/{huge}"), {
        "jsonrpc": "2.0", "method": "poke", "id": 1, "params": {}})
    assert (code, body["error"]) == (400, {"code": -32600, "message":
                                           f"invalid path: id {huge} is out of range"})
    assert master.control_calls == []


# -- huge and deeply nested bodies ----------------------------------------------------------

def _memory_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak_memory() -> None:
    """Start VmHWM (peak resident memory) afresh: a short spike is seen even between two
    samples."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _send_streamed(port: int, head: bytes, chunks: int, chunk: bytes) -> bytes:
    """(In a thread.) Send `head` then `chunks` times `chunk`; return what the server said."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        try:
            for _ in range(chunks):
                s.sendall(chunk)
        except OSError:
            pass  # the server may stop reading: its answer is what matters
        answer = b""
        while True:
            try:
                data = s.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
        return answer


@pytest.mark.integration
@pytest.mark.parametrize("chunked", [False, True])
@pytest_twisted.ensureDeferred
async def test_100_mb_body_is_refused_with_flat_memory(master: WebMaster,
                                                       chunked: bool) -> None:
    await master.start_www()
    size, piece = 100 * 1024 * 1024, b"[" * 65536
    if chunked:
        head = (b"POST /change_hook/base HTTP/1.1\r\nHost: h\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
    else:
        head = (b"POST /api/v2/things/1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/json"
                b"\r\nContent-Length: %d\r\n\r\n" % size)
    start = _memory_mb()
    _reset_peak_memory()
    answer = await threads.deferToThread(_send_streamed, master.www.port_number, head,
                                         size // 65536, piece)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    peak = _memory_mb("VmHWM")
    assert peak - start < 30, f"memory grew by {peak - start:.0f} MB"
    assert master.control_calls == [] and master.changes == []
    await _still_serving(master)


@pytest_twisted.ensureDeferred
async def test_deeply_nested_json_rpc_body_is_a_parse_error(master: WebMaster) -> None:
    await master.start_www()
    code, body = await post_jsonrpc(master.url("api/v2/things/1"), b"[" * 1_000_000)
    assert code == 400
    assert body["error"]["code"] == -32700
    assert body["error"]["message"].startswith("JSON parse error: ")
    assert master.control_calls == []


@pytest_twisted.ensureDeferred
async def test_deeply_nested_websocket_frame_gets_the_invalid_frame_reply(
        master: WebMaster) -> None:
    await master.start_www()
    ws = await WsClient.connect(_ws_url(master))
    ws.send_raw(b"[" * 200_000)
    assert await ws.next("the invalid frame reply") == {
        "error": "invalid JSON in websocket frame", "code": 400, "_id": None}
    assert await ws.call(cmd="ping", _id=2) == {"msg": "pong", "code": 200, "_id": 2}
    await ws.close()


@pytest_twisted.ensureDeferred
async def test_sse_pattern_no_event_can_match_is_404(master: WebMaster) -> None:
    await master.start_www()
    res = await http.get(master.url("sse/nosuch/*/*"))
    assert (res.code, res.body) == (404, b"not implemented")
    res = await http.get(master.url("sse/listen/nosuch"))
    assert (res.code, res.body) == (404, b"not implemented")


# -- cross-origin requests, redirects, paths -------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_cors_rejects_unknown_origin(master: WebMaster) -> None:
    await master.start_www(allowed_origins=["https://ok.org"])
    code, body, _ = await get_json(master.url("api/v2/things"),
                                   headers={"Origin": "https://evil.org"})
    assert (code, body) == (400, {"error": "invalid origin"})
    res = await http.post(master.url("api/v2/things/1"), data=b"{}",
                          headers={"Origin": "https://evil.org",
                                   "Content-Type": "application/json"})
    assert (res.code, json.loads(await res.content())) == (
        400, {"error": {"message": "invalid origin"}})
    assert master.control_calls == []


@pytest.mark.parametrize(("given", "route"), [
    (None, "/"),
    ("/builders/1", "/builders/1"),
    ("/x\r\nSet-Cookie: a=b", "/x"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("javascript:alert(1)", "/"),
])
def test_redirect_targets_stay_on_our_ui(given: str | None, route: str) -> None:
    assert safe_redirect_route(given) == route


@pytest_twisted.ensureDeferred
async def test_login_and_logout_never_redirect_elsewhere(master: WebMaster) -> None:
    await master.start_www(auth=AUTH)
    base = master.config.buildbotURL
    for target, expected in (("/a%0d%0aX-Evil:%201", f"{base}#/a"),
                             ("https://evil.example/", f"{base}#/"),
                             ("//evil.example", f"{base}#/")):
        res = await http.get(master.url(f"auth/login?redirect={target}"),
                             headers=_basic("alice@x.org"))
        assert res.headers.getRawHeaders("location") == [expected]
        assert res.headers.getRawHeaders("x-evil") is None
        res = await http.get(master.url(f"auth/logout?redirect={target}"))
        assert res.headers.getRawHeaders("location") == [expected]


@pytest.mark.parametrize("path", [
    "../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "assets/..%2f..%2f..%2f..%2fetc%2fpasswd", "..%5c..%5cetc%5cpasswd",
    "plugins/base/../../../../etc/passwd", "avatar/../../etc/passwd",
    "api/v2/../../../../etc/passwd", "api/v2/builds/..%2f..%2fetc%2fpasswd",
    "%2fetc%2fpasswd", "index.html/../../etc/passwd",
])
@pytest_twisted.ensureDeferred
async def test_no_path_traversal(master: WebMaster, path: str) -> None:
    await master.start_www()
    res = await _raw(master, f"GET /{path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                     .encode())
    assert res[0] in (302, 400, 404), res  # (302: /avatar's default picture)
    assert b"root:" not in res[1]


# -- hooks -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "message"), [
    ({}, b"Request has no required signature"),
    ({"X-Hub-Signature": "sha1=" + "0" * 40}, b"Hash mismatch"),
    ({"X-Hub-Signature": "garbage"}, b"Wrong signature format: garbage"),
    ({"X-Hub-Signature": "md5=00"}, b"Unknown hash type: md5"),
])
@pytest_twisted.ensureDeferred
async def test_github_bad_signatures_rejected_and_nothing_stored(
        master: WebMaster, headers: dict[str, str], message: bytes) -> None:
    await master.start_www(change_hook_dialects={"github": {"secret": "s3", "strict": True}})
    res = await http.post(master.url("change_hook/github"), data=json.dumps(PUSH).encode(),
                          headers={"Content-Type": "application/json",
                                   "X-GitHub-Event": "push", **headers})
    assert (res.code, res.body) == (400, message)
    assert master.changes == []


@pytest.mark.parametrize("dialect", ["base", "github", "gitlab", "bitbucketcloud"])
@pytest_twisted.ensureDeferred
async def test_deeply_nested_hook_payload_is_400_and_stores_nothing(master: WebMaster,
                                                                    dialect: str) -> None:
    await master.start_www(change_hook_dialects={dialect: True})
    nested = b"[" * 200_000
    if dialect == "base":
        body, ctype = b"files=" + nested, "application/x-www-form-urlencoded"
    else:
        body, ctype = nested, "application/json"
    res = await http.post(master.url(f"change_hook/{dialect}"), data=body, headers={
        "Content-Type": ctype, "X-GitHub-Event": "push", "X-Gitlab-Event": "Push Hook",
        "X-Event-Key": "repo:push"})
    assert res.code == 400, res.body[:200]
    assert master.changes == []


# -- a private site: anonymous reads refused everywhere ------------------------------------

@pytest_twisted.ensureDeferred
async def test_private_site_refuses_anonymous_reads_over_rest_ws_and_sse(
        master: WebMaster) -> None:
    await master.data.updates.addThing("t1")
    await master.start_www(auth=AUTH, authz=PRIVATE)
    res = await http.get(master.url("api/v2/things"))
    assert (res.code, await res.json()) == (403, {"error": "you need to have role 'users'"})
    assert (await http.get(master.url("api/v2/nope"))).code == 403  # before path lookup
    with pytest.raises(HandshakeRefused) as e:
        await WsClient.connect(_ws_url(master))
    assert e.value.status == 403
    res = await http.get(master.url("sse/things/*/*"))
    assert (res.code, res.body) == (403, b"you need to have role 'users'")
    alice, _ = await _login(master)
    assert (await http.get(master.url("api/v2/things"), headers=_cookie(alice))).code == 200


# -- sessions --------------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_session_cookie_is_httponly_and_samesite_lax(master: WebMaster) -> None:
    await master.start_www(auth=AUTH)
    _, set_cookies = await _login(master)
    final = set_cookies[-1].lower()
    assert "httponly" in final and "samesite=lax" in final and "secure" not in final
    anonymous = (await http.get(master.url("config"))).headers.getRawHeaders("set-cookie")
    assert "httponly" in anonymous[0].lower() and "samesite=lax" in anonymous[0].lower()


@pytest_twisted.ensureDeferred
async def test_session_cookie_is_secure_when_buildbot_url_is_https(
        master: WebMaster) -> None:
    await master.start_www(auth=AUTH)
    master.config.buildbotURL = "https://ci.example.org/"
    await master.reconfigure(auth=AUTH)
    _, set_cookies = await _login(master)
    assert "; secure" in set_cookies[-1].lower()


async def _sse_status(master: WebMaster, cookie: str) -> int:
    from twisted.internet import reactor

    from tests.www.test_sse_avatar import SseClient

    client = SseClient("/sse/things/*/*")
    client.connectionMade = lambda: client.transport.write(  # type: ignore[method-assign]  # a test's hook on the client
        f"GET /sse/things/*/* HTTP/1.1\r\nHost: x\r\nCookie: TWISTED_SESSION={cookie}\r\n\r\n"
        .encode())
    await protocol.ClientCreator(reactor, lambda: client).connectTCP(
        "127.0.0.1", master.www.port_number)
    while not client.headers_done:
        await with_timeout(task.deferLater(reactor, 0.01, lambda: None), "SSE headers")
    client.transport.loseConnection()
    return int(client.head.split(b" ")[1])


@pytest_twisted.ensureDeferred
async def test_logout_ends_the_session_for_rest_jsonrpc_ws_and_sse(
        master: WebMaster) -> None:
    await master.data.updates.addThing("t1")
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[AnyControlEndpointMatcher(role="users"), AnyEndpointMatcher(role="users")],
        roleMatchers=[RolesFromDomain(users=["x.org"])]))
    cookie, _ = await _login(master)
    poke = {"jsonrpc": "2.0", "method": "poke", "id": 1, "params": {}}
    assert (await http.get(master.url("api/v2/things"), headers=_cookie(cookie))).code == 200
    assert (await post_jsonrpc(master.url("api/v2/things/1"), poke,
                               headers=_cookie(cookie)))[0] == 200
    ws = await WsClient.connect(_ws_url(master), cookie=cookie)
    await ws.close()
    assert await _sse_status(master, cookie) == 200

    out = await http.get(master.url("auth/logout"), headers=_cookie(cookie))
    assert out.code == 302

    res = await http.get(master.url("api/v2/things"), headers=_cookie(cookie))
    assert res.code == 403
    code, body = await post_jsonrpc(master.url("api/v2/things/1"), poke,
                                    headers=_cookie(cookie))
    assert (code, body["error"]["message"]) == (403, "you need to have role 'users'")
    with pytest.raises(HandshakeRefused) as e:
        await WsClient.connect(_ws_url(master), cookie=cookie)
    assert e.value.status == 403
    assert await _sse_status(master, cookie) == 403
    assert len(master.control_calls) == 1
    # A new login is a new session: it works although the old one ended.
    again, _ = await _login(master)
    assert (await http.get(master.url("api/v2/things"), headers=_cookie(again))).code == 200


@pytest_twisted.ensureDeferred
async def test_logout_reaches_another_master_of_the_cluster(master: WebMaster,
                                                            tmp_path: Path) -> None:
    await master.start_www(auth=AUTH)
    cookie, _ = await _login(master)
    await http.get(master.url("auth/logout"), headers=_cookie(cookie))
    await master.www.tasks.wait()  # the logout is stored
    other = WWWService(master)  # a second master on the same database
    assert master.config is not None
    await other.reconfigure(master.config)
    assert other.sessions.decode(cookie) is None
    assert master.www.sessions.decode(cookie) is None


@pytest_twisted.ensureDeferred
async def test_running_master_of_a_cluster_learns_of_a_logout(master: WebMaster) -> None:
    await master.start_www(auth=AUTH)
    assert master.config is not None
    master.config.multiMaster = True
    other = WWWService(master)  # already running when the user logs out elsewhere
    await other.reconfigure(master.config)
    cookie, _ = await _login(master)
    assert other.sessions.decode(cookie) is not None
    await http.get(master.url("auth/logout"), headers=_cookie(cookie))
    await master.www.tasks.wait()
    other._revocations_synced -= 10  # its periodic refresh is due
    other.sessions.decode(cookie)  # a logged-in request starts the refresh
    await other.tasks.wait()
    assert other.sessions.decode(cookie) is None


@pytest_twisted.ensureDeferred
async def test_session_expires_on_the_server_after_cookie_expiration_time(
        master: WebMaster) -> None:
    from twisted.internet import reactor

    await master.start_www(auth=AUTH, cookie_expiration_time=datetime.timedelta(hours=1))
    clock = task.Clock()
    clock.advance(reactor.seconds())
    master.www.sessions.clock = clock
    cookie, _ = await _login(master)
    config = await (await http.get(master.url("config"), headers=_cookie(cookie))).json()
    assert config["user"]["username"] == "alice@x.org"
    clock.advance(3601)
    config = await (await http.get(master.url("config"), headers=_cookie(cookie))).json()
    assert config["user"] == {"anonymous": True}


# -- many clients ----------------------------------------------------------------------------

@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_many_rest_and_websocket_clients_without_errors(master: WebMaster) -> None:
    from buildbot.util.deferred import gather

    for i in range(50):
        await master.data.updates.addThing(f"t{i}")
    await master.start_www()
    sockets = await gather(WsClient.connect(_ws_url(master)) for _ in range(50))
    replies = await gather(ws.call(cmd="startConsuming", path="things/*/*", _id=1)
                           for ws in sockets)
    assert all(r["code"] == 200 for r in replies)
    results = await gather(get_json(master.url("api/v2/things?limit=20")) for _ in range(50))
    assert [(code, len(body["things"])) for code, body, _ in results] == [(200, 20)] * 50
    master.mq.produce(("things", "1", "update"), {"thingid": 1})
    events = await gather(ws.next("the broadcast event") for ws in sockets)
    assert all(e == {"k": "things/1/update", "m": {"thingid": 1}} for e in events)
    await gather(ws.close() for ws in sockets)


# -- a real master: control errors, forbidden control, usage data ----------------------------

def _real_config(authz: Any = None, usage: Any = None) -> Any:
    def make() -> dict[str, Any]:
        from buildbot.config.builder import BuilderConfig
        from buildbot.process.factory import BuildFactory
        from buildbot.schedulers.forcesched import ForceScheduler
        from buildbot.steps.shell import ShellCommand
        from buildbot.worker import Worker

        www: dict[str, Any] = {"port": "tcp:0:interface=127.0.0.1"}
        if authz is not None:
            www.update(auth=UserPasswordAuth({"admin": "pw", "bob": "pw"}), authz=authz)
        return {
            "workers": [Worker("w1", "pw")],
            "builders": [BuilderConfig(name="b1", workernames=["w1"],
                                       factory=BuildFactory([ShellCommand(command="true")]))],
            "schedulers": [ForceScheduler(name="force", builderNames=["b1"])],
            "www": www,
            "buildbotNetUsageData": usage,
        }
    return make


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_control_errors_on_real_resources(tmp_path: Path) -> None:
    from tests.fixtures.master import running_master

    async with running_master(tmp_path / "m", _real_config()) as bm:
        base = f"http://127.0.0.1:{bm.www.port_number}/api/v2/"

        async def call(path: str, method: str, params: dict[str, Any]) -> tuple[int, Any]:
            code, body = await post_jsonrpc(base + path, {
                "jsonrpc": "2.0", "method": method, "id": 1, "params": params})
            return code, body.get("error")

        schedid = (await get_json(base + "schedulers"))[1]["schedulers"][0]["schedulerid"]
        not_supported = {"code": -32601, "message": "action: frobnicate is not supported"}
        assert await call(f"schedulers/{schedid}", "frobnicate", {}) == (501, not_supported)
        assert await call("forceschedulers/force", "frobnicate", {}) == (501, not_supported)
        assert await call("builds/999", "stop", {}) == (
            404, {"code": -32600, "message": "build not found"})
        assert await call("buildrequests/999", "cancel", {}) == (
            404, {"code": -32600, "message": "build request not found"})
        assert await call("schedulers/999", "enable", {"enabled": False}) == (
            404, {"code": -32600, "message": "scheduler not found"})
        for builderid, message in (
                ("abc", "builderid must be a builder id (an integer), not 'abc'"),
                ([1], "builderid must be a builder id (an integer), not [1]"),
                (True, "builderid must be a builder id (an integer), not True"),
                (999, "builderid 999 is not a builder of force scheduler 'force'")):
            assert await call("forceschedulers/force", "force", {"builderid": builderid}) == (
                400, {"code": -32602, "message": message})
        workerid = (await get_json(base + "workers"))[1]["workers"][0]["workerid"]
        assert await call(f"workers/{workerid}", "pause", {"reason": ["x"]}) == (
            400, {"code": -32602, "message": {"reason": "a text is required"}})
        too_big = {"priority": "must be between -2147483647 and 2147483647"}
        assert await call("forceschedulers/force", "force", {
            "builderid": 1, "priority": 99999999999999999999}) == (
            400, {"code": -32602, "message": too_big})
        assert (await get_json(base + "buildsets"))[1]["buildsets"] == []
        _, brids = await bm.data.updates.addBuildset(
            waited_for=False, builderids=[1], sourcestamps=[{
                "codebase": "", "repository": "r", "branch": "b", "revision": "x",
                "project": ""}])
        assert await call(f"buildrequests/{brids[1]}", "set_priority", {
            "priority": 2**40}) == (400, {"code": -32602, "message": too_big})
        assert await call(f"buildrequests/{brids[1]}", "cancel", {"reason": {"a": 1}}) == (
            400, {"code": -32602, "message": {"reason": "a text is required"}})
        for query, message in (
                ("builds?limit=99999999999999999999", ("invalid limit: 99999999999999999999 "
                 "is not between 0 and 9223372036854775807")),
                ("builds?offset=-5", ("invalid offset: -5 is not between 0 and "
                 "9223372036854775807")),
                ("builds?buildid__foo=1", ("invalid filter operator 'foo' in 'buildid__foo' "
                 "(known: contains, eq, ge, gt, in, le, lt, ne, notin)")),
                ("builds/" + "9" * 26, f"invalid path: id {'9' * 26} is out of range")):
            assert (await get_json(base + query))[:2] == (400, {"error": message})


# Every control action of the data API, on existing and missing targets.
CONTROL_ATTEMPTS = [
    (path, method, params)
    for path, method, params in [
        ("forceschedulers/force", "force", {"builderNames": ["b1"]}),
        ("forceschedulers/force", "force", {"builderid": 1}),
        ("forceschedulers/force", "force", {}),
        ("builds/1", "stop", {}), ("builds/1", "rebuild", {}),
        ("builders/1/builds/1", "stop", {}), ("builders/1/builds/1", "rebuild", {}),
        ("builders/b1/builds/1", "stop", {}),
        ("buildrequests/1", "cancel", {}), ("buildrequests/1", "set_priority", {"priority": 9}),
        ("schedulers/1", "enable", {"enabled": False}),
        ("workers/1", "stop", {}), ("workers/1", "kill", {}), ("workers/1", "pause", {}),
        ("workers/1", "unpause", {}), ("builders/1/workers/1", "pause", {}),
        ("masters/1/workers/1", "kill", {}),
        ("builders/1", "stop", {}), ("masters/1", "stop", {}), ("changes/1", "stop", {}),
        ("builds/999", "stop", {}), ("workers/999", "kill", {}),
    ]
]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_forbidden_control_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    from tests.fixtures.master import running_master

    authz = Authz(allowRules=[AnyControlEndpointMatcher(role="admins")],
                  roleMatchers=[RolesFromUsername(roles=["admins"], usernames=["admin"])])
    async with running_master(tmp_path / "m", _real_config(authz)) as bm:
        base = f"http://127.0.0.1:{bm.www.port_number}/api/v2/"
        before = [(await get_json(base + p))[1] for p in ("buildsets", "schedulers", "workers")]
        login = await http.get(base.replace("api/v2/", "auth/login"), headers=_basic("bob"))
        bob = login.cookie()
        assert bob is not None
        for who in (None, bob):  # anonymous, then a logged-in user without the role
            for i, (path, method, params) in enumerate(CONTROL_ATTEMPTS):
                code, body = await post_jsonrpc(base + path, {
                    "jsonrpc": "2.0", "method": method, "id": i, "params": params},
                    headers=_cookie(who))
                assert (code, body["error"]) == (403, {
                    "code": -32600, "message": "you need to have role 'admins'"}), (path, method)
        after = [(await get_json(base + p))[1] for p in ("buildsets", "schedulers", "workers")]
        assert after == before


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_usage_data_setting_is_accepted_and_nothing_is_sent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twisted.internet import reactor

    from tests.fixtures.master import running_master

    outgoing: list[Any] = []
    for name in ("connectTCP", "connectSSL", "connectUNIX"):
        real = getattr(reactor, name)

        def record(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if args and args[0] not in ("127.0.0.1", "localhost", "::1"):
                outgoing.append(args[:2])
            return _real(*args, **kwargs)

        monkeypatch.setattr(reactor, name, record)
    called: list[Any] = []

    def usage(data: Any) -> Any:
        called.append(data)
        return data

    for setting in ("full", "basic", usage):
        async with running_master(tmp_path / str(len(called)) / str(id(setting)),
                                  _real_config(usage=setting)) as bm:
            assert bm.config.buildbotNetUsageData == setting
    assert (outgoing, called) == ([], [])
    source = Path(__file__).parents[2] / "buildbot"
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "buildbot.net/events" not in text and "phone_home" not in text, path
