"""Authz matrices on REST, JSON-RPC and WebSocket: who may do what; denied changes nothing."""

from __future__ import annotations

import base64
import json

import pytest
import pytest_twisted

from buildbot.www.auth import UserPasswordAuth
from buildbot.www.authz import Authz
from buildbot.www.authz.endpointmatchers import (
    AnyControlEndpointMatcher,
    ForceBuildEndpointMatcher,
    StopBuildEndpointMatcher,
    ViewBuildsEndpointMatcher,
)
from buildbot.www.authz.roles import (
    RolesFromDomain,
    RolesFromEmails,
    RolesFromGroups,
    RolesFromOwner,
    RolesFromUsername,
)
from tests.www.harness import (
    HandshakeRefused,
    WebMaster,
    WsClient,
    http,
    post_jsonrpc,
    with_timeout,
)


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()}


async def _login(master: WebMaster, user: str) -> str:
    res = await http.get(master.url("auth/login"), headers=_basic(user))
    assert res.code == 302, f"login of {user} failed"
    cookie = res.cookie()
    assert cookie is not None
    return cookie


def _cookie(c: str | None) -> dict[str, str]:
    return {"Cookie": f"TWISTED_SESSION={c}"} if c else {}


def _setup(master: WebMaster) -> None:
    master.builders[:] = [{"builderid": 1, "name": "lin"}, {"builderid": 2, "name": "win"}]
    master.buildsets[7] = {"sourcestamps": [{"branch": "main"}],
                           "properties": {"owner": ["alice@x.org", "Force Build Form"]}}
    master.buildrequests.append({"buildrequestid": 3, "buildsetid": 7})
    master.builds[:] = [
        {"buildid": 5, "number": 1, "builder": "lin", "builderid": 1, "buildrequestid": 3,
         "complete": False, "results": None},
        {"buildid": 6, "number": 1, "builder": "win", "builderid": 2, "buildrequestid": 3,
         "complete": False, "results": None}]


AUTH = UserPasswordAuth({"alice@x.org": "pw", "admin": "pw", "bob@y.org": "pw"})


def _stop(_id: int = 1) -> dict[str, object]:
    return {"jsonrpc": "2.0", "method": "stop", "id": _id, "params": {}}


@pytest_twisted.ensureDeferred
async def test_control_needs_role_reads_do_not(master: WebMaster) -> None:
    _setup(master)
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[AnyControlEndpointMatcher(role="admins")],
        roleMatchers=[RolesFromUsername(roles=["admins"], usernames=["admin"])]))
    assert (await http.get(master.url("api/v2/builds/5"))).code == 200
    code, body = await post_jsonrpc(master.url("api/v2/builds/5"), _stop())
    assert (code, body) == (403, {"jsonrpc": "2.0", "id": 1, "error": {
        "code": -32600, "message": "you need to have role 'admins'"}})
    assert master.control_calls == []
    admin = await _login(master, "admin")
    code, body = await post_jsonrpc(master.url("api/v2/builds/5"), _stop(),
                                    headers=_cookie(admin))
    assert code == 200
    assert master.control_calls == [("stop", {"owner": "admin"}, {"buildid": 5})]


@pytest_twisted.ensureDeferred
async def test_head_counts_as_control_for_any_control_matcher(master: WebMaster) -> None:
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[AnyControlEndpointMatcher(role="admins")]))
    res = await http.head(master.url("api/v2/things"))
    assert (res.code, res.body) == (403, b"")


@pytest_twisted.ensureDeferred
async def test_stop_matcher_by_builder_and_owner_role(master: WebMaster) -> None:
    _setup(master)
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[StopBuildEndpointMatcher(builder="win", role="admins"),
                    StopBuildEndpointMatcher(role="owner")],
        roleMatchers=[RolesFromOwner(role="owner"),
                      RolesFromUsername(roles=["admins"], usernames=["admin"])]))
    alice = await _login(master, "alice@x.org")
    bob = await _login(master, "bob@y.org")
    # build 5 (lin): only the owner (alice) may stop it
    assert (await post_jsonrpc(master.url("api/v2/builds/5"), _stop(),
                               headers=_cookie(bob)))[0] == 403
    assert (await post_jsonrpc(master.url("api/v2/builds/5"), _stop(),
                               headers=_cookie(alice)))[0] == 200
    # build 6 (win): admins only, the owner is refused by the first rule
    code, body = await post_jsonrpc(master.url("api/v2/builds/6"), _stop(),
                                    headers=_cookie(alice))
    assert (code, body["error"]["message"]) == (403, "you need to have role 'admins'")
    assert [c[2] for c in master.control_calls] == [{"buildid": 5}]


