"""OAuth2 code flow against a local twisted.web resource playing the provider."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import pytest_twisted
from twisted.web import resource, server

import requests

from buildbot.www.oauth2 import BitbucketAuth, GitHubAuth, GitLabAuth, GoogleAuth, OAuth2Auth
from buildbot.www.resource import HttpError
from tests.www.harness import WebMaster, http


class FakeProvider(resource.Resource):
    """Token endpoint plus the user APIs of the four providers."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.token_forms: list[dict[bytes, list[bytes]]] = []
        self.token_auth: list[bytes | None] = []
        self.fail_token = False
        self.queries: list[str] = []
        self.params: list[dict[bytes, list[bytes]]] = []

    def graphql(self, request: server.Request) -> bytes:
        """GitHub's GraphQL API: the viewer, then the teams of each organization alias."""
        assert request.getHeader(b"authorization") == b"token T0K"
        query = json.loads(request.content.read())["query"]
        self.queries.append(query)
        if "viewer" in query:
            return json.dumps({"data": {"viewer": {
                "name": "Ada L", "email": "ada@x.org", "login": "ada",
                "organizations": {"edges": [{"node": {"login": "org-1"}},
                                            {"node": {"login": "locked"}}]}}}}).encode()
        team = {"teams": {"edges": [{"node": {"name": "Core Devs", "slug": "core-devs"}}]}}
        return json.dumps({"data": {"org_1": team, "locked": None}}).encode()

    def render_POST(self, request: server.Request) -> bytes:
        request.setHeader(b"connection", b"close")
        request.setHeader(b"content-type", b"application/json")
        if request.path == b"/graphql":
            return self.graphql(request)
        self.token_forms.append(dict(request.args or {}))
        self.token_auth.append(request.getHeader(b"authorization"))
        if self.fail_token:
            return json.dumps({"error": "bad_verification_code",
                               "error_description": "The code is wrong"}).encode()
        return json.dumps({"access_token": "T0K", "token_type": "bearer"}).encode()

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"connection", b"close")
        request.setHeader(b"content-type", b"application/json")
        auth = request.getHeader(b"authorization") or b""
        if not auth.endswith(b"T0K"):
            request.setResponseCode(401)
            return b"{}"
        path = request.path.decode()
        self.params.append(dict(request.args or {}))
        answers: dict[str, Any] = {
            "/user": {"name": "Ada L", "email": None, "login": "ada", "username": "ada",
                      "display_name": "Ada L", "avatar_url": "http://a/p.png"},
            "/user/emails": [{"email": "ada@x.org", "primary": True}],
            "/user/orgs": [{"login": "org1"}, {"login": "org2"}],
            "/api/v4/user": {"name": "Ada L", "email": "ada@x.org", "username": "ada",
                             "avatar_url": "http://a/p.png"},
            "/api/v4/groups": [{"full_path": "grp/sub", "path": "sub"}],
            "/userinfo": {"name": "Ada L", "email": "ada@x.org", "picture": "http://a/p.png"},
            "/bb/user": {"display_name": "Ada L", "username": "ada"},
            "/bb/user/emails": {"values": [{"email": "ada@x.org", "is_primary": True}]},
            "/bb/workspaces": {"values": [{"slug": "ws1"}]},
        }
        return json.dumps(answers[path]).encode()


@pytest_twisted.async_yield_fixture
async def provider() -> AsyncIterator[tuple[FakeProvider, str]]:
    from twisted.internet import endpoints, reactor

    fake = FakeProvider()
    port = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        server.Site(fake))
    try:
        yield fake, f"http://127.0.0.1:{port.getHost().port}"
    finally:
        await port.stopListening()


def _github(base: str) -> GitHubAuth:
    auth = GitHubAuth("cid", "csecret")
    auth.authUri, auth.tokenUri, auth.resourceEndpoint = (
        f"{base}/authorize", f"{base}/token", base)
    return auth


