# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""OAuth2 login (authorization code flow) with GitHub, GitLab, Google and Bitbucket.

`GET /auth/login?redirect=<route>` sends the browser to the provider; the provider sends it
back to `/auth/login?code=...&state=...`; we exchange the code for a token (form POST to
the token URL, on the reactor), read the user's profile and groups with it, store them in
the session and send the browser to `<buildbotURL>#<route>`.

Reading the profile is the part 4.3 lets configurations override:
`getUserInfoFromOAuthClient(c)` gets a blocking `requests.Session` made by
`createSessionFromToken(token)` and calls `self.get(c, path)` (and, for GitHub's GraphQL,
`self.post(c, query)`). We keep that contract, so a subclass written for 4.3 works, and run
it in a thread so that it does not block the master.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
import requests
from twisted.internet import threads
from twisted.logger import Logger
from twisted.web import server

import buildbot
from buildbot.util.internal import differs_internally
from buildbot.www.auth import AuthBase, redirect_url
from buildbot.www.httpclient import http_client
from buildbot.www.resource import AsyncResource, HttpError, query_args, redirect_to

log = Logger()

# seconds a profile request to the provider may take (the login waits for it)
PROFILE_TIMEOUT = 30


def _text(value: str | bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class OAuth2Auth(AuthBase):
    """Base of the OAuth2 providers: subclasses set the URLs and read the user info."""

    name = "oauth2"
    faIcon = "not-defined"
    authUri: str | None = None
    tokenUri: str | None = None
    resourceEndpoint = ""
    grantType = "authorization_code"
    authUriAdditionalParams: dict[str, str] = {}  # noqa: RUF012  (reference API)
    tokenUriAdditionalParams: dict[str, str] = {}  # noqa: RUF012
    getTokenUseAuthHeaders = False
    # set from buildbotURL on each reconfiguration
    loginUri: str | None = None
    homeUri: str | None = None

    def __init__(self, clientId: Any, clientSecret: Any, autologin: bool = False,
                 ssl_verify: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # the client's credentials may be secrets (rendered when used)
        self.clientId, self.clientSecret = clientId, clientSecret
        self.autologin, self.ssl_verify = autologin, ssl_verify

    def reconfigAuth(self, master: Any, new_config: Any) -> None:
        super().reconfigAuth(master, new_config)
        self.homeUri = getattr(new_config, "buildbotURL", None) or "http://localhost:8080/"
        self.loginUri = posixpath.join(self.homeUri, "auth/login")

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

    async def getLoginURL(self, redirect_url: str | bytes | None) -> str:
        """The provider's consent page for our client; the UI route to come back to rides
        in `state` (query sorted, as 4.3 sends it)."""
        params = {"client_id": await self._render(self.clientId),
                  "redirect_uri": self.loginUri or "", "response_type": "code",
                  **self.authUriAdditionalParams}
        route = _text(redirect_url)
        if route is not None:
            params["state"] = urlencode({"redirect": route})
        return f"{self.authUri}?{urlencode(sorted(params.items()))}"

    # -- the token ------------------------------------------------------------------------
    async def verifyCode(self, code: str | bytes) -> dict[str, Any]:
        """Exchange `code` for a token and return the user info."""
        token = await self._exchange_code(_text(code) or "")
        if not token.get("error") and "access_token" not in token:
            token["error"] = "no access token in the provider's answer"
        session = self.createSessionFromToken(token)
        return await threads.deferToThread(self._profile_in_thread, session)

    async def _exchange_code(self, code: str) -> dict[str, Any]:
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
        res = await http_client(self.master, self.ssl_verify).post(
            self.tokenUri, data=form, headers=headers)
        text = (await res.content()).decode("utf-8", "replace")
        try:
            answer = json.loads(text)
        except ValueError:  # some providers answer a form-encoded body
            answer = {k: v[0] for k, v in parse_qs(text).items()}
        if not isinstance(answer, dict):
            answer = {}
        if not 200 <= res.code < 300 and "error" not in answer:
            answer["error"] = f"HTTP {res.code} from the token endpoint"
        return answer

    def createSessionFromToken(self, token: dict[str, Any]) -> requests.Session:
        """A `requests.Session` authenticated with the token answer `token` (HTTP 503 when
        the provider refused to give one)."""
        if token.get("error"):
            why = token.get("error_description") or token["error"]
            raise HttpError(503, f"OAuth2 session: creation failed: {why}")
        session = requests.Session()
        session.verify = self.ssl_verify
        access = token.get("access_token")
        if access is not None:
            # 4.3 passes the token as a query parameter; providers have been dropping that
            # in favour of the header, so we send both
            session.params = {"access_token": access}
            session.headers["Authorization"] = f"Bearer {access}"
        return session

    # -- the profile (in a thread) ----------------------------------------------------------
    def _profile_in_thread(self, session: requests.Session) -> dict[str, Any]:
        try:
            return self.getUserInfoFromOAuthClient(session)
        except requests.RequestException as e:
            raise HttpError(503, f"OAuth2 session: user info request failed: {e}") from e
        finally:
            session.close()

    def get(self, session: requests.Session, path: str) -> Any:
        """The JSON answer to GET `<resourceEndpoint><path>` (blocking)."""
        res = session.get(self.resourceEndpoint + path, timeout=PROFILE_TIMEOUT)
        res.raise_for_status()
        return res.json()

    def getUserInfoFromOAuthClient(self, c: requests.Session) -> dict[str, Any]:
        """The user's details (`username`, `full_name`, `email`, `groups`, ...) read with
        the authenticated session `c`; runs in a thread."""
        return {}


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

    def getUserInfoFromOAuthClient(self, c: requests.Session) -> dict[str, Any]:
        me = self.get(c, "/userinfo")
        return {"full_name": me["name"], "email": me["email"],
                "username": me["email"].split("@")[0], "avatar_url": me["picture"]}


# GitHub team membership: one aliased `organization` field per organization of the user
# (aliases must be GraphQL names, hence the slugs), the user's teams in each.
_GITHUB_TEAMS_QUERY = """
{%- if organizations %}
query getOrgTeamMembership {
{%- for alias, login in organizations.items() %}
  {{ alias }}: organization(login: "{{ login }}") {
    teams(first: 100 userLogins: ["{{ user_info.username }}"]) {
      edges { node { name, slug } }
    }
  }
{%- endfor %}
}
{%- endif %}
"""

_GITHUB_VIEWER_QUERY = ("query { viewer { email login name "
                        "organizations(first: 100) { edges { node { login } } } } }")


class GitHubAuth(OAuth2Auth):
    """Login with GitHub (or GitHub Enterprise at `serverURL`); groups are the user's
    organizations, plus `org/team` names and slugs with `apiVersion=4,
    getTeamsMembership=True`."""

    name = "GitHub"
    faIcon = "fa-github"
    authUri = "https://github.com/login/oauth/authorize"
    tokenUri = "https://github.com/login/oauth/access_token"
    resourceEndpoint = "https://api.github.com"
    authUriAdditionalParams = {"scope": "user:email read:org"}  # noqa: RUF012
    getUserTeamsGraphqlTpl = _GITHUB_TEAMS_QUERY

    def __init__(self, clientId: Any, clientSecret: Any, serverURL: str | None = None,
                 autologin: bool = False, apiVersion: int = 3,
                 getTeamsMembership: bool = False, debug: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(clientId, clientSecret, autologin, **kwargs)
        if apiVersion not in (3, 4):
            raise ValueError(f"GitHubAuth apiVersion must be 3 or 4 not {apiVersion}")
        if getTeamsMembership and apiVersion != 4:
            raise ValueError("Retrieving team membership information using GitHubAuth is "
                             "only possible using GitHub api v4.")
        self.apiVersion = apiVersion
        self.getTeamsMembership = getTeamsMembership
        self.debug = debug
        if serverURL is None:  # github.com: REST and GraphQL on the API host
            self.serverURL = self.resourceEndpoint
            self.apiResourceEndpoint = f"{self.resourceEndpoint}/graphql"
        else:  # Enterprise: both under /api of the server
            self.serverURL = serverURL.rstrip("/")
            self.authUri = f"{self.serverURL}/login/oauth/authorize"
            self.tokenUri = f"{self.serverURL}/login/oauth/access_token"
            self.resourceEndpoint = f"{self.serverURL}/api/v3"
            self.apiResourceEndpoint = f"{self.serverURL}/api/graphql"

    def createSessionFromToken(self, token: dict[str, Any]) -> requests.Session:
        session = super().createSessionFromToken(token)
        # GitHub wants its own scheme and refuses requests without a User-Agent
        session.params = {}
        session.headers.update({"Authorization": f"token {token['access_token']}",
                                "User-Agent": f"buildbot/{buildbot.version}"})
        return session

    def post(self, session: requests.Session, query: str) -> Any:
        """The JSON answer of GitHub's GraphQL API to `query` (blocking)."""
        if self.debug:
            log.info("{cls} GraphQL query to {url}:\n{query}", cls=type(self).__name__,
                     url=self.apiResourceEndpoint, query=query)
        res = session.post(self.apiResourceEndpoint, json={"query": query},
                           timeout=PROFILE_TIMEOUT)
        res.raise_for_status()
        answer = res.json()
        if self.debug:
            log.info("{cls} GraphQL answer: {answer}", cls=type(self).__name__, answer=answer)
        return answer

    def getUserInfoFromOAuthClient(self, c: requests.Session) -> dict[str, Any]:
        by_version = {3: self.getUserInfoFromOAuthClient_v3,
                      4: self.getUserInfoFromOAuthClient_v4}
        return by_version[self.apiVersion](c)

    def getUserInfoFromOAuthClient_v3(self, c: requests.Session) -> dict[str, Any]:
        """The user, primary email and organizations from the REST API."""
        me, emails, orgs = (self.get(c, path) for path in ("/user", "/user/emails", "/user/orgs"))
        primary = next((e["email"] for e in emails if e.get("primary")), me["email"])
        return {"full_name": me["name"], "email": primary, "username": me["login"],
                "groups": [org["login"] for org in orgs]}

    def getUserInfoFromOAuthClient_v4(self, c: requests.Session) -> dict[str, Any]:
        """The user and organizations (and teams, if asked for) from the GraphQL API."""
        viewer = self.post(c, _GITHUB_VIEWER_QUERY)["data"]["viewer"]
        orgs = [edge["node"]["login"] for edge in viewer["organizations"]["edges"]]
        info = {"full_name": viewer["name"], "email": viewer["email"],
                "username": viewer["login"], "groups": orgs}
        if self.getTeamsMembership and orgs:
            info["groups"] = orgs + self._teams(c, info, orgs)
        if self.debug:
            log.info("{cls} user details: {info}", cls=type(self).__name__, info=info)
        return info

    def _teams(self, c: requests.Session, info: dict[str, Any], orgs: list[str]) -> list[str]:
        by_alias = {re.sub(r"[^_a-zA-Z0-9]", "_", org): org for org in orgs}
        query = jinja2.Template(self.getUserTeamsGraphqlTpl.strip()).render(
            organizations=by_alias, user_info=info)
        answer = self.post(c, query)["data"]
        teams: set[str] = set()
        for alias, org_data in answer.items():
            # None: the organization restricts third-party access to its teams
            for edge in (org_data or {}).get("teams", {}).get("edges", []):
                org = by_alias[alias]
                teams.update((f"{org}/{edge['node']['name']}", f"{org}/{edge['node']['slug']}"))
        return sorted(teams)


class GitLabAuth(OAuth2Auth):
    """Login with a GitLab instance; groups are the paths of the user's groups."""

    name = "GitLab"
    faIcon = "fa-git"

    def __init__(self, instanceUri: str, clientId: Any, clientSecret: Any,
                 **kwargs: Any) -> None:
        super().__init__(clientId, clientSecret, **kwargs)
        site = instanceUri.rstrip("/")  # gitlab.com or a self-hosted instance
        self.authUri, self.tokenUri, self.resourceEndpoint = (
            f"{site}/oauth/authorize", f"{site}/oauth/token", f"{site}/api/v4")

    def getUserInfoFromOAuthClient(self, c: requests.Session) -> dict[str, Any]:
        me = self.get(c, "/user")
        return {"full_name": me["name"], "email": me["email"], "username": me["username"],
                "avatar_url": me["avatar_url"],
                "groups": [g["path"] for g in self.get(c, "/groups")]}


class BitbucketAuth(OAuth2Auth):
    """Login with Bitbucket Cloud; groups are the user's workspace slugs."""

    name, faIcon = "Bitbucket", "fa-bitbucket"
    resourceEndpoint = "https://api.bitbucket.org/2.0"
    authUri = "https://bitbucket.org/site/oauth2/authorize"
    tokenUri = "https://bitbucket.org/site/oauth2/access_token"

    def getUserInfoFromOAuthClient(self, c: requests.Session) -> dict[str, Any]:
        def values(path: str) -> list[dict[str, Any]]:  # Bitbucket pages its lists
            listed: list[dict[str, Any]] = self.get(c, path)["values"]
            return listed

        me = self.get(c, "/user")
        email = next((e["email"] for e in values("/user/emails") if e.get("is_primary")), None)
        return {"username": me["username"], "full_name": me["display_name"], "email": email,
                "groups": [w["slug"] for w in values("/workspaces?role=member")]}


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
