"""SSE streams and the /avatar endpoint."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, protocol

from buildbot.www.avatar import AvatarBase, AvatarGravatar
from tests.www.harness import WebMaster, http, with_timeout


class SseClient(protocol.Protocol):
    """Reads a raw HTTP event stream and splits it into events."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.buffer = b""
        self.events: defer.DeferredQueue[tuple[str, str]] = defer.DeferredQueue()
        self.headers_done = False
        self.head = b""

    def connectionMade(self) -> None:
        self.transport.write(f"GET {self.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        if not self.headers_done:
            if b"\r\n\r\n" not in self.buffer:
                return
            self.head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.headers_done = True
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            # chunked framing: keep only the event lines
            lines = [ln for ln in block.decode().splitlines()
                     if ln.startswith(("event:", "data:"))]
            fields = dict(ln.split(": ", 1) for ln in lines)
            if fields:
                self.events.put((fields.get("event", ""), fields.get("data", "")))


async def _open(master: WebMaster, path: str) -> SseClient:
    from twisted.internet import reactor

    client = SseClient(path)
    await protocol.ClientCreator(reactor, lambda: client).connectTCP(
        "127.0.0.1", master.www.port_number)
    return client


@pytest_twisted.ensureDeferred
async def test_sse_stream_handshake_events_add_remove(master: WebMaster) -> None:
    await master.start_www()
    client = await _open(master, "/sse/listen/things/*/*")
    kind, uuid = await with_timeout(client.events.get(), "the handshake event")
    assert kind == "handshake" and len(uuid) == 36
    assert b"text/event-stream" in client.head
    await master.data.updates.addThing("t1")
    kind, data = await with_timeout(client.events.get(), "the things event")
    assert kind == "event"
    assert json.loads(data) == {"key": ["things", "1", "new"], "message": {
        "thingid": 1, "name": "t1", "tags": [], "text": ""}}
    res = await http.get(master.url(f"sse/add/{uuid}/masters/*/*?x=1"))
    assert (res.code, res.body) == (200, b"ok")
    res = await http.get(master.url(f"sse/remove/{uuid}/things/*/*"))
    assert (res.code, res.body) == (200, b"ok")
    res = await http.get(master.url(f"sse/remove/{uuid}/things/*/*"))
    assert (res.code, res.body) == (404, b"consumer is not listening to this event")
    assert (await http.get(master.url("sse/add/nope/x"))).body == b"unknown uuid"
    assert (await http.get(master.url("sse/add"))).body == b"need uuid"
    master.mq.produce(("masters", "1", "started"), {"masterid": 1})
    kind, data = await with_timeout(client.events.get(), "the masters event")
    assert json.loads(data)["key"] == ["masters", "1", "started"]
    client.transport.loseConnection()
    await master.stop()
    assert master.mq.consumer_count() == 0


@pytest_twisted.ensureDeferred
async def test_avatar_gravatar_redirect(master: WebMaster) -> None:
    await master.start_www()
    res = await http.get(master.url("avatar?email=Ada@X.org&size=64"))
    digest = hashlib.md5(b"ada@x.org").hexdigest()
    assert res.code == 302
    assert res.headers.getRawHeaders("location") == [
        f"//www.gravatar.com/avatar/{digest}?d=retro&s=64"]
    res = await http.get(master.url("avatar?email=a&size=big"))
    assert res.headers.getRawHeaders("location")[0].endswith("s=32")


class PictureAvatar(AvatarBase):
    name = "picture"

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def getUserAvatar(self, email: bytes, username: bytes | None, size: int,
                      defaultAvatarUrl: str) -> Any:
        self.calls.append((email, username, size))
        return ("image/png", b"\x89PNGdata") if username == b"pic" else None


@pytest_twisted.ensureDeferred
async def test_avatar_methods_in_order_and_fallback(master: WebMaster) -> None:
    pic = PictureAvatar()
    await master.start_www(avatar_methods=[pic])
    res = await http.get(master.url("avatar?username=pic"))
    assert (res.code, res.body) == (200, b"\x89PNGdata")
    assert res.headers.getRawHeaders("content-type") == ["image/png"]
    res = await http.get(master.url("avatar?email=x"))
    assert (res.code, res.headers.getRawHeaders("location")) == (302, ["img/nobody.png"])
    config = await (await http.get(master.url("config"))).json()
    assert config["avatar_methods"] == [{"name": "picture"}]
    await master.reconfigure(avatar_methods=[])
    config = await (await http.get(master.url("config"))).json()
    assert config["avatar_methods"] == []


@pytest_twisted.ensureDeferred
async def test_avatar_redirects_are_cached(master: WebMaster) -> None:
    class Counting(AvatarGravatar):
        n = 0

        def getUserAvatar(self, *args: Any) -> Any:
            Counting.n += 1
            return super().getUserAvatar(*args)

    await master.start_www(avatar_methods=Counting())
    for _ in range(3):
        assert (await http.get(master.url("avatar?email=a@b"))).code == 302
    assert Counting.n == 1


def test_ldap_user_info_picture_types_and_missing_library() -> None:
    from buildbot.www.ldapuserinfo import LdapUserInfo

    try:
        import ldap3  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            LdapUserInfo("ldap://x", None, None, "dc=x", "(uid=%(username)s)", "cn", "mail")
    mime = LdapUserInfo.findAvatarMime
    assert mime(None, b"\xff\xd8\xff\xe0jpg") == (b"image/jpeg", b"\xff\xd8\xff\xe0jpg")  # type: ignore[arg-type]  # no request needed
    assert mime(None, b"GIF89a...") == (b"image/gif", b"GIF89a...")  # type: ignore[arg-type]  # no request needed
    assert mime(None, b"text") is None  # type: ignore[arg-type]  # no request needed


class FakeGitHubUsers:
    """Plays the GitHub users / search API for AvatarGitHub."""

    def __init__(self) -> None:
        from twisted.web import resource, server

        self.paths: list[bytes] = []
        fake = self

        class Api(resource.Resource):
            isLeaf = True

            def render_GET(self, request: server.Request) -> bytes:
                request.setHeader(b"connection", b"close")
                fake.paths.append(request.uri)
                if request.path == b"/users/octo":
                    return json.dumps({"avatar_url": "https://av/u/1?v=4"}).encode()
                if request.path == b"/search/users":
                    return json.dumps({"total_count": 0, "items": []}).encode()
                if request.path == b"/search/commits":
                    return json.dumps({"total_count": 1, "items": [
                        {"author": {"avatar_url": "https://av/u/2"}}]}).encode()
                request.setResponseCode(404)
                return b"{}"

        self.site = server.Site(Api())


@pytest_twisted.ensureDeferred
async def test_avatar_github(master: WebMaster) -> None:
    from twisted.internet import endpoints, reactor

    from buildbot.www.avatar import AvatarGitHub

    fake = FakeGitHubUsers()
    port = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        fake.site)
    try:
        await master.start_www(avatar_methods=[AvatarGitHub(
            github_api_endpoint=f"http://127.0.0.1:{port.getHost().port}", token="t")])
        res = await http.get(master.url("avatar?username=octo&size=40"))
        assert res.headers.getRawHeaders("location") == ["https://av/u/1?v=4&s=40"]
        res = await http.get(master.url("avatar?email=dev@x.org"))
        assert res.headers.getRawHeaders("location") == ["https://av/u/2?s=32"]
        # 4.3's `client`: the session the lookups went through, with the token
        from buildbot.util.httpclientservice import HTTPSession

        client = master.www.avatar_methods[0].client
        assert isinstance(client, HTTPSession)
        assert client.headers["Authorization"] == "token t"
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_an_sse_event_is_encoded_once_for_all_streams(master: WebMaster) -> None:
    # issue 16: one encoding per event, however many streams receive it
    from buildbot.www import sse
    await master.start_www()
    clients = [await _open(master, "/sse/listen/things/*/*") for _ in range(10)]
    for client in clients:
        assert (await with_timeout(client.events.get(), "handshake"))[0] == "handshake"
    before = sse._ENCODING.encoded
    for n in range(3):
        master.mq.produce(("things", str(n), "update"), {"n": n})
    for client in clients:
        got = [await with_timeout(client.events.get(), "an event") for _ in range(3)]
        assert [json.loads(data) for _, data in got] == [
            {"key": ["things", str(n), "update"], "message": {"n": n}} for n in range(3)]
        client.transport.loseConnection()
    assert sse._ENCODING.encoded - before == 3