@pytest_twisted.ensureDeferred
async def test_force_matcher_by_target_builder(master: WebMaster) -> None:
    _setup(master)
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[ForceBuildEndpointMatcher(builder="win", role="admins")],
        roleMatchers=[RolesFromEmails(admins=["admin"])]))
    force = {"jsonrpc": "2.0", "method": "force", "id": 1, "params": {"builderNames": ["lin"]}}
    assert (await post_jsonrpc(master.url("api/v2/forceschedulers/f"), force))[0] == 200
    force["params"] = {"builderid": 2}
    assert (await post_jsonrpc(master.url("api/v2/forceschedulers/f"), force))[0] == 403
    force["params"] = {}
    assert (await post_jsonrpc(master.url("api/v2/forceschedulers/f"), force))[0] == 403


def test_role_matchers() -> None:
    user = {"username": "u", "email": "u@dom.org", "groups": ["bb-dev", "other"]}
    assert RolesFromGroups(groupPrefix="bb-").getRolesFromUser(user) == ["dev"]
    assert RolesFromEmails(a=["u@dom.org"], b=["x"]).getRolesFromUser(user) == ["a"]
    assert RolesFromDomain(c=["dom.org"]).getRolesFromUser(user) == ["c"]
    assert RolesFromUsername(roles=["r"], usernames=["u"]).getRolesFromUser(user) == ["r"]
    assert RolesFromOwner("o").getRolesFromUser(user, "u@dom.org") == ["o"]
    assert RolesFromOwner("o").getRolesFromUser(user, "v@dom.org") == []
    with pytest.raises(ValueError, match="Usernames cannot be None"):
        RolesFromUsername(roles=["r"], usernames=[None])  # type: ignore[list-item]  # the wrong type on purpose


@pytest_twisted.ensureDeferred
async def test_default_deny_false_falls_through(master: WebMaster) -> None:
    await master.start_www(auth=AUTH, authz=Authz(allowRules=[
        AnyControlEndpointMatcher(role="admins", defaultDeny=False)]))
    call = {"jsonrpc": "2.0", "method": "poke", "id": 1, "params": {}}
    await master.data.updates.addThing("t")
    assert (await post_jsonrpc(master.url("api/v2/things/1"), call))[0] == 200


@pytest_twisted.ensureDeferred
async def test_websocket_events_filtered_by_read_authz(master: WebMaster) -> None:
    _setup(master)
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[ViewBuildsEndpointMatcher(builder="win", role="winners")],
        roleMatchers=[RolesFromEmails(winners=["bob@y.org"])]))
    url = master.url("ws").replace("http", "ws")
    anon = await WsClient.connect(url)
    bob = await WsClient.connect(url, cookie=await _login(master, "bob@y.org"))
    for ws in (anon, bob):
        await ws.call(cmd="startConsuming", path="builds/*/*", _id=1)
    master.mq.produce(("builds", "6", "update"), {"buildid": 6})  # win: hidden from anon
    master.mq.produce(("builds", "5", "update"), {"buildid": 5})  # lin: everyone
    assert await anon.next() == {"k": "builds/5/update", "m": {"buildid": 5}}
    assert await bob.next() == {"k": "builds/6/update", "m": {"buildid": 6}}
    assert await bob.next() == {"k": "builds/5/update", "m": {"buildid": 5}}
    assert (await http.get(master.url("api/v2/builds/6"))).code == 403
    await anon.close()
    await bob.close()