async def _login(master: WebMaster, code: str = "C0DE", state: str = "redirect%3D%2Fbuilds"
                 ) -> Any:
    return await http.get(master.url(f"auth/login?code={code}&state={state}"))


async def _user(master: WebMaster, cookie: str | None) -> dict[str, Any]:
    res = await http.get(master.url("config"), headers={"Cookie": f"TWISTED_SESSION={cookie}"})
    return (await res.json())["user"]  # type: ignore[no-any-return]  # JSON


@pytest_twisted.ensureDeferred
async def test_login_redirects_to_provider(master: WebMaster,
                                           provider: tuple[FakeProvider, str]) -> None:
    _, base = provider
    await master.start_www(auth=_github(base))
    res = await http.get(master.url("auth/login?redirect=/builds"))
    assert res.code == 302
    loc = urlparse(res.headers.getRawHeaders("location")[0])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == f"{base}/authorize"
    query = parse_qs(loc.query)
    assert query == {"client_id": ["cid"],
                     "redirect_uri": [f"{master.config.buildbotURL}auth/login"],
                     "response_type": ["code"], "state": ["redirect=%2Fbuilds"],  # 4.3 encodes it
                     "scope": ["user:email read:org"]}
    assert [k for k, _ in [p.split("=", 1) for p in loc.query.split("&")]] == sorted(query)


@pytest_twisted.ensureDeferred
async def test_github_code_exchange_sets_session(master: WebMaster,
                                                 provider: tuple[FakeProvider, str]) -> None:
    fake, base = provider
    await master.start_www(auth=_github(base))
    res = await _login(master)
    assert res.code == 302
    assert res.headers.getRawHeaders("location") == [f"{master.config.buildbotURL}#/builds"]
    assert await _user(master, res.cookie()) == {
        "full_name": "Ada L", "email": "ada@x.org", "username": "ada",
        "groups": ["org1", "org2"]}
    form = fake.token_forms[0]
    assert form[b"code"] == [b"C0DE"] and form[b"client_secret"] == [b"csecret"]
    assert form[b"grant_type"] == [b"authorization_code"]
    config = await (await http.get(master.url("config"))).json()
    assert config["auth"] == {"name": "GitHub", "oauth2": True, "fa_icon": "fa-github",
                              "autologin": False}


@pytest_twisted.ensureDeferred
async def test_token_error_is_503(master: WebMaster,
                                  provider: tuple[FakeProvider, str]) -> None:
    fake, base = provider
    fake.fail_token = True
    await master.start_www(auth=_github(base))
    res = await _login(master)
    assert (res.code, res.body) == (503, b"OAuth2 session: creation failed: The code is wrong")


@pytest.mark.parametrize("kind", ["gitlab", "google", "bitbucket"])
@pytest_twisted.ensureDeferred
async def test_other_providers(master: WebMaster, provider: tuple[FakeProvider, str],
                               kind: str) -> None:
    fake, base = provider
    auth: Any
    if kind == "gitlab":
        auth = GitLabAuth(base, "cid", "cs")
        expected = {"full_name": "Ada L", "email": "ada@x.org", "username": "ada",
                    "avatar_url": "http://a/p.png", "groups": ["sub"]}
    elif kind == "google":
        auth = GoogleAuth("cid", "cs")
        auth.tokenUri, auth.resourceEndpoint = f"{base}/token", base
        expected = {"full_name": "Ada L", "email": "ada@x.org", "username": "ada",
                    "avatar_url": "http://a/p.png"}
    else:
        auth = BitbucketAuth("cid", "cs")
        auth.tokenUri, auth.resourceEndpoint = f"{base}/token", f"{base}/bb"
        expected = {"full_name": "Ada L", "email": "ada@x.org", "username": "ada",
                    "groups": ["ws1"]}
    await master.start_www(auth=auth)
    res = await _login(master, state="")
    assert res.headers.getRawHeaders("location") == [f"{master.config.buildbotURL}#/"]
    assert await _user(master, res.cookie()) == expected
    # as in 4.3, the client credentials travel in the form unless getTokenUseAuthHeaders
    assert fake.token_auth == [None]
    assert fake.token_forms[0][b"client_secret"] == [b"cs"]


