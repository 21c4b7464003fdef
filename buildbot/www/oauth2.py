# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""OAuth2 login (authorization code flow) with GitHub, GitLab, Google and Bitbucket.

`GET /auth/login?redirect=<route>` sends the browser to the provider; the provider sends it
back to `/auth/login?code=...&state=...`; we exchange the code for a token (form POST to
the token URL), read the user's profile and groups with it, store them in the session and
send the browser to `<buildbotURL>#<route>`.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from twisted.logger import Logger
from twisted.web import server

from buildbot.util.internal import differs_internally
from buildbot.www.auth import AuthBase, redirect_url
from buildbot.www.httpclient import http_client
from buildbot.www.resource import AsyncResource, HttpError, query_args, redirect_to

log = Logger()


class OAuth2Auth(AuthBase):
    """Base of the OAuth2 providers: subclasses set the URLs and read the user info."""

    name = "oauth2"
    faIcon = "fa-key"
    authUri = ""
    tokenUri = ""
    resourceEndpoint = ""
    grantType = "authorization_code"
    authUriAdditionalParams: dict[str, str] = {}  # noqa: RUF012  (reference API)
    tokenUriAdditionalParams: dict[str, str] = {}  # noqa: RUF012
    getTokenUseAuthHeaders = False

    def __init__(self, clientId: Any, clientSecret: Any, autologin: bool = False,
                 ssl_verify: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.autologin = autologin
        self.ssl_verify = ssl_verify
        self.loginUri = ""
        self.homeUri = ""

    def reconfigAuth(self, master: Any, new_config: Any) -> None:
        super().reconfigAuth(master, new_config)
        base = getattr(new_config, "buildbotURL", "http://localhost:8080/")
        self.homeUri = base
        self.loginUri = f"{base}auth/login"

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": self.name, "oauth2": True, "fa_icon": self.faIcon,
                "autologin": self.autologin}

    def getLoginResource(self) -> Any:
        return OAuth2LoginResource(self.www, self)

    async def _render(self, value: Any) -> str:
        render = getattr(self.master, "render_secrets", None)
        if render is not None and not isinstance(value, str):
            value = await render(value)
        return str(value)

    async def getLoginURL(self, redirect_route: str | None) -> str:
        """The provider's authorization URL (query sorted, as the reference sends it)."""
        params = {"client_id": await self._render(self.clientId),
                  "redirect_uri": self.loginUri, "response_type": "code"}
        if redirect_route:
            params["state"] = f"redirect={redirect_route}"
        params.update(self.authUriAdditionalParams)
        return f"{self.authUri}?{urlencode(sorted(params.items()))}"

    @property
    def http(self) -> Any:
        return http_client(self.master, self.ssl_verify)

    async def get_json(self, url: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"token {token}", "Accept": "application/json",
                   "User-Agent": "Buildbot"}
        headers.update(kwargs.pop("headers", {}))
        res = await self.http.get(url, headers=headers, **kwargs)
        if not 200 <= res.code < 300:
            body = await res.content()
            raise HttpError(503, f"OAuth2 session: user info request failed: {res.code} "
                                 f"{body[:200]!r}")
        return await res.json()

    async def verifyCode(self, code: str) -> dict[str, Any]:
        """Exchange `code` for a token and return the user info."""
        client_id = await self._render(self.clientId)
        client_secret = await self._render(self.clientSecret)
        form = {"redirect_uri": self.loginUri, "code": code, "grant_type": self.grantType}
        headers = {"Accept": "application/json", "User-Agent": "Buildbot"}
        if self.getTokenUseAuthHeaders:
            pair = f"{client_id}:{client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form.update(client_id=client_id, client_secret=client_secret)
        form.update(self.tokenUriAdditionalParams)
        res = await self.http.post(self.tokenUri, data=form, headers=headers)
        text = (await res.content()).decode("utf-8", "replace")
        try:
            content: dict[str, Any] = json.loads(text)
        except ValueError:
            content = {k: v[0] for k, v in parse_qs(text).items()}
        if "error" in content or "access_token" not in content:
            desc = content.get("error_description") or content.get("error") or text[:200]
            raise HttpError(503, f"OAuth2 session: creation failed: {desc}")
        return await self.getUserInfoFromOAuthClient(content["access_token"])

    async def getUserInfoFromOAuthClient(self, token: str) -> dict[str, Any]:
        raise NotImplementedError()