@pytest_twisted.ensureDeferred
async def test_websocket_from_foreign_origin_refused_when_auth_configured(
        master: WebMaster) -> None:
    await master.start_www(auth=AUTH)
    url = master.url("ws").replace("http", "ws")
    ok = await WsClient.connect(url)  # no Origin: not a browser
    await ok.close()
    host = url.split("//")[1].split("/")[0]
    same = await WsClient.connect(url, origin=f"http://{host}")
    await same.close()
    with pytest.raises(HandshakeRefused) as e:
        await WsClient.connect(url, origin="https://evil.example")
    assert e.value.status == 403


@pytest_twisted.ensureDeferred
async def test_sse_needs_read_access_and_filters_events(master: WebMaster) -> None:
    from tests.www.test_sse_avatar import _open

    _setup(master)
    await master.start_www(auth=AUTH, authz=Authz(
        allowRules=[ViewBuildsEndpointMatcher(builder="win", role="winners")],
        roleMatchers=[RolesFromEmails(winners=["bob@y.org"])]))
    client = await _open(master, "/sse/builds/*/*")
    kind, _ = await with_timeout(client.events.get(), "the handshake")
    assert kind == "handshake"
    master.mq.produce(("builds", "6", "update"), {"buildid": 6})  # hidden from anonymous
    master.mq.produce(("builds", "5", "update"), {"buildid": 5})
    kind, data = await with_timeout(client.events.get(), "the visible event")
    assert json.loads(data)["key"] == ["builds", "5", "update"]
    client.transport.loseConnection()


@pytest_twisted.ensureDeferred
async def test_matcher_methods_of_4_3(master: WebMaster) -> None:
    """The per-endpoint methods 4.3 matchers have (and custom matchers may call)."""
    from buildbot.www.authz.endpointmatchers import (
        EnableSchedulerEndpointMatcher,
        Match,
        RebuildBuildEndpointMatcher,
    )

    _setup(master)
    master.buildrequests[0]["builderid"] = 2
    authz = Authz()
    authz.master = master
    stop_win = StopBuildEndpointMatcher(builder="w*", role="r")
    stop_win.setAuthz(authz)
    assert [await stop_win.matchFromBuilderId(1), await stop_win.matchFromBuilderId(2)] == \
        [False, True]
    # a stop on a build request (as 4.3) is judged by the request's builder
    match = await stop_win.match(("buildrequests", 3), "stop")
    assert isinstance(match, Match) and match.buildrequest["buildrequestid"] == 3
    assert await stop_win.match(("builds", 5), "stop") is None
    build_ep, kwargs = master.data.getEndpoint(("builds", 6))
    match = await stop_win.match_BuildEndpoint_stop(build_ep, kwargs, {})
    assert match.build["buildid"] == 6
    rebuild = RebuildBuildEndpointMatcher(role="r")
    rebuild.setAuthz(authz)
    assert (await rebuild.match_BuildEndpoint_rebuild(build_ep, kwargs, {})).build["buildid"] == 6
    assert await rebuild.match(("builds", 6), "stop") is None
    enable = EnableSchedulerEndpointMatcher(role="r")
    enable.setAuthz(authz)
    assert isinstance(await enable.match_SchedulerEndpoint_enable(None, {}, {}), Match)
    force = ForceBuildEndpointMatcher(builder="lin", role="r")
    force.setAuthz(authz)
    sched_ep, kwargs = master.data.getEndpoint(("forceschedulers", "f"))
    assert await force.match_ForceSchedulerEndpoint_force(sched_ep, kwargs, {"builderid": 1})
    assert await force.match_ForceSchedulerEndpoint_force(
        sched_ep, kwargs, {"builderid": 2}) is None

    # owners: from the buildset, through a request or a build
    m = Match(master)
    assert await m.getOwnerFromBuildSet({"bsid": 7}) == "alice@x.org"
    assert await m.getOwnerFromBuildRequest({"buildsetid": 7}) == "alice@x.org"
    assert await m.getOwnerFromBuildsetOrBuildRequest({"buildsetid": 7}) == "alice@x.org"
    assert await m.getOwnerFromBuild(master.builds[0]) == "alice@x.org"
    assert await Match(master, build=master.builds[1]).getOwner() == "alice@x.org"
    master.buildsets[7]["properties"] = {}
    assert await Match(master, buildset={"bsid": 7}).getOwner() is None