@pytest_twisted.ensureDeferred
async def test_state_with_foreign_target_stays_home(master: WebMaster,
                                                    provider: tuple[FakeProvider, str]) -> None:
    _, base = provider
    await master.start_www(auth=_github(base))
    res = await _login(master, state="redirect%3Dhttps%3A%2F%2Fevil.example%2F")
    assert res.headers.getRawHeaders("location") == [f"{master.config.buildbotURL}#/"]


@pytest_twisted.ensureDeferred
async def test_github_v4_with_teams(master: WebMaster,
                                    provider: tuple[FakeProvider, str]) -> None:
    fake, base = provider
    auth = GitHubAuth("cid", "csecret", serverURL=base + "/", apiVersion=4,
                      getTeamsMembership=True)
    assert (auth.resourceEndpoint, auth.apiResourceEndpoint) == (
        f"{base}/api/v3", f"{base}/api/graphql")
    auth.apiResourceEndpoint = f"{base}/graphql"
    await master.start_www(auth=auth)
    res = await _login(master)
    assert await _user(master, res.cookie()) == {
        "full_name": "Ada L", "email": "ada@x.org", "username": "ada",
        "groups": ["org-1", "locked", "org-1/Core Devs", "org-1/core-devs"]}
    teams_query = fake.queries[1]
    assert 'org_1: organization(login: "org-1")' in teams_query
    assert 'userLogins: ["ada"]' in teams_query
    assert "{{" not in teams_query and "{{" in auth.getUserTeamsGraphqlTpl
    with pytest.raises(ValueError, match="only possible using GitHub api v4"):
        GitHubAuth("cid", "cs", getTeamsMembership=True)


class CorporateAuth(OAuth2Auth):
    """A provider written against 4.3's contract: blocking session, `self.get`."""

    name = "Corp"
    faIcon = "fa-building"

    def getUserInfoFromOAuthClient(self, c: Any) -> dict[str, Any]:
        assert isinstance(c, requests.Session)
        me = self.get(c, "/user")
        return {"username": me["login"], "email": me["email"], "full_name": me["name"],
                "groups": [o["login"] for o in self.get(c, "/user/orgs")]}


@pytest_twisted.ensureDeferred
async def test_subclass_written_for_4_3(master: WebMaster,
                                        provider: tuple[FakeProvider, str]) -> None:
    fake, base = provider
    auth = CorporateAuth("cid", "cs")
    auth.authUri, auth.tokenUri, auth.resourceEndpoint = (
        f"{base}/authorize", f"{base}/token", base)
    await master.start_www(auth=auth)
    assert auth.homeUri == master.config.buildbotURL
    assert auth.loginUri == f"{master.config.buildbotURL}auth/login"
    login_url = await auth.getLoginURL(b"/builders/1?x=y")
    assert parse_qs(urlparse(login_url).query)["state"] == ["redirect=%2Fbuilders%2F1%3Fx%3Dy"]
    res = await _login(master)
    assert await _user(master, res.cookie()) == {
        "username": "ada", "email": None, "full_name": "Ada L", "groups": ["org1", "org2"]}
    # the base session carries the token as 4.3's (query parameter) and as a bearer header
    assert fake.params[0] == {b"access_token": [b"T0K"]}
    session = auth.createSessionFromToken({"access_token": "abc"})
    assert (session.params, session.headers["Authorization"]) == (
        {"access_token": "abc"}, "Bearer abc")
    with pytest.raises(HttpError) as e:
        auth.createSessionFromToken({"error": "nope", "error_description": "Bad code"})
    assert (e.value.status, e.value.message) == (503, "OAuth2 session: creation failed: Bad code")