class GoogleAuth(OAuth2Auth):
    """Login with a Google account (user name = the part of the email before `@`)."""

    name = "Google"
    faIcon = "fa-google-plus"
    authUri = "https://accounts.google.com/o/oauth2/auth"
    tokenUri = "https://accounts.google.com/o/oauth2/token"
    resourceEndpoint = "https://www.googleapis.com/oauth2/v1"
    authUriAdditionalParams = {  # noqa: RUF012
        "scope": "https://www.googleapis.com/auth/userinfo.email "
                 "https://www.googleapis.com/auth/userinfo.profile"}

    async def getUserInfoFromOAuthClient(self, token: str) -> dict[str, Any]:
        data = await self.get_json(f"{self.resourceEndpoint}/userinfo", token,
                                   headers={"Authorization": f"Bearer {token}"})
        email = data.get("email") or ""
        return {"full_name": data.get("name"), "email": email,
                "username": email.split("@")[0], "avatar_url": data.get("picture")}


class GitHubAuth(OAuth2Auth):
    """Login with GitHub (or GitHub Enterprise at `serverURL`); groups are the user's
    organizations (and `org/team` with `apiVersion=4, getTeamsMembership=True`)."""

    name = "GitHub"
    faIcon = "fa-github"
    authUriAdditionalParams = {"scope": "user:email read:org"}  # noqa: RUF012

    def __init__(self, clientId: Any, clientSecret: Any, serverURL: str | None = None,
                 autologin: bool = False, apiVersion: int = 3,
                 getTeamsMembership: bool = False, debug: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(clientId, clientSecret, autologin, **kwargs)
        self.apiVersion = apiVersion
        self.getTeamsMembership = getTeamsMembership
        self.debug = debug
        if serverURL is not None:
            server_url = serverURL.rstrip("/")
            self.authUri = f"{server_url}/login/oauth/authorize"
            self.tokenUri = f"{server_url}/login/oauth/access_token"
            self.resourceEndpoint = f"{server_url}/api/v3" if apiVersion == 3 \
                else f"{server_url}/api"
        else:
            self.authUri = "https://github.com/login/oauth/authorize"
            self.tokenUri = "https://github.com/login/oauth/access_token"
            self.resourceEndpoint = "https://api.github.com"
        if getTeamsMembership and apiVersion != 4:
            raise ValueError("Retrieving team membership information using GitHubAuth is "
                             "only possible using GitHub api v4.")

    async def getUserInfoFromOAuthClient(self, token: str) -> dict[str, Any]:
        if self.apiVersion == 4:
            return await self._user_info_v4(token)
        ep = self.resourceEndpoint
        user = await self.get_json(f"{ep}/user", token)
        emails = await self.get_json(f"{ep}/user/emails", token)
        orgs = await self.get_json(f"{ep}/user/orgs", token)
        email = user.get("email")
        for e in emails or []:
            if e.get("primary"):
                email = e.get("email")
                break
        return {"full_name": user.get("name"), "email": email, "username": user.get("login"),
                "groups": [o["login"] for o in orgs or []]}

    async def _user_info_v4(self, token: str) -> dict[str, Any]:
        query = ("query { viewer { email login name organizations(first: 100) { edges { "
                 "node { login" + (" teams(first: 100) { edges { node { slug } } }"
                                   if self.getTeamsMembership else "") + " } } } } }")
        res = await self.http.post(f"{self.resourceEndpoint}/graphql",
                                   json={"query": query},
                                   headers={"Authorization": f"token {token}",
                                            "User-Agent": "Buildbot"})
        data = (await res.json()).get("data", {}).get("viewer", {})
        groups: list[str] = []
        for edge in data.get("organizations", {}).get("edges", []):
            org = edge["node"]["login"]
            groups.append(org)
            for team in edge["node"].get("teams", {}).get("edges", []):
                groups.append(f"{org}/{team['node']['slug']}")
        return {"full_name": data.get("name"), "email": data.get("email"),
                "username": data.get("login"), "groups": groups}


class GitLabAuth(OAuth2Auth):
    """Login with a GitLab instance; groups are the user's group paths."""

    name = "GitLab"
    faIcon = "fa-git"

    def __init__(self, instanceUri: str, clientId: Any, clientSecret: Any,
                 **kwargs: Any) -> None:
        uri = instanceUri.rstrip("/")
        self.authUri = f"{uri}/oauth/authorize"
        self.tokenUri = f"{uri}/oauth/token"
        self.resourceEndpoint = f"{uri}/api/v4"
        super().__init__(clientId, clientSecret, **kwargs)

    async def getUserInfoFromOAuthClient(self, token: str) -> dict[str, Any]:
        bearer = {"headers": {"Authorization": f"Bearer {token}"}}
        user = await self.get_json(f"{self.resourceEndpoint}/user", token, **bearer)
        groups = await self.get_json(f"{self.resourceEndpoint}/groups", token, **bearer)
        return {"full_name": user.get("name"), "email": user.get("email"),
                "username": user.get("username"), "avatar_url": user.get("avatar_url"),
                "groups": [g.get("full_path") or g.get("path") for g in groups or []]}


class BitbucketAuth(OAuth2Auth):
    """Login with Bitbucket Cloud; groups are the user's workspace slugs."""

    name = "Bitbucket"
    faIcon = "fa-bitbucket"
    authUri = "https://bitbucket.org/site/oauth2/authorize"
    tokenUri = "https://bitbucket.org/site/oauth2/access_token"
    resourceEndpoint = "https://api.bitbucket.org/2.0"
    getTokenUseAuthHeaders = True

    async def getUserInfoFromOAuthClient(self, token: str) -> dict[str, Any]:
        bearer = {"headers": {"Authorization": f"Bearer {token}"}}
        ep = self.resourceEndpoint
        user = await self.get_json(f"{ep}/user", token, **bearer)
        emails = await self.get_json(f"{ep}/user/emails", token, **bearer)
        workspaces = await self.get_json(f"{ep}/workspaces?role=member", token, **bearer)
        email = next((e["email"] for e in (emails or {}).get("values", [])
                      if e.get("is_primary")), None)
        return {"full_name": user.get("display_name"), "email": email,
                "username": user.get("username") or user.get("nickname"),
                "groups": [w["slug"] for w in (workspaces or {}).get("values", [])]}


class OAuth2LoginResource(AsyncResource):
    """`/auth/login` for OAuth2: redirect to the provider, or finish the login."""

    isLeaf = True

    def __init__(self, www: Any, auth: OAuth2Auth) -> None:
        super().__init__(www)
        self.auth = auth

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    render_POST = render_GET

    async def _render(self, request: server.Request) -> None:
        args = query_args(request)
        code = args.get("code", [None])[0]
        if not code:
            url = await self.auth.getLoginURL(args.get("redirect", [None])[0])
            redirect_to(request, url)
            return
        user_info = await self.auth.verifyCode(code)
        session = request.getSession()
        session.user_info = user_info
        if self.auth.userInfoProvider is not None and user_info.get("username"):
            await self.auth.updateUserInfo(request)
        session.updateSession(request)
        state = args.get("state", [""])[0]
        route = parse_qs(state).get("redirect", [None])[0] if state else None
        redirect_to(request, redirect_url(self.www.buildbot_url, route))


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
for _cls in (OAuth2LoginResource,):
    differs_internally(_INTERNAL_WHY)(_cls)
